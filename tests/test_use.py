"""`awsv use` / `awsv off` evaluated by real shells, checked by the real AWS CLI.

Everything is real: moto's server over HTTP stands in for AWS (IAM user and
key created through its API), the key sits in the real encrypted file vault
of a temporary HOME, `eval "$(awsv use P)"` runs in `bash --noprofile --norc`,
`zsh -f` and `fish --no-config`, and `aws sts get-caller-identity` runs in the
same shell to prove the exported variables really work.

The `World` (one HOME, one vault, one moto user per test module) lives in
tests/support/use_world.py, shared with the other files that run `awsv use`.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.use_world import (  # noqa: F401  (world: a pytest fixture)
    BEFORE,
    CONTRACT,
    NASTY_SECRET,
    NASTY_TOKEN,
    UNSET_BY_USE,
    World,
    assert_session_contract,
    load,
    world,
)

STALE = "export AWS_PROFILE=stale AWS_DEFAULT_PROFILE=stale AWS_SECURITY_TOKEN=stale AWS_SESSION_TOKEN=stale-token\n"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_use_in_real_shell_then_aws_cli(world: World, shell: str, tmp_path: Path) -> None:
    """eval in bash/zsh (shell detected, no --shell), then the AWS CLI in the same shell."""
    script = (
        STALE
        + f"""
eval "$(awsv use admin)" || exit 99
aws sts get-caller-identity --output json > {tmp_path}/ident.json || exit 98
dump {tmp_path}/use.json
eval "$(awsv off)"
dump {tmp_path}/off.json
"""
    )
    r = world.shell(shell, script)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    using = rf"awsv: using 'admin' \({ACCOUNT_ID}\), expires \d\d:\d\d UTC \(in (\d+m|1h00m)\)"
    assert re.fullmatch(using, r.stderr.splitlines()[0]), r.stderr
    ident = load(tmp_path / "ident.json")
    assert ":assumed-role/Admin/" in ident["Arn"] and ident["Account"] == ACCOUNT_ID
    assert_session_contract(load(tmp_path / "use.json"), "admin", "us-east-2")
    after_off = load(tmp_path / "off.json")
    assert [name for name in CONTRACT if name in after_off] == []
    assert after_off["AWS_ENDPOINT_URL"] == world.moto  # off touches nothing else


def test_use_defaults_to_aws_profile_and_switches(world: World, tmp_path: Path) -> None:
    """`awsv use` with no name takes AWS_PROFILE; a second use replaces the first completely."""
    script = f"""
export AWS_PROFILE=admin
eval "$(awsv use --shell zsh)" || exit 99
dump {tmp_path}/first.json
eval "$(awsv use --shell zsh base)" || exit 98
aws sts get-caller-identity --output json > {tmp_path}/ident.json || exit 97
dump {tmp_path}/second.json
"""
    r = world.shell("zsh", script)
    assert r.returncode == 0, r.stderr
    first, second = load(tmp_path / "first.json"), load(tmp_path / "second.json")
    assert first["AWSV_PROFILE"] == "admin" and "AWS_PROFILE" not in first
    assert second["AWSV_PROFILE"] == second["AWS_VAULT"] == "base"
    assert second["AWS_REGION"] == "eu-west-1"
    assert second["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]
    assert second["AWS_SESSION_TOKEN"] != first["AWS_SESSION_TOKEN"]
    # GetSessionToken on moto returns its example credentials; the account still resolves.
    assert load(tmp_path / "ident.json")["Account"] == ACCOUNT_ID


def test_use_in_fish(world: World, tmp_path: Path) -> None:
    r = world.shell(
        "fish",
        f"""
set -gx AWS_PROFILE stale
awsv use --shell fish admin | source; or exit 99
aws sts get-caller-identity --output json > {tmp_path}/ident.json; or exit 98
dump {tmp_path}/use.json
awsv off --shell fish | source
dump {tmp_path}/off.json
""",
    )
    assert r.returncode == 0, r.stderr
    assert ":assumed-role/Admin/" in load(tmp_path / "ident.json")["Arn"]
    env = load(tmp_path / "use.json")
    assert env["AWSV_PROFILE"] == "admin" and "AWS_PROFILE" not in env
    assert [name for name in CONTRACT if name in load(tmp_path / "off.json")] == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_syntax_in_a_value_arrives_verbatim(world: World, shell: str, tmp_path: Path) -> None:
    """Quotes, `$(...)`, backticks and backslashes in a credential are data, never code."""
    use = (
        "awsv use --shell fish nasty | source; or exit 99" if shell == "fish" else 'eval "$(awsv use nasty)" || exit 99'
    )
    r = world.shell(shell, f"{use}\ndump {tmp_path}/env.json\n", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    env = load(tmp_path / "env.json")
    assert env["AWS_SECRET_ACCESS_KEY"] == NASTY_SECRET
    assert env["AWS_SESSION_TOKEN"] == NASTY_TOKEN
    assert env["AWS_CREDENTIAL_EXPIRATION"] == "2999-01-01T00:00:00+00:00"
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


@pytest.mark.parametrize("profile", ["$(touch pwned)", "a;b", "`touch pwned`", "x\ntouch pwned"])
def test_hostile_profile_name_is_refused_and_nothing_runs(world: World, tmp_path: Path, profile: str) -> None:
    r = world.shell(
        "bash", BEFORE + f'eval "$(awsv use "$P")"\ndump {tmp_path}/env.json\n', extra_env={"P": profile}, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == (
        f"awsv: error: profile name {profile!r} is not allowed\n"
        "awsv: hint: use letters, digits and _ . @ + = , - (starting with a letter, digit or _)\n"
    )
    assert not (tmp_path / "pwned").exists()
    env = load(tmp_path / "env.json")
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_PROFILE"], env["AWSV_PROFILE"]) == (
        "AKIABEFOREBEFORE1234",
        "keep-me",
        "earlier",
    )
    direct = world.awsv("use", "--shell", "bash", profile)
    assert direct.returncode == 1 and direct.stdout == "(builtin exit 1)\n"  # code that only fails


@pytest.mark.parametrize(
    ("args", "extra_env", "status", "message"),
    [
        ("admn", {}, "1", "awsv: error: profile 'admn' is not in {config}\nawsv: hint: did you mean admin?\n"),
        (
            "admin",
            {"AWSV_FILE_PASSPHRASE": "not the passphrase"},
            "1",
            (
                "awsv: error: wrong passphrase (from AWSV_FILE_PASSPHRASE) for the vault {vault}\n"
                "awsv: hint: check AWSV_FILE_PASSPHRASE: it holds an old or another vault's passphrase? unset it to"
                " be asked on the terminal; a damaged salt or header also shows up this way\n"
            ),
        ),
        ("admin --duration 5m", {}, "2", "awsv: error: --duration 300 is shorter than AWS allows (900s)\n"),
    ],
)
def test_failed_use_leaves_the_shell_unchanged(
    world: World, tmp_path: Path, args: str, extra_env: dict[str, str], status: str, message: str
) -> None:
    script = (
        BEFORE
        + f"""
dump {tmp_path}/before.json
out=$(awsv use --shell bash {args}); status=$?
eval "$out"
dump {tmp_path}/after.json
printf '%s|%s' "$status" "$out" > {tmp_path}/result
"""
    )
    r = world.shell("bash", script, extra_env=extra_env)
    assert r.returncode == 0, r.stderr
    # Failed, and printed only code that fails with the same status.
    assert (tmp_path / "result").read_text() == f"{status}|(builtin exit {status})"
    config = world.home / ".aws" / "config"
    vault = world.home / ".local" / "share" / "awsv" / "vault.awsv"
    assert r.stderr == message.format(config=config, vault=vault)  # one error line, at most one hint
    assert load(tmp_path / "after.json") == load(tmp_path / "before.json")


def test_no_session_exports_the_long_term_key_with_a_loud_warning(world: World, tmp_path: Path) -> None:
    r = world.shell("bash", STALE + f'eval "$(awsv use --no-session base)" || exit 99\ndump {tmp_path}/env.json\n')
    assert r.returncode == 0, r.stderr
    assert r.stderr == (
        f"awsv: warning: exporting the LONG-TERM access key of 'base' ({world.key_id}): it does not expire and"
        " gives its full permissions to anything that reads it\n"
        "awsv: warning: drop --no-session to get temporary credentials instead\n"
        f"awsv: using 'base' ({ACCOUNT_ID}), does not expire\n"
    )
    env = load(tmp_path / "env.json")
    assert env["AWS_ACCESS_KEY_ID"] == world.key_id and env["AWS_SECRET_ACCESS_KEY"] == world.secret
    for name in ("AWS_SESSION_TOKEN", "AWSV_EXPIRES", "AWS_CREDENTIAL_EXPIRATION", *UNSET_BY_USE):
        assert name not in env, name
    assert env["AWSV_PROFILE"] == "base" and env["AWSV_ACCOUNT"] == ACCOUNT_ID


def test_region_flag_and_duration(world: World, tmp_path: Path) -> None:
    r = world.shell(
        "bash", f'eval "$(awsv use admin --region ap-south-1 --duration 2h)" || exit 99\ndump {tmp_path}/env.json\n'
    )
    assert r.returncode == 0, r.stderr
    env = load(tmp_path / "env.json")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-south-1"
    assert time.time() + 7000 < int(env["AWSV_EXPIRES"]) <= time.time() + 7200 + 5


def test_use_on_a_terminal_prints_no_credentials(world: World) -> None:
    """Run without eval, the code (with secrets) would land in the scrollback: refused."""
    child = pexpect.spawn(sys.executable, ["-m", "awsv", "use", "admin"], env=world.env, encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    error, hint = child.before.splitlines()
    assert error == "awsv: error: `awsv use admin` prints shell code for your shell to evaluate"
    # The hint names the shell detected here (the one running the tests).
    assert hint.startswith('awsv: hint: run `eval "$(awsv use admin)"`, or enable the shell integration'), hint
    assert "AWS_SECRET_ACCESS_KEY" not in child.before and "ASIA" not in child.before


def test_off_with_no_session_is_harmless(world: World) -> None:
    r = world.awsv("off", "--shell", "zsh")
    assert r.returncode == 0 and r.stderr == ""
    r2 = world.shell("zsh", r.stdout + 'print -r -- "${AWS_ENDPOINT_URL}"')
    assert r2.returncode == 0 and r2.stdout.strip() == world.moto


def test_invalid_region_is_one_clean_error(world: World) -> None:
    """A malformed region fails before any request, as one line and no traceback."""
    r = world.awsv("export", "admin", "--region", "eu west", "--no-session")
    assert r.returncode == 2, r.stderr  # a bad option value is a usage error
    assert r.stdout == ""
    assert r.stderr == (
        "awsv: error: 'eu west' is not a valid AWS region name (from --region)\n"
        "awsv: hint: check --region and the profile's region\n"
    )

"""A profile whose `credential_process` runs awsv on itself (issue 9 §1).

aws-vault's recipe, and the one our users bring: the key is in the vault AND
the same profile says `credential_process = awsv exec -j default`. The
config below is the issue's, verbatim, plus a second role. Everything is
real: moto's server over HTTP, the encrypted file vault, the AWS CLI
running awsv (an `awsv` program on PATH, as a user has it) as its
credential_process, and real shells.

Without a stored key the profile must fail in one line, quickly, and no
chain of processes may ever grow (the run-time mark AWSV_RESOLVING).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from awsv.chain import SelfReference, resolve
from awsv.config import AwsConfig
from awsv.recursion import awsv_profile_of, runs_awsv_back
from tests.support.moto_server import ACCOUNT_ID, create_user_with_key, moto, moto_url  # noqa: F401
from tests.support.program_home import QUICK, Home

#: The issue's config, verbatim, then a second role on the same source.
ISSUE_CONFIG = """\
[profile default]
region = us-east-1
mfa_serial = arn:aws:iam::123456789012:mfa/admin
credential_process = awsv exec -j default

[profile prod]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = default

[profile staging]
role_arn = arn:aws:iam::123456789012:role/staging
source_profile = default
"""


@pytest.fixture
def with_key(home: Path, moto: str) -> Home:
    h = Home(home, moto, ISSUE_CONFIG)
    h.add_key("default", "admin-user")
    # The profile has mfa_serial and there is no terminal here: one code through
    # --mfa-token makes the MFA session that every later command reuses (moto
    # accepts any code).
    r = h.awsv("exec", "-j", "--mfa-token", "123456", "default", timeout=QUICK)
    assert r.returncode == 0, r.stderr
    return h


@pytest.fixture
def without_key(home: Path, moto: str) -> Home:
    return Home(home, moto, ISSUE_CONFIG)


# -- with the key in the vault: the key wins ----------------------------------------


def test_exec_json_uses_the_stored_key(with_key: Home) -> None:
    r = with_key.awsv("exec", "-j", "default", timeout=QUICK)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["Version"] == 1 and doc["SessionToken"] and doc["Expiration"]


@pytest.mark.parametrize(
    "profile,arn_part", [("default", None), ("prod", ":assumed-role/admin/"), ("staging", ":assumed-role/staging/")]
)
def test_aws_cli_with_the_verbatim_config(with_key: Home, profile: str, arn_part: str | None) -> None:
    """The AWS CLI runs `awsv exec -j default` itself (and assumes the roles itself)."""
    r = with_key.aws("sts", "get-caller-identity", "--profile", profile)
    assert r.returncode == 0, r.stderr
    ident = json.loads(r.stdout)
    assert ident["Account"] == ACCOUNT_ID
    if arn_part:
        assert arn_part in ident["Arn"]


def test_use_prod_in_bash_then_the_aws_cli(with_key: Home, tmp_path: Path) -> None:
    script = textwrap.dedent("""\
        eval "$(awsv use prod --shell bash)" || exit 99
        printf '%s\\n' "$AWSV_PROFILE"
        aws sts get-caller-identity --output json
        """)
    r = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        capture_output=True,
        text=True,
        env=with_key.env,
        timeout=QUICK * 2,
        start_new_session=True,
    )
    assert r.returncode == 0, r.stderr
    first, rest = r.stdout.split("\n", 1)
    assert first == "prod"
    assert ":assumed-role/admin/" in json.loads(rest)["Arn"]


def test_list_shows_the_vault_key_as_the_source(with_key: Home) -> None:
    rows = {row["profile"]: row for row in json.loads(with_key.awsv("list", "--json").stdout)}
    assert rows["default"]["source"] == "vault key" and rows["default"]["error"] is None
    assert rows["prod"]["source"] == "role via default"


# -- without a key: one line, at once --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("exec", "-j", "default"),
        ("use", "prod", "--shell", "bash"),
        ("exec", "staging", "--", "true"),
        ("export", "--format=json", "prod"),
    ],
)
def test_no_key_is_one_line(without_key: Home, args: tuple[str, ...]) -> None:
    r = without_key.awsv(*args, timeout=QUICK)
    assert r.returncode == 1
    # `use` prints code that only fails (the eval contract); the others print nothing.
    assert r.stdout == ("(builtin exit 1)\n" if args[0] == "use" else "")
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("awsv: error: profile 'default'")
    assert "runs awsv for itself" in lines[0] and "awsv add default" in lines[0]


def test_no_key_through_the_aws_cli_fails_quickly(without_key: Home) -> None:
    r = without_key.aws("sts", "get-caller-identity", "--profile", "prod")
    assert r.returncode != 0
    assert "runs awsv for itself" in r.stderr


# -- the run-time mark ---------------------------------------------------------------


def test_a_marked_awsv_stops_at_once(with_key: Home) -> None:
    """Even with a key and a cached session: a parent awsv is resolving this profile."""
    r = with_key.awsv("exec", "-j", "default", env={"AWSV_RESOLVING": "prod:default"}, timeout=QUICK)
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1
    assert "'default' is already being resolved" in r.stderr and "AWSV_RESOLVING" in r.stderr
    # Another profile is not affected by the mark.
    assert with_key.awsv("exec", "-j", "default", env={"AWSV_RESOLVING": "other"}).returncode == 0


def test_a_loop_the_static_check_cannot_see_is_stopped_by_the_mark(home: Path, moto: str) -> None:
    """`sh -c 'awsv …'` hides the loop from the parser; the mark ends it after one round."""
    h = Home(
        home,
        moto,
        textwrap.dedent("""\
        [profile hidden]
        credential_process = sh -c 'awsv exec -j hidden'
        """),
    )
    r = h.awsv("exec", "-j", "hidden", timeout=QUICK)
    assert r.returncode == 1 and r.stdout == ""
    # The inner awsv refused (its line), then the outer one reports the failed command.
    assert "'hidden' is already being resolved" in r.stderr
    assert "credential_process of profile 'hidden' failed" in r.stderr


def test_every_started_command_carries_the_mark(home: Path, moto: str, tmp_path: Path) -> None:
    dump = tmp_path / "env.json"
    script = tmp_path / "creds.py"
    script.write_text(
        textwrap.dedent(f"""\
        import json, os
        json.dump(dict(os.environ), open({str(dump)!r}, "w"))
        print(json.dumps({{"Version": 1, "AccessKeyId": "AKIAEXAMPLEEXAMPLE01", "SecretAccessKey": "s"}}))
        """)
    )
    h = Home(home, moto, f"[profile outer]\ncredential_process = {sys.executable} {script}\n")
    r = h.awsv("exec", "-j", "outer", env={"AWSV_RESOLVING": "parent"}, timeout=QUICK)
    assert r.returncode == 0, r.stderr
    seen = json.loads(dump.read_text())
    assert seen["AWSV_RESOLVING"] == "parent:outer"  # the inherited mark, then ours
    assert "AWSV_FILE_PASSPHRASE" not in seen


def test_exec_children_are_not_marked_with_the_resolved_profile(with_key: Home) -> None:
    """Resolution is over when the command starts: a tool inside may run awsv for it again."""
    r = with_key.awsv("exec", "prod", "--", "sh", "-c", 'printf "<%s>" "${AWSV_RESOLVING-unset}"')
    assert r.returncode == 0, r.stderr
    assert r.stdout == "<unset>"


# -- the static check, on the parsed config ------------------------------------------------


@pytest.mark.parametrize(
    "command,profile",
    [
        ("awsv exec -j default", "default"),
        ("/usr/local/bin/awsv exec --json prod", "prod"),
        ("awsv --prompt=osascript export --format=json work", "work"),
        ("awsv --backend keyring export --no-session --format json jon", "jon"),
        ("python3 -m awsv exec -j p", "p"),
        ("awsv exec dev -- awsv exec -j dev", "dev"),
        ("awsv use -s zsh p", "p"),
        ("aws-vault exec -j default", None),
        ("my-custom-creds-cmd default", None),
        ("awsv list", None),
        ("awsv exec -j 'unclosed", None),
        # Spelled with quotes or a backslash, "awsv" is not in the text; shlex still finds it.
        ("aw'sv' exec -j quoted", "quoted"),
        ('"/opt/bin/aw"sv exec -j dq', "dq"),
        ("aw\\sv exec -j escaped", "escaped"),
    ],
)
def test_which_profile_a_command_runs_awsv_for(command: str, profile: str | None) -> None:
    assert awsv_profile_of(command) == profile


LOOPS = AwsConfig.parse(
    textwrap.dedent("""\
    [profile direct]
    credential_process = awsv exec -j direct

    [profile mixin]
    credential_process = awsv exec -j viainclude

    [profile viainclude]
    include_profile = mixin

    [profile a]
    credential_process = awsv exec -j b

    [profile b]
    role_arn = arn:aws:iam::123456789012:role/b
    source_profile = a

    [profile other]
    credential_process = awsv exec -j direct

    [profile plain]
    credential_process = my-custom-creds-cmd
    """)
)


@pytest.mark.parametrize("name", ["direct", "viainclude", "a", "b"])
def test_loops_through_include_and_chains_fail_without_a_key(name: str) -> None:
    with pytest.raises(SelfReference) as caught:
        resolve(LOOPS, name, in_vault=lambda _n: False)
    assert "awsv add" in caught.value.message
    # ...and take the stored key when there is one.
    chain = resolve(LOOPS, name, in_vault=lambda _n: True)
    assert chain.source.kind == "vault"


def test_commands_that_do_not_loop_are_kept_and_never_ask_the_vault() -> None:
    def no_vault(_name: str) -> bool:
        raise AssertionError("the vault was consulted")

    assert resolve(LOOPS, "plain", in_vault=no_vault).source.kind == "credential_process"
    # `other` runs awsv for `direct`, which does not need `other`: not a loop.
    assert runs_awsv_back(LOOPS, "awsv exec -j direct", ["other"]) is None
    assert resolve(LOOPS, "other", in_vault=no_vault).source.kind == "credential_process"


# -- doctor ---------------------------------------------------------------------------------


def doctor_config(h: Home, env: Mapping[str, str | None] | None = None) -> tuple[int, list[dict[str, str]]]:
    r = h.awsv("doctor", "--json", env=env, timeout=QUICK * 3)
    found = json.loads(r.stdout)["checks"]
    return r.returncode, [f for f in found if f["check"] == "config"]


def test_doctor_explains_the_pattern_when_the_vault_is_locked(without_key: Home) -> None:
    _, found = doctor_config(without_key)
    [finding] = [f for f in found if "'default': its credential_process" in f["message"]]
    assert finding["status"] == "info"
    assert "runs awsv for itself" in finding["message"] and "fine when a key" in finding["message"]
    assert "awsv unlock" in finding["fix"]


@pytest.mark.parametrize("stored", [True, False])
def test_doctor_asks_the_agent_whether_the_key_is_there(home: Path, moto: str, stored: bool) -> None:
    """With an unlocked agent, doctor gives a verdict without asking for any passphrase."""
    from tests.support.agent_world import cleanup_agents

    h = Home(home, moto, ISSUE_CONFIG)
    mark = f"selfref-{home.parent.name}"
    agent_env = {"AWSV_AGENT": "auto", "AWSV_TEST_MARK": mark}
    try:
        profile = "default" if stored else "unrelated"
        key_id, secret = create_user_with_key(moto, f"doctor-{stored}")
        r = h.awsv(
            "add", "--env", profile, env={**agent_env, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}
        )
        assert r.returncode == 0, r.stderr
        assert h.awsv("unlock", env=agent_env).returncode == 0
        status = h.awsv("unlock", "--status", "--json", env=agent_env)
        assert json.loads(status.stdout)["unlocked"] is True, status.stderr
        # No passphrase source at all: only the agent can answer.
        rc, found = doctor_config(h, {**agent_env, "AWSV_FILE_PASSPHRASE": None})
        [finding] = [f for f in found if "'default': its credential_process" in f["message"]]
        if stored:
            assert finding["status"] == "pass" and "uses the key stored for it" in finding["message"]
        else:
            assert rc == 1 and finding["status"] == "fail"
            assert "no key for it is in the vault" in finding["message"]
            assert finding["fix"] == "awsv add default"
    finally:
        cleanup_agents(h.awsv, mark)


def test_the_agent_path_honours_the_mark(home: Path, moto: str) -> None:
    """A cached session served by the agent (the hot path) is refused under the mark too."""
    from tests.support.agent_world import cleanup_agents

    h = Home(home, moto, ISSUE_CONFIG)
    mark = f"selfref-fast-{home.parent.name}"
    agent_env = {"AWSV_AGENT": "auto", "AWSV_TEST_MARK": mark}
    try:
        key_id, secret = create_user_with_key(moto, "fast-user")
        assert (
            h.awsv(
                "add",
                "--env",
                "default",
                env={**agent_env, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret},
            ).returncode
            == 0
        )
        assert h.awsv("unlock", env=agent_env).returncode == 0
        r = h.awsv("exec", "-j", "--mfa-token", "123456", "default", env=agent_env)
        assert r.returncode == 0, r.stderr
        served = {**agent_env, "AWSV_FILE_PASSPHRASE": None}  # only the agent can answer now
        assert h.awsv("exec", "-j", "default", env=served).returncode == 0  # the control: a hit
        r = h.awsv("exec", "-j", "default", env={**served, "AWSV_RESOLVING": "default"})
        assert r.returncode == 1 and r.stdout == ""
        assert "'default' is already being resolved" in r.stderr
    finally:
        cleanup_agents(h.awsv, mark)

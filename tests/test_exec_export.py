"""`awsv exec` and `awsv export`, driven as real processes against moto's server.

The credential_process recipe is checked end to end: the real AWS CLI and
real boto3 read a `~/.aws/config` whose `credential_process` line runs awsv,
exactly as a user would set it up.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401
from tests.support.use_world import CONFIG, CONTRACT, UNSET_BY_USE, World, assert_session_contract, make_world

#: The variables that reach the vault key; none may reach a child.
PASSPHRASE_VARS = (
    "AWSV_FILE_PASSPHRASE",
    "AWS_VAULT_FILE_PASSPHRASE",
    "AWSV_PASSPHRASE_COMMAND",
    "AWS_VAULT_PASSPHRASE_COMMAND",
)

CP_CONFIG = (
    CONFIG
    + """
[profile cp]
credential_process = {python} -m awsv export --format credential-process admin
region = us-east-1

[profile cpj]
credential_process = {python} -m awsv exec -j admin
region = us-east-1
"""
)

PRINT_ENV = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> World:
    return make_world(tmp_path_factory, moto_url, CP_CONFIG)


# -- exec ----------------------------------------------------------------------


def test_exec_gives_the_command_credentials_and_no_passphrase(world: World) -> None:
    env = {
        "AWSV_FILE_PASSPHRASE": None,
        "AWSV_PASSPHRASE_COMMAND": "echo correct horse battery staple",
        "AWS_VAULT_FILE_PASSPHRASE": "correct horse battery staple",
        "AWS_VAULT_PASSPHRASE_COMMAND": "echo x",
        "AWS_PROFILE": "stale",
        "AWS_SECURITY_TOKEN": "stale",
    }
    r = world.awsv("exec", "admin", "--", "sh", "-c", 'echo "key=$AWS_ACCESS_KEY_ID"; env', env=env)
    assert r.returncode == 0, r.stderr
    first, rest = r.stdout.split("\n", 1)
    assert first.startswith("key=ASIA")
    child = dict(line.split("=", 1) for line in rest.splitlines() if "=" in line)
    assert [name for name in PASSPHRASE_VARS if name in child] == []
    assert "correct horse" not in r.stdout
    assert_session_contract(child, "admin", "us-east-2")


def test_exec_runs_the_aws_cli(world: World) -> None:
    r = world.awsv("exec", "admin", "--", "aws", "sts", "get-caller-identity", "--output", "json")
    assert r.returncode == 0, r.stderr
    assert ":assumed-role/Admin/" in json.loads(r.stdout)["Arn"]


def test_exec_passes_the_exit_status_and_signals_through(world: World) -> None:
    assert world.awsv("exec", "admin", "--", "sh", "-c", "exit 7").returncode == 7
    # Through a shell, as a user sees it: killed by SIGTERM -> 128 + 15.
    script = f'"{sys.executable}" -m awsv exec admin -- sh -c \'kill -TERM $$\'; echo "status=$?"'
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=world.env, timeout=60)
    assert r.stdout.strip() == "status=143", r.stderr


def test_exec_without_a_command_starts_shell(world: World) -> None:
    r = world.awsv("exec", "admin", input='echo "in=$AWSV_PROFILE"\n', env={"SHELL": "/bin/sh"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == "in=admin\n"
    starting = (
        r"awsv: starting /bin/sh with 'admin', expires \d\d:\d\d UTC \(in (\d+m|1h00m)\);"
        r" exit it to leave the session\n"
    )
    assert re.fullmatch(starting, r.stderr), r.stderr
    r = world.awsv("exec", "admin", input='echo "fallback=$AWS_VAULT"\n', env={"SHELL": None})
    assert r.stdout == "fallback=admin\n"


def no_such_profile(world: World, profile: str = "admn") -> str:
    """The whole stderr of a command naming a profile the config lacks (one close to `admin`)."""
    return (
        f"awsv: error: profile {profile!r} is not in {world.home / '.aws' / 'config'}\n"
        "awsv: hint: did you mean admin?\n"
    )


#: What `awsv use dev` left in a shell: the command under `exec admin` must see none of it.
DEV_SESSION = {
    "AWSV_PROFILE": "dev",
    "AWS_VAULT": "dev",
    "AWS_ACCESS_KEY_ID": "ASIADEVSTALE",
    "AWS_SECRET_ACCESS_KEY": "dev-secret",
    "AWS_SESSION_TOKEN": "dev-token",
    "AWSV_ACCOUNT": "111111111111",
    "AWSV_EXPIRES": "1",
    "AWSV_COLOR": "green",
    "AWSV_ALIAS": "DEV",
    "AWS_PROFILE": "dev",
}


@pytest.mark.parametrize("marker", ["AWSV_PROFILE", "AWS_VAULT"])
def test_exec_runs_a_one_off_command_inside_another_session(world: World, marker: str) -> None:
    session = {
        k: v for k, v in DEV_SESSION.items() if k != ("AWS_VAULT" if marker == "AWSV_PROFILE" else "AWSV_PROFILE")
    }
    r = world.awsv("exec", "admin", "--", *PRINT_ENV, env=session)
    assert r.returncode == 0, r.stderr
    child = json.loads(r.stdout)
    assert child["AWSV_PROFILE"] == child["AWS_VAULT"] == "admin"
    assert_session_contract(child, "admin", "us-east-2")
    stale = {k for k, v in DEV_SESSION.items() if child.get(k) == v}
    assert stale == set(), f"dev's variables reached the command: {stale}"
    assert "nest" not in r.stderr


@pytest.mark.parametrize("marker", ["AWSV_PROFILE", "AWS_VAULT"])
def test_exec_refuses_an_interactive_shell_inside_a_session_without_force(world: World, marker: str) -> None:
    r = world.awsv("exec", "admin", input='echo "in=$AWSV_PROFILE"\n', env={marker: "outer", "SHELL": "/bin/sh"})
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (
        f"awsv: error: refusing to start a shell for 'admin' inside the session for 'outer' ({marker} is set)\n"
        "awsv: hint: exit that shell (or `awsv off`) first, run one command with `awsv exec admin -- CMD`,"
        " or pass --force to start a shell inside it\n"
    )
    r = world.awsv(
        "exec", "admin", "--force", input='echo "in=$AWSV_PROFILE"\n', env={marker: "outer", "SHELL": "/bin/sh"}
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "in=admin\n"


def test_exec_inside_a_session_checks_the_profile_name_first(world: World) -> None:
    """A typo gets "did you mean", never a nesting message, for a command or a shell."""
    for args in (("exec", "admn", "--", "true"), ("exec", "admn")):
        r = world.awsv(*args, env={"AWSV_PROFILE": "outer", "SHELL": "/bin/sh"})
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr == no_such_profile(world)  # nothing about 'outer' or nesting


def test_exec_json_spellings(world: World) -> None:
    """aws-vault's `exec -j P` and `exec P --json` print the credential_process document."""
    docs = []
    for args in (("exec", "-j", "admin"), ("exec", "admin", "--json")):
        r = world.awsv(*args)
        assert r.returncode == 0, r.stderr
        docs.append(json.loads(r.stdout))
    assert docs[0] == docs[1]  # the cached session, rendered by the same function
    assert docs[0]["Version"] == 1 and docs[0]["AccessKeyId"].startswith("ASIA")


def test_exec_unknown_profile_and_missing_command(world: World) -> None:
    r = world.awsv("exec", "admn", "--", "true")
    assert r.returncode == 1 and r.stdout == "" and r.stderr == no_such_profile(world)
    r = world.awsv("exec", "admin", "--", "no-such-command-here")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "awsv: error: command not found: 'no-such-command-here'\n"


# -- export --------------------------------------------------------------------


def test_export_env_json_and_export_formats(world: World, tmp_path: Path) -> None:
    env_lines = world.awsv("export", "admin").stdout  # default: env
    as_env = dict(line.split("=", 1) for line in env_lines.splitlines())
    as_json = json.loads(world.awsv("export", "admin", "--format", "env-json").stdout)
    assert as_env == as_json
    assert_session_contract(as_json, "admin", "us-east-2")
    assert not set(as_json) - set(CONTRACT)  # only contract variables, and no unsets
    code = world.awsv("export", "admin", "--format", "export", "--shell", "bash").stdout
    r = world.shell("bash", "export AWS_PROFILE=stale\n" + code + f"dump {tmp_path}/env.json\n")
    assert r.returncode == 0, r.stderr
    evaluated = json.loads((tmp_path / "env.json").read_text())
    assert {k: evaluated[k] for k in as_json} == as_json
    assert [name for name in UNSET_BY_USE if name in evaluated] == []


def test_export_ini_is_a_working_credentials_file(world: World, tmp_path: Path) -> None:
    r = world.awsv("export", "admin", "--format", "ini")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "[admin]"
    assert [line.split(" = ")[0] for line in lines[1:]] == [
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    ]
    creds = tmp_path / "credentials"
    creds.write_text(r.stdout)
    probe = (
        "import boto3, sys; s = boto3.Session(profile_name='admin'); "
        "print(s.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])"
    )
    env = {
        **world.env,
        "AWS_SHARED_CREDENTIALS_FILE": str(creds),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run([sys.executable, "-c", probe, world.moto], capture_output=True, text=True, env=env, timeout=60)
    assert ":assumed-role/Admin/" in out.stdout, out.stderr


def test_export_credential_process_document(world: World) -> None:
    r = world.awsv("export", "admin", "--format", "credential-process")
    assert r.returncode == 0 and r.stderr == ""
    doc = json.loads(r.stdout)
    assert list(doc) == ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert doc["Version"] == 1
    expiry = datetime.fromisoformat(doc["Expiration"])
    assert doc["Expiration"].endswith("+00:00") and time.time() + 3000 < expiry.timestamp()


def test_export_no_session_document_has_no_token_or_expiry(world: World) -> None:
    r = world.awsv("export", "base", "--no-session", "--format", "credential-process")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"Version": 1, "AccessKeyId": world.key_id, "SecretAccessKey": world.secret}
    assert r.stderr == (
        f"awsv: warning: exporting the LONG-TERM access key of 'base' ({world.key_id}): it does not expire and"
        " gives its full permissions to anything that reads it\n"
        "awsv: warning: drop --no-session to get temporary credentials instead\n"
    )


def test_export_failure_prints_nothing(world: World) -> None:
    for fmt in ("env", "json", "env-json", "credential-process"):
        r = world.awsv("export", "admn", "--format", fmt)
        assert r.returncode == 1 and r.stdout == "" and r.stderr == no_such_profile(world)
    r = world.awsv("export", "admin", "--format", "yaml")
    assert r.returncode == 2 and r.stdout == ""
    error, hint = r.stderr.splitlines()
    assert error.startswith("awsv: error: export: argument --format: invalid choice: 'yaml' (choose from 'env', ")
    assert hint == "awsv: hint: `awsv export --help` shows the usage"


# -- the credential_process recipe ---------------------------------------------


@pytest.mark.parametrize("profile", ["cp", "cpj"])
def test_credential_process_through_the_aws_cli(world: World, profile: str) -> None:
    """`credential_process = python -m awsv export --format credential-process admin` (and exec -j)."""
    r = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--profile", profile, "--output", "json"],
        capture_output=True,
        text=True,
        env=world.env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    ident = json.loads(r.stdout)
    assert ":assumed-role/Admin/" in ident["Arn"] and ident["Account"] == ACCOUNT_ID


def test_credential_process_through_boto3(world: World) -> None:
    probe = (
        "import boto3, sys; s = boto3.Session(profile_name='cp'); "
        "print(s.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe, world.moto], capture_output=True, text=True, env=world.env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert ":assumed-role/Admin/" in r.stdout

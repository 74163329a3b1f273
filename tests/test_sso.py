"""IAM Identity Center end to end: real awsv processes, the SSO stand-in, moto, boto3, the AWS CLI.

The SSO OIDC and portal APIs are served by `tests/support/sso_server.py`
(nothing installable emulates them; the stand-in is checked against boto3's
own clients in test_sso_server.py), reached the standard way through
AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL_SSO. STS is moto. The user is
scripted: a BROWSER command that follows the sign-in page and clicks Allow
(tests/support/sso_browser.py), or an approval of the device code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Unpack

import pexpect
import pytest

from tests.conftest import AwsvRunner, RunOptions
from tests.support import pty_child
from tests.support.federation_server import FederationServer, federation, federation_server  # noqa: F401
from tests.support.moto_server import caller_arn, moto, moto_url  # noqa: F401
from tests.support.sso_browser import approve_device
from tests.support.sso_server import SsoServer, sso, sso_server  # noqa: F401
from tests.support.sso_world import CONFIG, START_URL, world  # noqa: F401  (world: a fixture)


def browser_launches(env: dict[str, str]) -> int:
    try:
        return len(Path(env["SSO_BROWSER_LOG"]).read_text().splitlines())
    except FileNotFoundError:
        return 0


def spawn_on_terminal(env: dict[str, str], *args: str) -> pexpect.spawn[str]:
    """awsv with a controlling terminal (a pty), as in a user's shell."""
    return pexpect.spawn(
        sys.executable, ["-m", "awsv", *args], env=env, encoding="utf-8", timeout=120, dimensions=(24, 200)
    )


def credential_process(awsv: AwsvRunner, profile: str = "prod", **kw: Unpack[RunOptions]) -> dict[str, Any]:
    """What `export --format credential-process` printed: the JSON the AWS SDKs read."""
    kw["check"] = True
    out = awsv("export", "--format", "credential-process", profile, **kw)
    creds: dict[str, Any] = json.loads(out.stdout)
    return creds


# -- sign-in and refresh -------------------------------------------------------------


def test_browser_sign_in_then_refresh_needs_no_browser(world: dict[str, str], awsv: AwsvRunner, sso: SsoServer) -> None:
    # Role credentials shorter than awsv's minimum TTL: every command fetches new ones.
    sso.role_credentials_lifetime = 120
    done = awsv("sso", "login", "prod", check=True)
    assert "signed in" in done.stderr and "refreshed without a browser" in done.stderr
    assert (sso.approvals, browser_launches(world), sso.grants["authorization_code"]) == (1, 1, 1)
    first = credential_process(awsv)
    assert str(first["AccessKeyId"]).startswith("ASIA") and first["Expiration"]

    # The next day: the access token has expired (and the role credentials with it).
    sso.expire_access_tokens()
    second = credential_process(awsv)
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert sso.grants["refresh_token"] == 1
    assert (sso.approvals, browser_launches(world)) == (1, 1), "the refresh opened a browser"


def test_without_a_terminal_a_needed_sign_in_is_a_clear_error(
    world: dict[str, str], awsv: AwsvRunner, sso: SsoServer
) -> None:
    failed = awsv("export", "--format", "credential-process", "prod")
    assert failed.returncode == 3 and failed.stdout == ""
    assert "sso-session 'corp': not signed in" in failed.stderr
    assert "run `awsv sso login --sso-session corp`" in failed.stderr
    assert browser_launches(world) == 0 and sso.requests["register"] == 0


def test_revoked_refresh_token_asks_once_on_the_terminal(
    world: dict[str, str], awsv: AwsvRunner, sso: SsoServer
) -> None:
    sso.role_credentials_lifetime = 120  # never reused from the cache
    awsv("sso", "login", "prod", check=True)
    sso.expire_access_tokens()
    sso.revoke_refresh_tokens()
    # No terminal: one line saying the sign-in ended and what to run.
    failed = awsv("export", "--format", "credential-process", "prod")
    assert failed.returncode == 3
    assert "the refresh token was refused" in failed.stderr
    assert "awsv sso login --sso-session corp" in failed.stderr
    # With a terminal: one new sign-in, one browser tab, then the credentials.
    child = spawn_on_terminal(world, "export", "--format", "credential-process", "prod")
    child.expect_exact("approve in the browser window that opens")
    child.expect_exact('"AccessKeyId"')
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (sso.approvals, browser_launches(world)) == (2, 2)


def test_device_code_flow_prints_url_and_code_and_polls(world: dict[str, str], sso: SsoServer) -> None:
    env = {k: v for k, v in world.items() if k != "BROWSER"}  # e.g. over SSH: no browser
    proc = subprocess.Popen(
        [sys.executable, "-m", "awsv", "sso", "login", "--device-code", "prod"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "or open " in line:
            break
    assert any("enter the code" in line and "/device" in line for line in lines), lines
    complete = lines[-1].split("or open ", 1)[1].strip()
    assert approve_device(complete) == 200  # the user approves on another machine
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, rest
    assert "signed in" in rest and sso.grants["urn:ietf:params:oauth:grant-type:device_code"] == 1


def test_device_flow_honours_slow_down(world: dict[str, str], sso: SsoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, against the stand-in over HTTP; only the sleep is replaced (no timed test)."""
    from awsv.context import Context
    from awsv.sso import signin
    from awsv.sso.api import Api, DeviceAuthorization, Registration
    from awsv.sso.settings import SsoSession

    session = SsoSession(START_URL, "eu-west-1", "corp")
    api = Api(world, "eu-west-1")
    reg = api.register_client(session.scopes)
    slept: list[float] = []
    codes: list[str] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:  # the user approves after two polls
            for code in codes:
                sso.approve_device(code)

    original = api.start_device_authorization

    def start(reg: Registration, start_url: str) -> DeviceAuthorization:
        auth = original(reg, start_url)
        codes.append(auth.user_code)
        return auth

    monkeypatch.setattr(api, "start_device_authorization", start)
    ctx = Context(env=world, stderr=open(os.devnull, "w"))  # noqa: SIM115
    token = signin.with_device_code(ctx, api, session, reg, sleep=sleep)
    assert token.access_token
    # Poll 1: pending. Poll 2 came "too soon" (no real sleep): the stand-in said slow down,
    # so the next wait is the interval plus 5 s, as RFC 8628 asks.
    assert slept == [1, 1, 6], slept


def test_twenty_concurrent_callers_cause_one_sign_in(world: dict[str, str], sso: SsoServer) -> None:
    children = [spawn_on_terminal(world, "export", "--format", "credential-process", "prod") for _ in range(20)]
    outputs = []
    for child in children:
        child.expect(pexpect.EOF)
        outputs.append(pty_child.before(child))
        child.close()
    assert [c.exitstatus for c in children] == [0] * 20, outputs
    assert (sso.approvals, browser_launches(world), sso.requests["register"]) == (1, 1, 1)
    assert sum("waiting for another awsv process signing in" in o for o in outputs) >= 1
    keys = {json.loads(o[o.index("{") :])["AccessKeyId"] for o in outputs}
    assert len(keys) == 1, "the role credentials were fetched more than once"


def test_waiters_give_up_after_a_bounded_time(world: dict[str, str], tmp_path: Path, sso: SsoServer) -> None:
    idle = tmp_path / "idle-browser"
    idle.write_text("#!/bin/sh\nexit 0\n")  # a browser that starts, but no one ever looks
    idle.chmod(0o700)
    env = dict(world, BROWSER=str(idle), AWSV_SSO_SIGNIN_TIMEOUT="90", AWSV_SSO_WAIT_TIMEOUT="2")
    holder = spawn_on_terminal(env, "sso", "login", "prod")
    try:
        holder.expect_exact("approve in the browser window")
        waiter = spawn_on_terminal(env, "export", "--format", "credential-process", "prod")
        waiter.expect_exact("waiting for another awsv process signing in to sso-session 'corp'")
        waiter.expect_exact("has been signing in to sso-session 'corp' for over 2s")
        waiter.expect(pexpect.EOF)
        waiter.close()
        assert waiter.exitstatus == 3 and "AccessKeyId" not in (waiter.before or "")
    finally:
        holder.terminate(force=True)
    # The one signing in is bounded too, by its own timeout, with one line and a way out.
    alone = spawn_on_terminal(dict(env, AWSV_SSO_SIGNIN_TIMEOUT="3"), "sso", "login", "prod")
    alone.expect_exact("within 3s")
    alone.expect_exact("awsv sso login --device-code")
    alone.expect(pexpect.EOF)
    alone.close()
    assert alone.exitstatus == 1 and sso.approvals == 0


# -- where tokens live -----------------------------------------------------------------


def _grep_tree(root: Path, needles: set[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}" for n in needles if n.encode() in data]
    return found


def test_no_token_or_role_credential_in_plaintext_on_disk(
    world: dict[str, str], home: Path, awsv: AwsvRunner, sso: SsoServer
) -> None:
    awsv("sso", "login", "prod", check=True)
    creds = credential_process(awsv)
    secrets_ = sso.issued_secrets() | {str(creds["SecretAccessKey"]), str(creds["SessionToken"])}
    assert len(secrets_) >= 5
    assert _grep_tree(home, secrets_) == []
    assert not (home / ".aws" / "sso").exists()
    # Only on request, and it says so.
    wrote = awsv("sso", "login", "prod", "--write-aws-cli-cache", check=True)
    assert "PLAINTEXT" in wrote.stderr
    cache = list((home / ".aws" / "sso" / "cache").glob("*.json"))
    assert len(cache) == 1 and oct(cache[0].stat().st_mode & 0o777) == "0o600"
    report = json.loads(awsv("doctor", "--json", env={"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9/"}).stdout)
    warned = [f for f in report["checks"] if f["check"] == "plaintext-keys" and f["status"] == "warn"]
    assert any("SSO token file(s) in plaintext" in f["message"] for f in warned), report


def test_logout_calls_the_portal_and_forgets(world: dict[str, str], awsv: AwsvRunner, sso: SsoServer) -> None:
    awsv("sso", "login", "prod", "--write-aws-cli-cache", check=True)
    credential_process(awsv)
    out = awsv("sso", "logout", check=True)
    assert "signed out" in out.stderr and sso.logouts == 1 and sso.valid_access_tokens() == set()
    assert list(Path(world["HOME"], ".aws", "sso", "cache").glob("*.json")) == []
    listed = json.loads(awsv("list", "--json", check=True).stdout)
    prod = next(r for r in listed if r["profile"] == "prod")
    assert prod["sso"]["token"] == "not signed in" and prod["session_seconds_left"] is None


def test_list_shows_sso_profiles_with_token_state(world: dict[str, str], awsv: AwsvRunner) -> None:
    awsv("sso", "login", "prod", check=True)
    table = awsv("list", check=True).stdout
    assert "SSO 111111111111/Admin (signed in, " in table
    rows = {r["profile"]: r for r in json.loads(awsv("list", "--json", check=True).stdout)}
    assert rows["prod"]["sso"]["session"] == "corp" and rows["prod"]["sso"]["refreshable"] is True
    assert rows["deploy"]["source"] == "role via prod"


# -- the SSO profile as a source ---------------------------------------------------------


def test_sso_role_is_the_source_of_an_assumed_role(world: dict[str, str], awsv: AwsvRunner, moto: str) -> None:
    awsv("sso", "login", "prod", check=True)
    creds = credential_process(awsv, "deploy")
    arn = caller_arn(moto, str(creds["AccessKeyId"]), str(creds["SecretAccessKey"]), str(creds["SessionToken"]))
    assert ":assumed-role/deploy/" in arn
    who = awsv("whoami", "deploy", check=True)
    assert "assumed-role/deploy" in who.stdout + who.stderr


def test_use_sets_the_sso_role_in_a_real_shell(world: dict[str, str], awsv: AwsvRunner, tmp_path: Path) -> None:
    awsv("sso", "login", "prod", check=True)
    code = awsv("use", "--shell", "bash", "prod", check=True).stdout
    script = tmp_path / "s.sh"
    script.write_text(code + '\nprintf "%s|%s|%s\\n" "$AWSV_PROFILE" "$AWSV_ACCOUNT" "${AWS_ACCESS_KEY_ID:0:4}"\n')
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "prod|111111111111|ASIA"
    ran = awsv("exec", "prod", "--", "sh", "-c", 'printf "%s" "${AWS_SESSION_TOKEN:+token}"', check=True)
    assert ran.stdout == "token"


def test_console_login_with_the_sso_role(world: dict[str, str], awsv: AwsvRunner, federation: FederationServer) -> None:
    awsv("sso", "login", "prod", check=True)
    out = awsv("login", "prod", "--stdout", env={"AWSV_FEDERATION_URL": federation.url}, check=True)
    assert "Action=login" in out.stdout
    [request] = federation.token_requests()
    assert str((request.session or {})["sessionId"]).startswith("ASIA")
    assert request.one("SessionDuration") is None  # ready-made role credentials
    refused = awsv("login", "prod", "--stdout", "--duration", "2h", env={"AWSV_FEDERATION_URL": federation.url})
    assert refused.returncode == 2 and "IAM Identity Center" in refused.stderr


def test_clear_signs_out_of_sso(world: dict[str, str], awsv: AwsvRunner, sso: SsoServer) -> None:
    awsv("sso", "login", "prod", check=True)
    credential_process(awsv, "deploy")
    out = awsv("clear", "deploy", check=True)
    assert "signed out of sso-session 'corp'" in out.stderr and sso.logouts == 1
    assert awsv("export", "--format", "credential-process", "prod").returncode == 3


# -- interop with the AWS CLI and boto3 ----------------------------------------------------


def _aws(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    aws = shutil.which("aws") or str(Path(sys.executable).parent / "aws")
    return subprocess.run([aws, *args], env=env, capture_output=True, text=True, timeout=120)


def test_boto3_and_the_aws_cli_read_the_token_awsv_wrote(world: dict[str, str], awsv: AwsvRunner, moto: str) -> None:
    awsv("sso", "login", "prod", "--write-aws-cli-cache", check=True)
    script = (
        "import boto3; c = boto3.Session(profile_name='prod').get_credentials();"
        "print(c.get_frozen_credentials().access_key)"
    )
    out = subprocess.run([sys.executable, "-c", script], env=world, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("ASIA"), out.stderr
    cli = _aws(world, "sts", "get-caller-identity", "--profile", "prod", "--output", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Account"]


def test_awsv_imports_the_token_botocore_wrote(
    world: dict[str, str], awsv: AwsvRunner, home: Path, sso: SsoServer
) -> None:
    """A user signed in with the AWS tools is not asked again: their cached token is imported.

    The cache file is written by botocore itself: it starts with an expired access token and
    a refresh token (as `aws sso login` leaves it the next day), boto3 refreshes it and writes
    the new token back, and awsv imports that one without a sign-in or a refresh of its own.
    """
    import hashlib

    from tests.support.sso_clients import clients, device_token, register

    oidc, _ = clients(sso.url)
    reg = register(oidc)
    token = device_token(sso, oidc, reg, START_URL)
    cache = home / ".aws" / "sso" / "cache" / f"{hashlib.sha1(b'corp').hexdigest()}.json"
    cache.parent.mkdir(parents=True)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    cache.write_text(
        json.dumps(
            {
                "startUrl": START_URL,
                "region": "eu-west-1",
                "accessToken": "expired-yesterday",
                "expiresAt": time.strftime(stamp, time.gmtime(time.time() - 3600)),
                "refreshToken": token["refreshToken"],
                "clientId": reg["clientId"],
                "clientSecret": reg["clientSecret"],
                "registrationExpiresAt": time.strftime(stamp, time.gmtime(time.time() + 86400)),
            }
        )
    )
    script = (
        "import boto3; c = boto3.Session(profile_name='prod').get_credentials();"
        "print(c.get_frozen_credentials().access_key)"
    )
    out = subprocess.run([sys.executable, "-c", script], env=world, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("ASIA"), out.stderr
    written = json.loads(cache.read_text())
    assert written["accessToken"] in sso.valid_access_tokens()  # botocore refreshed and wrote it
    refreshes, approvals = sso.grants["refresh_token"], sso.approvals
    assert refreshes == 1

    done = awsv("export", "--format", "credential-process", "prod", check=True)
    assert json.loads(done.stdout)["AccessKeyId"] and "imported the AWS CLI's token" in done.stderr
    assert (sso.grants["refresh_token"], sso.approvals, browser_launches(world)) == (refreshes, approvals, 0)


def test_the_aws_cli_reads_an_sso_profile_through_credential_process(
    world: dict[str, str], awsv: AwsvRunner, home: Path, moto: str
) -> None:
    awsv("sso", "login", "prod", check=True)
    with open(home / ".aws" / "config", "a") as handle:
        handle.write(
            f"\n[profile via-awsv]\ncredential_process = {sys.executable} -m awsv export "
            "--format credential-process deploy\nregion = eu-west-1\n"
        )
    cli = _aws(world, "sts", "get-caller-identity", "--profile", "via-awsv", "--output", "json")
    assert cli.returncode == 0, cli.stderr
    assert ":assumed-role/deploy/" in json.loads(cli.stdout)["Arn"]


# -- config errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "[profile x]\nsso_account_id = 111111111111\nsso_role_name = Admin\n",
            "profile 'x' has SSO settings but no sso_session or sso_start_url",
        ),
        (
            (
                "[profile x]\nsso_start_url = https://a.awsapps.com/start\nsso_account_id = 111111111111\n"
                "sso_role_name = Admin\n"
            ),
            "profile 'x' has sso_start_url but no sso_region",
        ),
        (
            "[profile x]\nsso_session = corp\nsso_role_name = Admin\n",
            "profile 'x' has SSO settings but no sso_account_id",
        ),
        (
            "[profile x]\nsso_session = nope\nsso_account_id = 111111111111\nsso_role_name = Admin\n",
            "sso-session 'nope' (sso_session of profile 'x') has no [sso-session nope] section",
        ),
    ],
)
def test_config_errors_name_the_profile_and_the_key(
    world: dict[str, str], home: Path, awsv: AwsvRunner, section: str, message: str
) -> None:
    (home / ".aws" / "config").write_text(CONFIG + "\n" + section)
    failed = awsv("export", "--format", "json", "x")
    assert failed.returncode == 1 and message in failed.stderr and "Traceback" not in failed.stderr
    rows = {r["profile"]: r for r in json.loads(awsv("list", "--json", check=True).stdout)}
    assert message in rows["x"]["error"]  # `list` (and `doctor`) say it before any use


def test_legacy_profile_signs_in_with_its_own_start_url(
    world: dict[str, str], home: Path, awsv: AwsvRunner, sso: SsoServer
) -> None:
    (home / ".aws" / "config").write_text(
        f"[profile old]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
        "sso_account_id = 222222222222\nsso_role_name = Admin\n"
    )
    awsv("sso", "login", "old", check=True)
    assert credential_process(awsv, "old")["AccessKeyId"]


def test_cached_sso_role_needs_no_botocore(world: dict[str, str], awsv: AwsvRunner) -> None:
    """The hot path with a cached SSO role: no boto3/botocore import (the vault is opened
    directly here, so its crypto is expected; tests/test_hot_path.py covers the agent)."""
    awsv("sso", "login", "prod", check=True)
    credential_process(awsv)  # now cached
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "awsv", "export", "--format", "credential-process", "prod"],
        env=world,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "awsv.sso.settings" in modules  # the proof that this was an SSO resolution
    heavy = sorted(m for m in modules if m.split(".")[0] in ("boto3", "botocore"))
    assert heavy == [] and "awsv.sso.api" not in modules


def test_a_role_the_user_cannot_reach_is_one_line_with_a_hint(
    world: dict[str, str], home: Path, awsv: AwsvRunner, sso: SsoServer
) -> None:
    with open(home / ".aws" / "config", "a") as handle:
        handle.write("\n[profile nope]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n")
    awsv("sso", "login", "prod", check=True)
    failed = awsv("export", "--format", "credential-process", "nope")
    assert failed.returncode == 1 and failed.stdout == ""
    assert "GetRoleCredentials ReadOnly in 222222222222: ForbiddenException" in failed.stderr
    assert "awsv sso sync --dry-run" in failed.stderr
    assert not any(secret in failed.stderr for secret in sso.issued_secrets())


def test_an_sso_profile_with_a_credential_process_for_other_tools(
    world: dict[str, str], home: Path, awsv: AwsvRunner
) -> None:
    """`credential_process = awsv export … P` on the SSO profile P itself is for other tools:
    awsv takes the SSO role (botocore's order) and never runs it, so it is no loop."""
    with open(home / ".aws" / "config", "a") as handle:
        handle.write(
            f"\n[profile tool]\nsso_session = corp\nsso_account_id = 111111111111\n"
            f"sso_role_name = ReadOnly\ncredential_process = {sys.executable} -m awsv "
            "export --format credential-process tool\n"
        )
    awsv("sso", "login", "prod", check=True)
    assert str(credential_process(awsv, "tool")["AccessKeyId"]).startswith("ASIA")


def test_sso_role_on_the_agent_hot_path(world: dict[str, str], home: Path) -> None:
    """Through the unlocked agent, a cached SSO role is served like any session: no botocore,
    no crypto, no config parse in the client, and the passphrase asked once."""
    from tests.conftest import TEST_PASSPHRASE
    from tests.support.agent_world import COUNTER, cleanup_agents
    from tests.support.hot_path import Hot, forbidden_in, not_on_fast_path

    count, script = home.parent / "asked", home.parent / "pw"
    script.write_text(COUNTER.format(count=count, passphrase=TEST_PASSPHRASE))
    script.chmod(0o700)
    env = dict(world, AWSV_AGENT="auto", AWSV_PASSPHRASE_COMMAND=str(script), AWSV_TEST_MARK=home.parent.name)
    env.pop("AWSV_FILE_PASSPHRASE", None)
    hot = Hot(home, env)
    try:
        assert hot.awsv("sso", "login", "prod").returncode == 0
        assert hot.awsv("use", "deploy", "--shell", "bash").returncode == 0  # SSO -> role, cached
        for args in (["use", "deploy", "--shell", "bash"], ["export", "--format", "credential-process", "prod"]):
            out, modules = hot.run(args)
            assert "ASIA" in out
            assert forbidden_in(modules) == [] and not_on_fast_path(modules) == [], args
        assert count.read_text().count("asked") == 1
    finally:
        cleanup_agents(hot.awsv, home.parent.name)


@pytest.mark.parametrize(
    ("user", "error", "message"),
    [
        ("lets it expire", "SsoExpired", "expired before it was approved"),
        ("denies", "SsoAccessDenied", "the sign-in was denied"),
    ],
)
def test_device_flow_ends_cleanly_when_the_user_does_not_approve(
    world: dict[str, str], sso: SsoServer, user: str, error: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process against the stand-in over HTTP; only the sleep is replaced."""
    from awsv import errors
    from awsv.context import Context
    from awsv.sso import api as sso_api
    from awsv.sso import signin
    from awsv.sso.api import DeviceAuthorization, Registration
    from awsv.sso.settings import SsoSession

    session = SsoSession(START_URL, "eu-west-1", "corp")
    api = sso_api.Api(world, "eu-west-1")
    reg = api.register_client(session.scopes)
    original = api.start_device_authorization
    codes: list[str] = []

    def start(reg: Registration, start_url: str) -> DeviceAuthorization:
        auth = original(reg, start_url)
        codes.append(auth.user_code)
        return auth

    def sleep(seconds: float) -> None:
        if user == "denies":
            sso.approve_device(codes[0], deny=True)
        else:
            sso.expire_device_codes()

    monkeypatch.setattr(api, "start_device_authorization", start)
    ctx = Context(env=world, stderr=open(os.devnull, "w"))  # noqa: SIM115
    with pytest.raises(getattr(sso_api, error)) as raised:
        signin.with_device_code(ctx, api, session, reg, sleep=sleep)
    assert message in raised.value.message and isinstance(raised.value, errors.AwsvError)

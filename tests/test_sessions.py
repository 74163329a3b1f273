"""Temporary credentials: STS steps, the encrypted session cache, MFA sources.

Real components throughout: moto's server over HTTP (through the counting
fault proxy, see tests/support/fault_proxy.py), the real file vault, real
processes for credential_process / mfa_process scripts, several real
processes racing for one session, and a real pty for the MFA prompt.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from awsv.credential_process import CredentialProcessError
from awsv.durations import Ttls, parse_duration
from awsv.errors import AwsvError, UsageError
from awsv.mfa import MfaUnavailable
from awsv.sessions import cached_sessions, clear_sessions
from awsv.vault.items import key_item_name
from tests.support import fault_proxy as _proxy
from tests.support import moto_server as _moto
from tests.support.fault_proxy import AwsvWorld
from tests.support.moto_server import ACCOUNT_ID, caller_arn

# pytest fixtures used by this module
moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world

MFA = "arn:aws:iam::123456789012:mfa/alice"


def _roles(n: int) -> str:
    """base (no MFA) -> r1 -> … -> rn, each role in its own account."""
    text = "[profile base]\nregion = eu-west-1\n"
    parent = "base"
    for i in range(1, n + 1):
        text += f"[profile r{i}]\nrole_arn = arn:aws:iam::{str(i) * 12}:role/role{i}\nsource_profile = {parent}\n"
        parent = f"r{i}"
    return text


def _counter(world: AwsvWorld, name: str, code: str = "123456") -> tuple[Path, Path]:
    """An mfa_process script that prints `code` and counts its runs in a file."""
    count = world.home / f"{name}.count"
    script = world.script(name, f"echo run >> '{count}'\necho {code}\n")
    return script, count


def _runs(count: Path) -> int:
    return len(count.read_text().splitlines()) if count.exists() else 0


# -- plain profiles and role chains -------------------------------------------


def test_plain_profile_gets_a_session_token_with_account_id(world: AwsvWorld) -> None:
    world.config("[profile base]\nregion = eu-west-1\n")
    key_id, secret = world.add_key("base")
    before = datetime.now(UTC)
    resolved = world.get("base")
    creds = resolved.credentials
    assert creds.access_key_id.startswith(("AKIA", "ASIA")) and creds.access_key_id != key_id
    assert creds.session_token and creds.secret_access_key != secret
    assert creds.expiration is not None and creds.expiration.tzinfo is not None
    assert abs((creds.expiration - before).total_seconds() - 3600) < 60
    assert creds.account_id == ACCOUNT_ID
    assert resolved.region == "eu-west-1" and not resolved.from_cache
    assert world.proxy.count("GetSessionToken") == 1
    assert world.proxy.params("GetSessionToken")[0]["DurationSeconds"] == "3600"
    assert "SerialNumber" not in world.proxy.params("GetSessionToken")[0]
    # Cached encrypted: one session item, and nothing readable in the vault file.
    items = world.session_items()
    assert len(items) == 1
    (item,) = items.values()
    assert item["cache"]["profile"] == "base" and item["cache"]["kind"] == "session"
    raw = next(Path(world.env["XDG_DATA_HOME"]).rglob("vault.awsv")).read_bytes()
    for visible in (creds.access_key_id, creds.secret_access_key, "base", key_id):
        assert visible.encode() not in raw


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_role_chains_end_in_the_last_role(world: AwsvWorld, hops: int) -> None:
    world.config(_roles(hops))
    world.add_key("base")
    resolved = world.get(f"r{hops}")
    creds = resolved.credentials
    assert creds.arn is not None and f":assumed-role/role{hops}/awsv-" in creds.arn
    assert creds.account_id == str(hops) * 12
    # The credentials really are the last role's: ask moto who they belong to.
    arn = caller_arn(world.moto_url, creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert arn.startswith(f"arn:aws:sts::{str(hops) * 12}:assumed-role/role{hops}/")
    assert [p["RoleArn"] for p in world.proxy.params("AssumeRole")] == [
        f"arn:aws:iam::{str(i) * 12}:role/role{i}" for i in range(1, hops + 1)
    ]
    # No mfa_serial on the source: a session would add nothing (rule 4).
    assert world.proxy.count("GetSessionToken") == 0
    assert resolved.region == "eu-west-1"
    assert len(world.session_items()) == hops


def test_role_options_are_sent(world: AwsvWorld) -> None:
    world.config("""
        [profile base]
        [profile ops]
        role_arn = arn:aws:iam::222222222222:role/ops
        source_profile = base
        external_id = ext-123
        role_session_name = alice-ops
        duration_seconds = 1800
        region = ap-south-1
    """)
    world.add_key("base")
    resolved = world.get("ops", region="us-west-2")
    (sent,) = world.proxy.params("AssumeRole")
    assert sent["ExternalId"] == "ext-123" and sent["RoleSessionName"] == "alice-ops"
    assert sent["DurationSeconds"] == "1800"
    assert resolved.region == "us-west-2"
    assert resolved.credentials.arn.endswith(":assumed-role/ops/alice-ops")


def test_missing_key_names_the_profile(world: AwsvWorld) -> None:
    world.config("[profile base]\n[profile r1]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n")
    with pytest.raises(AwsvError) as err:
        world.get("r1")
    assert err.value.message == "no key stored for 'base'"
    assert err.value.hint == "awsv add base"
    assert world.proxy.count() == 0


# -- the cache -------------------------------------------------------------------


def test_second_call_comes_from_the_cache(world: AwsvWorld) -> None:
    world.config(_roles(2))
    world.add_key("base")
    first = world.get("r2")
    calls = world.proxy.count()
    again = world.get("r2")
    assert again.from_cache and not first.from_cache
    assert again.credentials == first.credentials
    assert world.proxy.count() == calls
    # A new process (new Context, same vault file) hits the cache too.
    world.new_process()
    assert world.get("r2").from_cache and world.proxy.count() == calls


def test_two_roles_share_one_mfa_session(world: AwsvWorld) -> None:
    script, count = _counter(world, "mfa")
    world.config(f"""
        [profile base]
        mfa_serial = {MFA}
        mfa_process = {script}
        [profile a]
        role_arn = arn:aws:iam::111111111111:role/a
        source_profile = base
        [profile b]
        role_arn = arn:aws:iam::222222222222:role/b
        source_profile = base
        mfa_serial = {MFA}
    """)
    world.add_key("base")
    a = world.get("a")
    b = world.get("b")
    assert not a.from_cache and not b.from_cache
    assert world.proxy.count("GetSessionToken") == 1 and world.proxy.count("AssumeRole") == 2
    assert _runs(count) == 1  # asked for one code only
    (session,) = world.proxy.params("GetSessionToken")
    assert session["SerialNumber"] == MFA and session["TokenCode"] == "123456"
    assert all("SerialNumber" not in p for p in world.proxy.params("AssumeRole"))
    assert a.credentials.account_id == "111111111111" and b.credentials.account_id == "222222222222"
    # Both cached; listing shows one session and two roles.
    listed = cached_sessions(world.ctx)
    assert sorted((s.profile, s.kind) for s in listed) == [("a", "role"), ("b", "role"), ("base", "session")]
    assert all(not s.expired and 3000 < s.seconds_left <= 3600 for s in listed)
    assert {s.role_arn for s in listed if s.kind == "role"} == {
        "arn:aws:iam::111111111111:role/a",
        "arn:aws:iam::222222222222:role/b",
    }
    assert world.get("a").from_cache and _runs(count) == 1


def test_a_role_with_its_own_device_sends_its_own_code(world: AwsvWorld) -> None:
    other_device = "arn:aws:iam::123456789012:mfa/bob"
    source_script, source_count = _counter(world, "mfa-a", code="111111")
    role_script, role_count = _counter(world, "mfa-b", code="222222")
    world.config(f"""
        [profile base]
        mfa_serial = {MFA}
        mfa_process = {source_script}
        [profile secure]
        role_arn = arn:aws:iam::111111111111:role/secure
        source_profile = base
        mfa_serial = {other_device}
        mfa_process = {role_script}
    """)
    world.add_key("base")
    world.get("secure")
    (session,) = world.proxy.params("GetSessionToken")
    (role,) = world.proxy.params("AssumeRole")
    assert (session["SerialNumber"], session["TokenCode"]) == (MFA, "111111")
    assert (role["SerialNumber"], role["TokenCode"]) == (other_device, "222222")
    assert (_runs(source_count), _runs(role_count)) == (1, 1)


def test_a_mfa_token_with_a_valid_cached_session_uses_the_cache(world: AwsvWorld) -> None:
    world.config(f"[profile base]\nmfa_serial = {MFA}\n")
    world.add_key("base")
    world.get("base", mfa_token="111111")
    again = world.get("base", mfa_token="222222")
    assert again.from_cache and world.proxy.count("GetSessionToken") == 1


def test_min_ttl_decides_reuse(world: AwsvWorld) -> None:
    world.config(_roles(1))
    world.add_key("base")
    start = datetime.now(UTC)
    first = world.get("r1")
    expires = first.credentials.expiration
    assert expires is not None
    # 400 s before expiry: still more than the default 5 min left -> cached.
    assert world.get("r1", now=lambda: expires - timedelta(seconds=400)).from_cache
    # 200 s before expiry: within the minimum TTL -> refreshed.
    refreshed = world.get("r1", now=lambda: expires - timedelta(seconds=200))
    assert not refreshed.from_cache and world.proxy.count("AssumeRole") == 2
    assert refreshed.credentials.access_key_id != first.credentials.access_key_id
    # AWSV_MIN_TTL moves the boundary: with 10 min, 400 s before expiry is too late.
    world.env["AWSV_MIN_TTL"] = "10m"
    new_expiry = refreshed.credentials.expiration
    assert new_expiry is not None and new_expiry > start
    assert not world.get("r1", now=lambda: new_expiry - timedelta(seconds=400)).from_cache
    assert world.proxy.count("AssumeRole") == 3


def test_rotated_key_does_not_reuse_the_old_session(world: AwsvWorld) -> None:
    world.config("[profile base]\n")
    world.add_key("base")
    world.get("base")
    world.add_key("base", user="rotated")  # a new access key id for the same profile
    assert not world.get("base").from_cache
    assert world.proxy.count("GetSessionToken") == 2


def test_clear_sessions(world: AwsvWorld) -> None:
    world.config(_roles(2) + "[profile other]\n")
    world.add_key("base")
    world.add_key("other")
    world.get("r1")
    world.get("r2")
    world.get("other")
    assert len(world.session_items()) == 3  # r1 (shared by r2), r2, other's session
    assert clear_sessions(world.ctx, "r1") == 1
    assert sorted(i["cache"]["profile"] for i in world.session_items().values()) == ["other", "r2"]
    assert clear_sessions(world.ctx, "nonexistent-profile") == 0
    assert clear_sessions(world.ctx) == 2
    assert world.session_items() == {}
    assert world.ctx.vault.get(key_item_name("base")) is not None  # keys stay


# -- durations and the GetSessionToken rules ---------------------------------------


@pytest.mark.parametrize(
    "raw, seconds",
    [
        ("3600", 3600),
        ("1h", 3600),
        ("45m", 2700),
        ("1h30m", 5400),
        ("90s", 90),
        ("2h0m30s", 7230),
        (" 15m ", 900),
        ("0", 0),
    ],
)
def test_parse_duration(raw: str, seconds: int) -> None:
    assert parse_duration(raw, "X") == seconds


@pytest.mark.parametrize("raw", ["", "1d", "h", "-5", "1.5h", "30m1h", "1 h", "abc"])
def test_parse_duration_rejects(raw: str) -> None:
    with pytest.raises(UsageError, match=r"^MYVAR = "):
        parse_duration(raw, "MYVAR")


def test_ttl_variables() -> None:
    assert Ttls.from_env({}) == Ttls(3600, 3600, 300)
    assert Ttls.from_env({"AWS_SESSION_TOKEN_TTL": "2h", "AWS_ASSUME_ROLE_TTL": "30m", "AWS_MIN_TTL": "1m"}) == Ttls(
        7200, 1800, 60
    )
    assert Ttls.from_env({"AWSV_SESSION_TTL": "1h30m", "AWS_SESSION_TOKEN_TTL": "2h"}).session == 5400
    for var, value in [("AWSV_SESSION_TTL", "soon"), ("AWS_ASSUME_ROLE_TTL", "10m"), ("AWSV_MIN_TTL", "-1")]:
        with pytest.raises(UsageError) as err:
            Ttls.from_env({var: value})
        assert var in err.value.message


def test_ttl_variables_reach_sts(world: AwsvWorld) -> None:
    world.config(_roles(1) + "[profile plain]\n")
    world.add_key("base")
    world.add_key("plain")
    world.env.update(AWSV_SESSION_TTL="45m", AWS_ASSUME_ROLE_TTL="50m")
    world.get("plain")
    world.get("r1")
    assert world.proxy.params("GetSessionToken")[0]["DurationSeconds"] == "2700"
    assert world.proxy.params("AssumeRole")[0]["DurationSeconds"] == "3000"
    world.env["AWSV_SESSION_TTL"] = "a while"
    with pytest.raises(UsageError, match="AWSV_SESSION_TTL"):
        world.get("plain")


def test_duration_option_applies_to_the_final_step(world: AwsvWorld) -> None:
    world.config(f"[profile base]\nmfa_serial = {MFA}\n" + _roles(2).split("\n", 2)[2])
    world.add_key("base")
    world.get("r2", duration=1200, mfa_token="123456")
    assert world.proxy.params("GetSessionToken")[0]["DurationSeconds"] == "3600"
    assert [p["DurationSeconds"] for p in world.proxy.params("AssumeRole")] == ["3600", "1200"]
    world.get("base", duration=7200, mfa_token="123456")  # plain: the session is the final step
    assert world.proxy.params("GetSessionToken")[1]["DurationSeconds"] == "7200"
    with pytest.raises(UsageError, match="--duration"):
        world.get("base", duration=60)


def test_no_session_on_a_plain_profile_returns_the_key(world: AwsvWorld) -> None:
    world.config("[profile base]\n")
    key_id, secret = world.add_key("base", user="alice")
    resolved = world.get("base", no_session=True)
    creds = resolved.credentials
    assert (creds.access_key_id, creds.secret_access_key) == (key_id, secret)
    assert creds.session_token is None and creds.expiration is None
    assert creds.account_id == ACCOUNT_ID and creds.arn.endswith(":user/alice")
    assert world.proxy.count("GetSessionToken") == 0 and world.session_items() == {}


def test_no_session_with_mfa_moves_the_code_to_the_first_role(world: AwsvWorld) -> None:
    world.config(f"[profile base]\nmfa_serial = {MFA}\n" + _roles(2).split("\n", 2)[2])
    world.add_key("base")
    world.get("r2", no_session=True, mfa_token="654321")
    assert world.proxy.count("GetSessionToken") == 0
    first, second = world.proxy.params("AssumeRole")
    assert first["SerialNumber"] == MFA and first["TokenCode"] == "654321"
    assert "SerialNumber" not in second


@pytest.mark.parametrize("where", ["profile", "option", "env"])
def test_a_role_over_one_hour_skips_the_session(world: AwsvWorld, where: str) -> None:
    extra = "duration_seconds = 7200\n" if where == "profile" else ""
    world.config(f"""
        [profile base]
        mfa_serial = {MFA}
        [profile long]
        role_arn = arn:aws:iam::111111111111:role/long
        source_profile = base
        {extra}
    """)
    world.add_key("base")
    if where == "env":
        world.env["AWSV_ASSUME_ROLE_TTL"] = "2h"
    world.get("long", mfa_token="123456", **({"duration": 7200} if where == "option" else {}))
    assert world.proxy.count("GetSessionToken") == 0
    (sent,) = world.proxy.params("AssumeRole")
    assert sent["DurationSeconds"] == "7200" and sent["SerialNumber"] == MFA


def test_exactly_one_hour_keeps_the_session(world: AwsvWorld) -> None:
    world.config(f"""
        [profile base]
        mfa_serial = {MFA}
        [profile hour]
        role_arn = arn:aws:iam::111111111111:role/hour
        source_profile = base
        duration_seconds = 3600
    """)
    world.add_key("base")
    world.get("hour", mfa_token="123456")
    assert world.proxy.count("GetSessionToken") == 1


# -- credential_process sources ---------------------------------------------------


def _cp_json(expires_in: int = 3600, **extra: object) -> str:
    exp = (datetime.now(UTC) + timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {
        "Version": 1,
        "AccessKeyId": "ASIACPEXAMPLE0000001",
        "SecretAccessKey": "cp-secret-do-not-show",
        "SessionToken": "cp-token",
        "Expiration": exp,
        **extra,
    }
    return json.dumps(doc)


def test_credential_process_source(world: AwsvWorld) -> None:
    count = world.home / "cp.count"
    script = world.script("cp", f"echo run >> '{count}'\ncat <<'EOF'\n{_cp_json(AccountId='444455556666')}\nEOF\n")
    world.config(f"""
        [profile ext]
        credential_process = {script} --flag "two words"
        [profile ext-role]
        role_arn = arn:aws:iam::555555555555:role/from-cp
        source_profile = ext
    """)
    plain = world.get("ext")
    assert plain.credentials.access_key_id == "ASIACPEXAMPLE0000001"
    assert plain.credentials.session_token == "cp-token"
    assert plain.credentials.account_id == "444455556666"
    assert plain.credentials.expiration is not None and plain.credentials.expiration.tzinfo is not None
    assert world.proxy.count() == 0 and world.session_items() == {}
    role = world.get("ext-role")
    assert role.credentials.account_id == "555555555555"
    assert world.proxy.count("GetSessionToken") == 0 and world.proxy.count("AssumeRole") == 1
    assert _runs(count) == 2
    # The role is cached; the command is not run again to reuse it.
    assert world.get("ext-role").from_cache and _runs(count) == 2


def test_credential_process_gets_no_vault_passphrase(world: AwsvWorld) -> None:
    seen = world.home / "seen-env"
    script = world.script("cp", f"env > '{seen}'\necho '{_cp_json()}'\n")
    world.config(f"[profile ext]\ncredential_process = {script}\n")
    world.env["AWSV_PASSPHRASE_COMMAND"] = "echo nope"
    world.get("ext")
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines()}
    assert "HOME" in names
    assert not names & {"AWSV_FILE_PASSPHRASE", "AWSV_PASSPHRASE_COMMAND"}


@pytest.mark.parametrize(
    "body, message",
    [
        ('echo \'{"AccessKeyId": "LEAKED-SECRET"}\' ; exit 3', "failed with exit status 3"),
        ("echo 'LEAKED-SECRET is not json'", "did not print a JSON document"),
        ('echo \'{"Version": 2, "AccessKeyId": "x", "SecretAccessKey": "LEAKED-SECRET"}\'', "unsupported Version"),
        ('echo \'{"Version": 1, "AccessKeyId": "x"}\'', "printed no SecretAccessKey"),
        (f"echo '{_cp_json(expires_in=-60)}'", "already expired"),
        (
            (
                'echo \'{"Version": 1, "AccessKeyId": "x", "SecretAccessKey": "LEAKED-SECRET", '
                '"Expiration": "tomorrow"}\''
            ),
            "not an ISO 8601 time",
        ),
    ],
)
def test_credential_process_failures(world: AwsvWorld, body: str, message: str) -> None:
    script = world.script("cp", body + "\n")
    world.config(
        f"[profile ext]\ncredential_process = {script}\n"
        "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = ext\n"
    )
    for profile in ("ext", "r"):
        with pytest.raises(CredentialProcessError) as err:
            world.get(profile)
        text = err.value.message
        assert text.startswith("credential_process of profile 'ext'") and message in text
        assert "LEAKED" not in text and "LEAKED" not in (err.value.hint or "")
        assert "\n" not in text
    assert world.proxy.count() == 0 and world.session_items() == {}


def test_credential_process_missing_command(world: AwsvWorld) -> None:
    world.config("[profile ext]\ncredential_process = /nonexistent/helper --x\n")
    with pytest.raises(CredentialProcessError, match="command not found: '/nonexistent/helper'"):
        world.get("ext")


# -- MFA ---------------------------------------------------------------------------


def test_mfa_token_is_sent_with_get_session_token(world: AwsvWorld) -> None:
    world.config(f"[profile base]\nmfa_serial = {MFA}\n")
    world.add_key("base")
    world.get("base", mfa_token="314159")
    (sent,) = world.proxy.params("GetSessionToken")
    assert sent["SerialNumber"] == MFA and sent["TokenCode"] == "314159"


@pytest.mark.parametrize("token", ["12345", "1234567", "12a456", ""])
def test_bad_mfa_token_is_a_usage_error(world: AwsvWorld, token: str) -> None:
    world.config(f"[profile base]\nmfa_serial = {MFA}\n")
    world.add_key("base")
    with pytest.raises(UsageError, match="--mfa-token must be the 6 digits"):
        world.get("base", mfa_token=token)
    assert world.proxy.count() == 0


def test_mfa_process(world: AwsvWorld) -> None:
    script, count = _counter(world, "code", code="271828")
    world.config(f"[profile base]\nmfa_serial = {MFA}\nmfa_process = {script} --account alice\n")
    world.add_key("base")
    world.get("base")
    assert world.proxy.params("GetSessionToken")[0]["TokenCode"] == "271828" and _runs(count) == 1


@pytest.mark.parametrize(
    "body, message",
    [
        ("echo 123456; exit 1", "failed with exit status 1"),
        ("echo not-a-code", "did not print a 6-digit code"),
    ],
)
def test_failing_mfa_process(world: AwsvWorld, body: str, message: str) -> None:
    script = world.script("code", body + "\n")
    world.config(f"[profile base]\nmfa_serial = {MFA}\nmfa_process = {script}\n")
    world.add_key("base")
    with pytest.raises(MfaUnavailable) as err:
        world.get("base")
    assert err.value.message.startswith("mfa_process of profile 'base'") and message in err.value.message
    assert "not-a-code" not in err.value.message
    assert world.proxy.requests == [] and world.session_items() == {}


_CHILD = """
import json, os, sys
from awsv.context import Context
from awsv.sessions import SessionOptions, get_credentials
from awsv.errors import AwsvError
try:
    r = get_credentials(Context(env=dict(os.environ)), sys.argv[1])
except AwsvError as e:
    print(json.dumps({"error": type(e).__name__, "message": e.message, "hint": e.hint}))
else:
    print(json.dumps({"from_cache": r.from_cache, "key": r.credentials.access_key_id}))
"""


def test_mfa_without_any_source_and_no_terminal_is_an_error(world: AwsvWorld) -> None:
    world.config(f"[profile base]\nmfa_serial = {MFA}\n")
    world.add_key("base")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "base"],
        env=world.env,
        capture_output=True,
        text=True,
        timeout=30,
        start_new_session=True,
        check=False,
    )  # no terminal
    out = json.loads(proc.stdout)
    assert out["error"] == "MfaUnavailable"
    assert out["message"] == (f"profile 'base' needs a code from MFA device {MFA} but there is no terminal to ask on")
    assert "--mfa-token" in out["hint"] and "mfa_process" in out["hint"]
    assert world.proxy.count() == 0


def test_mfa_prompt_on_the_terminal(world: AwsvWorld) -> None:
    """The code is asked on /dev/tty even with stdout captured; a bad answer is asked again."""
    import pexpect

    world.config(f"[profile base]\nmfa_serial = {MFA}\n")
    world.add_key("base")
    out = world.home / "out.json"
    script = world.home / "child.py"
    script.write_text(_CHILD)
    # stdout goes to a file, as under `eval "$(awsv use …)"`; the prompt still reaches the terminal.
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", f'exec "{sys.executable}" "{script}" base > "{out}"'],
        env=world.env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect_exact(f"MFA code for {MFA}: ")
    child.sendline("12")
    child.expect_exact("an MFA code is 6 digits")
    child.expect_exact(f"MFA code for {MFA}: ")
    child.sendline("161803")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert json.loads(out.read_text())["from_cache"] is False
    assert world.proxy.params("GetSessionToken")[0]["TokenCode"] == "161803"


# -- single flight -----------------------------------------------------------------

_RACER = """
import json, os, sys, time
from awsv.context import Context
from awsv.sessions import get_credentials
import botocore.session  # warm up, so the race starts at the cache check
ctx = Context(env=dict(os.environ))
ctx.vault.list()  # derive the vault key before the race
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.002)
r = get_credentials(ctx, sys.argv[1])
print(json.dumps({"from_cache": r.from_cache, "token": r.credentials.session_token}))
"""


def test_single_flight_refresh_across_processes(world: AwsvWorld) -> None:
    """Several processes asking at once for an absent session make ONE GetSessionToken call."""
    world.config("[profile base]\n")
    world.add_key("base")
    world.proxy.delay("GetSessionToken", 0.5)  # keep the winner busy while the others queue
    go = world.home / "go"
    racers = []
    for i in range(4):
        ready = world.home / f"ready-{i}"
        racers.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", _RACER, "base", str(ready), str(go)],
                    env=world.env,
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                ),
            )
        )
    deadline = time.monotonic() + 30
    while not all(ready.exists() for ready, _ in racers):
        assert time.monotonic() < deadline, "racers did not start"
        time.sleep(0.01)
    go.touch()
    results = []
    for _, proc in racers:
        stdout, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        results.append(json.loads(stdout))
    assert world.proxy.count("GetSessionToken") == 1
    assert sorted(r["from_cache"] for r in results) == [False, True, True, True]
    assert len({r["token"] for r in results}) == 1
    assert len(world.session_items()) == 1
    locks = Path(world.env["XDG_DATA_HOME"]) / "awsv" / "locks"
    assert oct(locks.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in locks.iterdir())


def test_boto_is_not_imported_on_a_cache_hit(world: AwsvWorld) -> None:
    """The hot path: a cached session is served without importing botocore."""
    world.config("[profile base]\n")
    world.add_key("base")
    world.get("base")
    code = _CHILD + "assert not [m for m in sys.modules if m.startswith('botocore')], 'botocore imported'\n"
    proc = subprocess.run(
        [sys.executable, "-c", code, "base"], env=world.env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["from_cache"] is True


def test_cli_asks_the_mfa_code_once_for_two_roles_on_a_pty(world: AwsvWorld) -> None:
    """The real CLI on a real terminal: `use a` asks for the code, `use b` (same source) does not."""
    import pexpect

    world.config(f"""
        [profile base]
        mfa_serial = {MFA}
        [profile a]
        role_arn = arn:aws:iam::111111111111:role/a
        source_profile = base
        [profile b]
        role_arn = arn:aws:iam::222222222222:role/b
        source_profile = base
    """)
    world.add_key("base")
    outputs = []
    for profile in ("a", "b"):
        out = world.home / f"{profile}.sh"
        # stdout captured as by eval "$(awsv use …)"; the prompt must still reach the terminal.
        child = pexpect.spawn(
            "/bin/sh",
            ["-c", (f'exec "{sys.executable}" -m awsv use {profile} --shell bash > "{out}"')],
            env=world.env,
            encoding="utf-8",
            timeout=30,
        )
        if profile == "a":
            child.expect_exact(f"MFA code for {MFA}: ")
            child.sendline("314159")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        assert "MFA code" not in (child.before or "")  # b: not asked
        outputs.append(out.read_text())
    assert world.proxy.count("GetSessionToken") == 1 and world.proxy.count("AssumeRole") == 2
    assert world.proxy.params("GetSessionToken")[0]["TokenCode"] == "314159"
    assert all("AWS_SESSION_TOKEN=" in o for o in outputs)


def test_the_package_names_load_on_first_use_and_the_cache_alone_stays_light() -> None:
    """`awsv list`/`clear` import the cache; the refresh side (STS, MFA, locks) stays out."""
    code = (
        "import sys, awsv.sessions as s\n"
        "from awsv.sessions import cached_sessions\n"
        "print(sorted(m for m in sys.modules if m.startswith(('awsv.sessions.', 'awsv.sts', 'awsv.mfa'))))\n"
        "print([n for n in s.__all__ if getattr(s, n, None) is None])  # every exported name loads\n"
        "print(len(s.__all__))\n"
    )
    helper = Path(__file__).resolve().parent.parent / "helper"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(helper)}, check=True
    ).stdout.splitlines()
    assert out == ["['awsv.sessions.cache', 'awsv.sessions.plan']", "[]", "9"]

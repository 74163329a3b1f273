"""STS failures: each becomes one typed error with one line, and the cache stays as it was.

moto never fails, so the faults come from the fault-injecting proxy in front
of it (tests/support/fault_proxy.py): STS error documents, delays past the
read timeout, dropped connections, garbage bodies. Connect timeouts and
refused connections use real local sockets.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from awsv import sts
from awsv.config import AwsConfig
from awsv.credentials import Credentials
from awsv.errors import AwsvError, ConfigError, UsageError
from awsv.sessions import get_credentials
from awsv.vault.items import LongTermKey
from tests.conftest import AwsvRunner
from tests.support import fault_proxy as _proxy
from tests.support import moto_server as _moto
from tests.support.fault_proxy import AwsvWorld, FaultProxy, unanswered_endpoint

# pytest fixtures used by this module
moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world

MFA = "arn:aws:iam::123456789012:mfa/alice"
ROLE = "arn:aws:iam::111111111111:role/admin"
CONFIG = f"""
    [profile base]
    mfa_serial = {MFA}
    [profile admin]
    role_arn = {ROLE}
    source_profile = base
    [profile long]
    role_arn = {ROLE}
    source_profile = base
    duration_seconds = 7200
    [profile other]
"""


@pytest.fixture
def fw(world: AwsvWorld) -> AwsvWorld:
    """A world with short timeouts and two attempts per call, keys for base and other."""
    world.env.update(AWSV_STS_MAX_ATTEMPTS="2", AWSV_STS_READ_TIMEOUT="0.5", AWSV_STS_CONNECT_TIMEOUT="0.5")
    world.config(CONFIG)
    world.secrets = [world.add_key("base")[1], world.add_key("other")[1]]
    return world


def _check_clean(err: AwsvError, world: AwsvWorld, before: dict[str, object]) -> None:
    """One line, no secret, and the cache exactly as it was."""
    text = err.message + "\n" + (err.hint or "")
    assert "\n" not in err.message and err.message
    assert "Traceback" not in text
    for secret in [*world.secrets, *_cached_secrets(before)]:
        assert secret not in text
    assert world.session_items() == before


def _cached_secrets(items: dict[str, object]) -> list[str]:
    out = []
    for item in items.values():
        assert isinstance(item, dict)
        out += [item["secret_access_key"], item["session_token"]]
    return out


def _cache_then_expire(world: AwsvWorld) -> tuple[dict[str, object], Callable[[], object]]:
    """Cache base's session and other's, then return a clock at which base's must be refreshed."""
    first = world.get("base", mfa_token="123456")
    world.get("other")
    before = world.session_items()
    assert len(before) == 2
    expiry = first.credentials.expiration
    assert expiry is not None
    return before, lambda: expiry - timedelta(seconds=60)


GST_FAULTS: list[tuple[str, Callable[[FaultProxy], None], type[sts.StsError], str]] = [
    (
        "access-denied",
        lambda p: p.fail(
            "GetSessionToken",
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/alice is not authorized",
            status=403,
        ),
        sts.StsAccessDenied,
        (
            "GetSessionToken for profile 'base': access denied: "
            "User: arn:aws:iam::123456789012:user/alice is not authorized"
        ),
    ),
    (
        "mfa",
        lambda p: p.fail(
            "GetSessionToken",
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
            status=403,
        ),
        sts.MfaFailed,
        ("GetSessionToken for profile 'base': MultiFactorAuthentication failed, the MFA code or device was rejected"),
    ),
    (
        "expired",
        lambda p: p.fail(
            "GetSessionToken", "ExpiredToken", "The security token included in the request is expired", status=400
        ),
        sts.StsExpiredToken,
        "GetSessionToken for profile 'base': AWS says the key stored for 'base' expired (ExpiredToken)",
    ),
    (
        "invalid-key",
        lambda p: p.fail(
            "GetSessionToken",
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            status=403,
        ),
        sts.StsInvalidClientTokenId,
        ("GetSessionToken for profile 'base': AWS does not recognise the key stored for 'base' (InvalidClientTokenId)"),
    ),
    (
        "signature",
        lambda p: p.fail(
            "GetSessionToken",
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            status=403,
        ),
        sts.StsSignatureDoesNotMatch,
        (
            "GetSessionToken for profile 'base': the secret of the key stored for 'base' does not match "
            "its access key id (SignatureDoesNotMatch)"
        ),
    ),
    (
        "throttled",
        lambda p: p.throttle("GetSessionToken"),
        sts.StsThrottled,
        "GetSessionToken for profile 'base': AWS is throttling requests (Throttling), still after 2 attempts",
    ),
    (
        "read-timeout",
        lambda p: p.delay("GetSessionToken", 1.0),
        sts.StsReadTimeout,
        "GetSessionToken for profile 'base': {endpoint} did not answer in time",
    ),
    (
        "closed",
        lambda p: p.close("GetSessionToken"),
        sts.StsUnreachable,
        "GetSessionToken for profile 'base': {endpoint} closed the connection without answering",
    ),
    (
        "garbage",
        lambda p: p.garbage("GetSessionToken"),
        sts.StsMalformedResponse,
        "GetSessionToken for profile 'base': {endpoint} sent an answer that is not a valid STS response",
    ),
    (
        "garbage-500",
        lambda p: p.garbage("GetSessionToken", status=500),
        sts.StsMalformedResponse,
        "GetSessionToken for profile 'base': {endpoint} answered HTTP 500 without a valid STS error",
    ),
    (
        "no-credentials",
        lambda p: p.garbage(
            "GetSessionToken",
            body=b"<GetSessionTokenResponse><GetSessionTokenResult></GetSessionTokenResult></GetSessionTokenResponse>",
        ),
        sts.StsMalformedResponse,
        "GetSessionToken for profile 'base': {endpoint} sent an answer that is not a valid STS response",
    ),
    (
        "validation",
        lambda p: p.fail(
            "GetSessionToken",
            "ValidationError",
            "1 validation error detected: Value '900000' at 'durationSeconds' failed",
        ),
        sts.StsInvalidRequest,
        (
            "GetSessionToken for profile 'base': ValidationError: "
            "1 validation error detected: Value '900000' at 'durationSeconds' failed"
        ),
    ),
    (
        "unknown",
        lambda p: p.fail("GetSessionToken", "IDPRejectedClaim", "the identity provider said no"),
        sts.StsError,
        "GetSessionToken for profile 'base' failed: IDPRejectedClaim: " + "the identity provider said no",
    ),
    (
        "identity-fails-after-session",
        lambda p: p.fail("GetCallerIdentity", "AccessDenied", "no", status=403),
        sts.StsAccessDenied,
        "GetCallerIdentity for profile 'base': access denied: no",
    ),
]


@pytest.mark.parametrize("name, inject, error, message", GST_FAULTS, ids=[f[0] for f in GST_FAULTS])
def test_get_session_token_faults(
    fw: AwsvWorld, name: str, inject: Callable[[FaultProxy], None], error: type[sts.StsError], message: str
) -> None:
    before, later = _cache_then_expire(fw)
    fw.proxy.reset()
    inject(fw.proxy)
    with pytest.raises(error) as err:
        fw.get("base", mfa_token="654321", now=later)
    assert err.value.message == message.format(endpoint=fw.proxy.url)
    assert err.value.exit_code == 1
    _check_clean(err.value, fw, before)
    retried = {"throttled", "read-timeout", "closed", "garbage-500"}
    assert fw.proxy.count("GetSessionToken") == (2 if name in retried else 1)


def test_throttling_then_success_is_retried(fw: AwsvWorld) -> None:
    fw.proxy.throttle("GetSessionToken", times=1)
    resolved = fw.get("base", mfa_token="123456")
    assert resolved.credentials.session_token
    assert fw.proxy.count("GetSessionToken") == 2
    assert len(fw.session_items()) == 1


def test_a_failing_role_caches_nothing_not_even_the_fresh_session(fw: AwsvWorld) -> None:
    fw.proxy.fail(
        "AssumeRole",
        "AccessDenied",
        f"User: arn:aws:sts::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: {ROLE}",
        status=403,
    )
    with pytest.raises(sts.StsAccessDenied) as err:
        fw.get("admin", mfa_token="123456")
    assert err.value.message.startswith(f"AssumeRole {ROLE} for profile 'admin': access denied: User: ")
    assert "trust policy" in (err.value.hint or "")
    assert fw.proxy.count("GetSessionToken") == 1  # the session worked…
    _check_clean(err.value, fw, {})  # …but was not stored


def test_expired_session_token_on_assume_role(fw: AwsvWorld) -> None:
    fw.get("base", mfa_token="123456")
    before = fw.session_items()
    fw.proxy.fail("AssumeRole", "ExpiredToken", "The security token included in the request is expired")
    with pytest.raises(sts.StsExpiredToken) as err:
        fw.get("admin")
    assert err.value.message == (
        f"AssumeRole {ROLE} for profile 'admin': AWS says the temporary "
        "credentials of profile 'base' expired (ExpiredToken)"
    )
    assert "awsv clear" in (err.value.hint or "")
    _check_clean(err.value, fw, before)


def test_mfa_rejected_on_assume_role(fw: AwsvWorld) -> None:
    """A role over 1 h skips the session, so the code goes with AssumeRole and fails there."""
    fw.proxy.fail(
        "AssumeRole",
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        status=403,
    )
    with pytest.raises(sts.MfaFailed) as err:
        fw.get("long", mfa_token="123456")
    assert err.value.message == (
        f"AssumeRole {ROLE} for profile 'long': MultiFactorAuthentication failed, the MFA code or device was rejected"
    )
    assert fw.proxy.params("AssumeRole")[0]["TokenCode"] == "123456"
    _check_clean(err.value, fw, {})


def test_connection_refused(fw: AwsvWorld) -> None:
    before, later = _cache_then_expire(fw)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fw.env["AWS_ENDPOINT_URL_STS"] = f"http://127.0.0.1:{port}"
    with pytest.raises(sts.StsUnreachable) as err:
        fw.get("other", now=later)
    assert err.value.message == f"GetSessionToken for profile 'other': cannot reach http://127.0.0.1:{port}"
    assert "AWS_ENDPOINT_URL_STS" in (err.value.hint or "")
    _check_clean(err.value, fw, before)


def test_connect_timeout(fw: AwsvWorld) -> None:
    before, later = _cache_then_expire(fw)
    fw.env["AWSV_STS_MAX_ATTEMPTS"] = "1"
    with unanswered_endpoint() as url:
        fw.env["AWS_ENDPOINT_URL_STS"] = url
        with pytest.raises(sts.StsConnectTimeout) as err:
            fw.get("other", now=later)
    assert err.value.message == f"GetSessionToken for profile 'other': timed out connecting to {url}"
    assert "AWSV_STS_CONNECT_TIMEOUT" in (err.value.hint or "")
    _check_clean(err.value, fw, before)


@pytest.mark.parametrize(
    "var, value",
    [
        ("AWSV_STS_READ_TIMEOUT", "fast"),
        ("AWSV_STS_CONNECT_TIMEOUT", "-1"),
        ("AWSV_STS_MAX_ATTEMPTS", "0"),
        ("AWSV_STS_MAX_ATTEMPTS", "2.5"),
    ],
)
def test_bad_network_settings(fw: AwsvWorld, var: str, value: str) -> None:
    fw.env[var] = value
    with pytest.raises(UsageError) as err:
        fw.get("other")
    assert err.value.message.startswith(f"{var} = {value!r}")
    assert fw.proxy.count() == 0


def test_bad_sts_regional_endpoints(fw: AwsvWorld) -> None:
    fw.config("[profile other]\nsts_regional_endpoints = sometimes\n")
    with pytest.raises(ConfigError, match="sts_regional_endpoints in profile 'other' = 'sometimes'"):
        fw.get("other")


# -- endpoint and client settings (no network: creating a client sends nothing) -----

KEY = LongTermKey("AKIAEXAMPLEEXAMPLE00", "not-a-real-secret-xxxxxxxxxxxxxxxxxxxxxx")


def _client(env: dict[str, str], config: str = "[profile p]\n", region: str | None = None) -> Any:
    """An STS client as awsv builds it (botocore's client, typed Any like awsv's StsFactory)."""
    profile = AwsConfig.parse(config).profile("p")
    return sts.make_factory(sts.ClientSettings.from_env(env, profile))(KEY, region)


def test_endpoint_precedence() -> None:
    cfg = "[profile p]\nendpoint_url = http://from-profile:1\n"
    both = {"AWS_ENDPOINT_URL_STS": "http://sts-only:2", "AWS_ENDPOINT_URL": "http://all:3"}
    assert _client(both, cfg).meta.endpoint_url == "http://sts-only:2"
    assert _client({"AWS_ENDPOINT_URL": "http://all:3"}, cfg).meta.endpoint_url == "http://all:3"
    assert _client({}, cfg).meta.endpoint_url == "http://from-profile:1"
    ignored = {**both, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert _client(ignored, cfg).meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_regional_and_legacy_endpoints() -> None:
    assert _client({}).meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"
    assert _client({}, region="eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
    legacy = "[profile p]\nsts_regional_endpoints = legacy\n"
    assert _client({}, legacy, "eu-west-1").meta.endpoint_url == "https://sts.amazonaws.com"
    assert (
        _client({"AWS_STS_REGIONAL_ENDPOINTS": "regional"}, legacy, "eu-west-1").meta.endpoint_url
        == "https://sts.eu-west-1.amazonaws.com"
    )


def test_client_settings_and_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The client ignores the user's AWS_PROFILE, config file and region; timeouts come from awsv's env."""
    (tmp_path / "config").write_text("[profile elsewhere]\nregion = sa-east-1\nendpoint_url = http://x:9\n")
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://from-process-env:9")
    client = _client({"AWSV_STS_CONNECT_TIMEOUT": "2.5", "AWSV_STS_READ_TIMEOUT": "7", "AWSV_STS_MAX_ATTEMPTS": "4"})
    assert client.meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"
    assert client.meta.region_name == "us-east-1"
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2.5, 7.0)
    assert config.retries == {"total_max_attempts": 4, "mode": "standard"}
    creds = client._request_signer._credentials  # the explicit key, not a provider chain's
    assert creds.access_key == KEY.access_key_id and creds.token is None
    defaults = _client({}).meta.config
    assert (defaults.connect_timeout, defaults.read_timeout) == (5.0, 15.0)
    assert defaults.retries["total_max_attempts"] == 3


def test_get_credentials_with_an_injected_factory(fw: AwsvWorld) -> None:
    """`sts_factory` is honoured: every client is built by it (here: a counting real factory)."""
    made: list[str | None] = []
    real = sts.make_factory(sts.ClientSettings(endpoint_url=fw.proxy.url))

    def factory(creds: Credentials | LongTermKey, region: str | None) -> Any:
        made.append(region)
        return real(creds, region)

    resolved = get_credentials(fw.ctx, "other", sts_factory=factory)
    assert resolved.credentials.account_id == "123456789012"
    assert made == [None, None]  # GetSessionToken, then GetCallerIdentity with the session


# -- the same faults through the real commands: use, export, exec -----------------------
#
# Each fault of GST_FAULTS, plus a refused connection and a connect timeout, hits
# the refresh of an expired cached session in a real `awsv` process, once per
# command. Each must end in one error line and exit 1, print nothing a shell or a
# program could take for credentials (use prints only code that fails, export
# nothing, exec never starts its command), and leave the cache exactly as it was.

CLI_FAULTS = [*(f[0] for f in GST_FAULTS), "refused", "connect-timeout"]
CLI_COMMANDS = {
    "use": ["use", "base", "--shell", "bash", "-t", "654321"],
    "export": ["export", "base", "--format", "json", "-t", "654321"],
    "exec": ["exec", "base", "-t", "654321", "--", "sh", "-c", "echo RAN"],
}


#: At CI size: one fault of each kind (rejection, retry, timeout, bad body, a failure
#: after a success, no connection), two per command; every fault meets every layer
#: below in the sessions-layer tests above.
CI_CLI_FAULTS = ("mfa", "throttled", "read-timeout", "garbage", "identity-fails-after-session", "connect-timeout")


def _cli_cases() -> list[tuple[str, str]]:
    """Every fault through every command at full size; at CI size CI_CLI_FAULTS, commands in turn."""
    from tests.hardening.conftest import FULL

    commands = list(CLI_COMMANDS)
    if FULL:
        return [(fault, command) for fault in CLI_FAULTS for command in commands]
    return [(fault, commands[i % len(commands)]) for i, fault in enumerate(CI_CLI_FAULTS)]


@contextlib.contextmanager
def _cli_fault(name: str, proxy: FaultProxy) -> Iterator[tuple[dict[str, str], str]]:
    """Arm fault `name`; yields the environment it needs and the message awsv must print."""
    if name == "refused":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}"
        yield {"AWS_ENDPOINT_URL_STS": url}, f"GetSessionToken for profile 'base': cannot reach {url}"
    elif name == "connect-timeout":
        with unanswered_endpoint() as url:
            yield (
                {"AWS_ENDPOINT_URL_STS": url, "AWSV_STS_MAX_ATTEMPTS": "1"},
                f"GetSessionToken for profile 'base': timed out connecting to {url}",
            )
    else:
        _, inject, _, message = next(f for f in GST_FAULTS if f[0] == name)
        if name == "read-timeout":
            proxy.delay("GetSessionToken", 3 * CLI_READ_TIMEOUT)  # past the read timeout, each attempt
        else:
            inject(proxy)
        yield {}, message.format(endpoint=proxy.url)


def _expire_cached_session(world: AwsvWorld, profile: str) -> None:
    """Leave `profile`'s cached session in the vault with one minute left: inside AWSV_MIN_TTL."""
    vault = world.ctx.vault
    soon = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0).isoformat()
    for name, item in world.session_items().items():
        if item.get("cache", {}).get("profile") == profile:
            vault.set(name, {**item, "expiration": soon})


#: Seconds; generous, so a loaded machine's slow moto is never taken for the fault under test.
CLI_READ_TIMEOUT = 2.0


@pytest.mark.parametrize("fault, command", _cli_cases())
def test_faults_through_use_export_and_exec(world: AwsvWorld, awsv: AwsvRunner, fault: str, command: str) -> None:
    fw = world
    fw.config(CONFIG)
    fw.secrets = [fw.add_key("base")[1], fw.add_key("other")[1]]
    fw.get("base", mfa_token="123456")
    fw.get("other")
    _expire_cached_session(fw, "base")
    fw.new_process()
    before = fw.session_items()
    assert len(before) == 2
    fw.proxy.reset()
    settings = {
        "AWSV_STS_MAX_ATTEMPTS": "2",
        "AWSV_STS_READ_TIMEOUT": str(CLI_READ_TIMEOUT),
        "AWSV_STS_CONNECT_TIMEOUT": "1",
    }
    with _cli_fault(fault, fw.proxy) as (env, message):
        r = awsv(*CLI_COMMANDS[command], env={**fw.env, **settings, **env})
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == f"awsv: error: {message}", r.stderr
    assert all(ln.startswith("awsv: hint: ") for ln in lines[1:]) and len(lines) <= 2, r.stderr
    for secret in [*fw.secrets, *_cached_secrets(before)]:
        assert secret not in r.stderr + r.stdout
    if command == "use":
        # Only code that fails: eval'd in a real bash, it stops an `&& deploy`.
        assert "AWS_" not in r.stdout
        shell = subprocess.run(
            ["bash", "-c", 'eval "$1" && echo DEPLOYED', "bash", r.stdout],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert shell.returncode == r.returncode and "DEPLOYED" not in shell.stdout  # fails with awsv's status
    else:
        assert r.stdout == ""  # export printed nothing; exec never ran `echo RAN`
    fw.new_process()
    assert fw.session_items() == before

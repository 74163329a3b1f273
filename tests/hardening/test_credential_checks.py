"""Defect 4, the remaining sources: credentials are checked before anything is signed or sent.

`sessions` and `credential_process` already check every value
(`credentials.check_values`); these tests cover the three places that build
credentials on their own: `whoami` (the shell's AWS_* variables), `login`
(the stored key it signs GetFederationToken with, and the credentials it sends
to the federation endpoint) and `federation` (GetFederationToken's answer).
Each bad value must give one error line naming the field and where it came
from, and nothing may reach STS or the federation endpoint.

Real components: the CLI as a subprocess, the file vault, moto behind the
recording fault proxy (which also plays the malformed GetFederationToken
answer moto would never send), and the federation stand-in of
tests/support/federation_server.py (AWS's endpoint cannot be reached here).
"""

from __future__ import annotations

import pytest

from awsv import federation as fedlib
from awsv.credentials import MAX_SESSION_TOKEN, Credentials, InvalidCredentials
from awsv.vault.items import LongTermKey, key_item_name
from tests.conftest import AwsvRunner
from tests.support import fault_proxy as _proxy
from tests.support import federation_server as _fed
from tests.support import moto_server as _moto
from tests.support.fault_proxy import AwsvWorld
from tests.support.federation_server import FederationServer
from tests.support.hostile_inputs import one_clean_line

moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world
federation_server, federation = _fed.federation_server, _fed.federation


def error_line(stderr: str) -> str:
    """The `awsv: error:` line, after checking it is one clean line (plus at most a hint)."""
    one_clean_line(stderr)
    return stderr.splitlines()[0]


ALPHABET = "contains characters other than printable ASCII without spaces"

#: (variable, bad value, what the error says about it)
ENV_CASES = [
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG\nbPxRfiCYEXAMPLEKEY", ALPHABET),
    ("AWS_SECRET_ACCESS_KEY", "with a space", ALPHABET),
    ("AWS_ACCESS_KEY_ID", "AKIA'EXAMPLE", "contains characters other than letters and digits"),
    ("AWS_SESSION_TOKEN", "t" * (MAX_SESSION_TOKEN + 1), f"is longer than {MAX_SESSION_TOKEN} characters"),
]


@pytest.mark.parametrize("var, value, says", ENV_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ENV_CASES)])
def test_whoami_checks_the_environment_before_signing(
    world: AwsvWorld, awsv: AwsvRunner, var: str, value: str, says: str
) -> None:
    shell = {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE01",
        "AWS_SECRET_ACCESS_KEY": "secret/never+shown",
        "AWS_SESSION_TOKEN": "token-never-shown",
        "AWS_ENDPOINT_URL_STS": world.proxy.url,
    }
    shell[var] = value
    r = awsv("whoami", env=shell)
    assert r.returncode == 1 and r.stdout == ""
    line = error_line(r.stderr)
    assert line == f"awsv: error: the credentials in this environment: {var} {says}"
    assert "never" not in r.stderr  # no value, secret or not, is echoed
    assert world.proxy.count() == 0, "a malformed credential reached STS"


@pytest.fixture
def lw(world: AwsvWorld, federation: FederationServer) -> AwsvWorld:
    world.env["AWSV_FEDERATION_URL"] = federation.url
    world.env["AWSV_STS_MAX_ATTEMPTS"] = "1"
    world.config("[profile alice]\nregion = eu-west-1\n")
    return world


def test_login_checks_the_stored_key_before_signing(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    bad = LongTermKey("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG\nbPxRfiCYEXAMPLEKEY")
    lw.ctx.vault.set(key_item_name("alice"), bad.to_item())
    r = awsv("login", "alice", "--stdout")
    assert r.returncode == 1 and r.stdout == ""
    assert error_line(r.stderr) == (f"awsv: error: the key stored for 'alice': SecretAccessKey {ALPHABET}")
    assert lw.proxy.count() == 0 and federation.requests == []


def _federation_answer(token: str) -> bytes:
    """A GetFederationToken answer, well-formed XML, whose SessionToken is `token`."""
    return (
        '<GetFederationTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetFederationTokenResult><Credentials>"
        f"<AccessKeyId>ASIAFEDERATED0000001</AccessKeyId><SecretAccessKey>fed/secret</SecretAccessKey>"
        f"<SessionToken>{token}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"
        "</Credentials><FederatedUser><Arn>arn:aws:sts::123456789012:federated-user/alice</Arn>"
        "<FederatedUserId>123456789012:alice</FederatedUserId></FederatedUser>"
        "</GetFederationTokenResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
        "</GetFederationTokenResponse>"
    ).encode()


@pytest.mark.parametrize(
    "token, says",
    [("two words", ALPHABET), ("t" * (MAX_SESSION_TOKEN + 1), f"is longer than {MAX_SESSION_TOKEN} characters")],
    ids=["space", "too-long"],
)
def test_login_checks_get_federation_tokens_answer(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, token: str, says: str
) -> None:
    lw.add_key("alice", user="alice")
    lw.proxy.garbage("GetFederationToken", body=_federation_answer(token))
    r = awsv("login", "alice", "--stdout")
    assert r.returncode == 1 and r.stdout == ""
    assert error_line(r.stderr) == (
        f"awsv: error: the credentials STS returned for GetFederationToken for profile 'alice': SessionToken {says}"
    )
    assert lw.proxy.count("GetFederationToken") == 1
    assert federation.requests == [], "a malformed credential reached the federation endpoint"


def test_signin_token_request_checks_what_it_would_send(federation: FederationServer) -> None:
    """The last guard: whatever built them, bad credentials never leave in the query."""
    bad = Credentials("ASIAEXAMPLEEXAMPLE01", "fed/secret", "token\r\nX-Injected: 1")
    with pytest.raises(InvalidCredentials) as err:
        fedlib.request_signin_token(federation.url, bad, env={}, origin="the role credentials of profile 'p'")
    assert err.value.message == f"the role credentials of profile 'p': SessionToken {ALPHABET}"
    assert federation.requests == []

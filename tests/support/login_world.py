"""The world of `awsv login`: profiles of every kind, two stored keys, and the federation stand-in.

`lw` extends tests/support/fault_proxy.py's world (moto behind the recording
proxy) with the stand-in federation endpoint of tests/support/federation_server.py;
`login_params` and `one_token_request` read back what a login sent it.
"""

from __future__ import annotations

import urllib.parse

import pytest

from tests.support import federation_server as _fed
from tests.support.fault_proxy import AwsvWorld
from tests.support.federation_server import FederationServer

MFA = "arn:aws:iam::123456789012:mfa/bob"


@pytest.fixture
def lw(world: AwsvWorld, federation: FederationServer) -> AwsvWorld:
    """A world with keys for alice and mfa-base, profiles of every kind, and the stand-in."""
    world.env["AWSV_FEDERATION_URL"] = federation.url
    world.env["AWSV_STS_MAX_ATTEMPTS"] = "1"
    cp = world.script(
        "cp",
        """\
        cat <<'EOF'
        {"Version": 1, "AccessKeyId": "ASIACPEXAMPLE0000001", "SecretAccessKey": "cp-secret-never-shown",
         "SessionToken": "cp-token-never-shown", "Expiration": "2099-01-01T00:00:00Z"}
        EOF
        """,
    )
    world.config(f"""
        [profile alice]
        region = eu-west-1
        [profile admin]
        role_arn = arn:aws:iam::111111111111:role/Admin
        source_profile = alice
        [profile mfa-base]
        mfa_serial = {MFA}
        region = eu-west-1
        [profile mfa-admin]
        role_arn = arn:aws:iam::111111111111:role/MfaAdmin
        source_profile = mfa-base
        [profile chained]
        role_arn = arn:aws:iam::222222222222:role/Chained
        source_profile = admin
        [profile ext]
        credential_process = {cp}
        region = us-east-2
        [profile ext-role]
        role_arn = arn:aws:iam::333333333333:role/FromCp
        source_profile = ext
        [profile china]
        role_arn = arn:aws-cn:iam::444444444444:role/CnAdmin
        source_profile = alice
        region = cn-north-1
    """)
    world.add_key("alice", user="alice")
    world.add_key("mfa-base", user="bob")
    return world


def login_params(url: str, federation: FederationServer) -> dict[str, str]:
    """The login URL's parameters, after checking it is the stand-in's endpoint with one of each."""
    base, _, query = url.partition("?")
    assert base == federation.url
    params = urllib.parse.parse_qs(query, keep_blank_values=True, strict_parsing=True)
    assert set(params) == {"Action", "Issuer", "Destination", "SigninToken"}
    assert all(len(v) == 1 for v in params.values())
    return {k: v[0] for k, v in params.items()}


def one_token_request(federation: FederationServer) -> _fed.Recorded:
    requests = federation.token_requests()
    assert len(requests) == 1, [(r.status, r.reason) for r in requests]
    assert requests[0].status == 200, requests[0].reason
    return requests[0]

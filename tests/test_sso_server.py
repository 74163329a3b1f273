"""The SSO stand-in answers boto3's own `sso-oidc` and `sso` clients as AWS would.

This is what lets the sign-in tests trust the stand-in: boto3 builds its
requests and parses the answers from the published service models, so a
wrong path, member name, location or error header fails here.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from typing import Any

import pytest

from tests.support.sso_browser import approve, approve_device
from tests.support.sso_clients import clients, device_token, register
from tests.support.sso_server import DEVICE_GRANT, SsoServer, sso, sso_server  # noqa: F401

START_URL = "https://example.awsapps.com/start"


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_device_flow_with_pending_slow_down_and_approval(sso: SsoServer) -> None:
    oidc, portal = clients(sso.url)
    reg = register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    assert auth["verificationUriComplete"].endswith(auth["userCode"])
    token_args = {
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "grantType": DEVICE_GRANT,
        "deviceCode": auth["deviceCode"],
    }
    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as pending:
        oidc.create_token(**token_args)
    assert error_code(pending) == "AuthorizationPendingException"
    with pytest.raises(oidc.exceptions.SlowDownException):
        oidc.create_token(**token_args)  # polled again at once
    assert approve_device(auth["verificationUriComplete"]) == 200
    token = oidc.create_token(**token_args)
    assert token["tokenType"] == "Bearer" and token["expiresIn"] > 0 and token["refreshToken"]
    assert sso.approvals == 1

    creds = portal.get_role_credentials(roleName="Admin", accountId="111111111111", accessToken=token["accessToken"])[
        "roleCredentials"
    ]
    assert creds["accessKeyId"].startswith("ASIA") and creds["expiration"] > 10**12
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.get_role_credentials(roleName="Admin", accountId="111111111111", accessToken="nope")


def test_denied_and_expired_device_codes(sso: SsoServer) -> None:
    oidc, _ = clients(sso.url)
    reg = register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    sso.approve_device(auth["userCode"], deny=True)
    with pytest.raises(oidc.exceptions.AccessDeniedException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=auth["deviceCode"],
        )
    late = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )
    sso.expire_device_codes()
    with pytest.raises(oidc.exceptions.ExpiredTokenException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType=DEVICE_GRANT,
            deviceCode=late["deviceCode"],
        )
    with pytest.raises(oidc.exceptions.InvalidClientException):
        oidc.start_device_authorization(clientId=reg["clientId"], clientSecret="wrong", startUrl=START_URL)


def test_authorization_code_with_pkce_and_refresh(sso: SsoServer) -> None:
    oidc, portal = clients(sso.url)
    redirect = "http://127.0.0.1:9/oauth/callback"
    reg = register(
        oidc, grantTypes=["authorization_code", "refresh_token"], redirectUris=[redirect], issuerUrl=START_URL
    )
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": reg["clientId"],
            "redirect_uri": redirect,
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scopes": "sso:account:access",
        }
    )
    # The scripted browser follows the page and posts approval; the final hop to
    # port 9 fails to connect, so read the code from the approval's redirect here.
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(sso.url.rsplit(":", 1)[1]))
    conn.request("GET", "/authorize?" + query)
    page = conn.getresponse()
    page.read()
    request_id = page.getheader("X-Request-Id")
    conn.request(
        "POST",
        "/authorize/approve",
        body=f"request={request_id}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    back = conn.getresponse()
    back.read()
    location = urllib.parse.urlsplit(back.getheader("Location") or "")
    params = urllib.parse.parse_qs(location.query)
    assert params["state"] == ["s1"]
    code = params["code"][0]
    base = {
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "grantType": "authorization_code",
        "code": code,
        "redirectUri": redirect,
    }
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(**base, codeVerifier="wrong-verifier")
    # A code works once, even after a failed attempt (as OAuth requires): start again.
    conn.request("GET", "/authorize?" + query)
    page = conn.getresponse()
    page.read()
    conn.request(
        "POST",
        "/authorize/approve",
        body=f"request={page.getheader('X-Request-Id')}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    back = conn.getresponse()
    back.read()
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(back.getheader("Location") or "").query)["code"][0]
    token = oidc.create_token(**{**base, "code": code}, codeVerifier=verifier)
    refreshed = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType="refresh_token",
        refreshToken=token["refreshToken"],
    )
    assert refreshed["accessToken"] != token["accessToken"]
    sso.revoke_refresh_tokens()
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        oidc.create_token(
            clientId=reg["clientId"],
            clientSecret=reg["clientSecret"],
            grantType="refresh_token",
            refreshToken=token["refreshToken"],
        )
    portal.logout(accessToken=refreshed["accessToken"])
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.list_accounts(accessToken=refreshed["accessToken"])


def test_paginators_follow_next_token(sso: SsoServer) -> None:
    oidc, portal = clients(sso.url)
    token = device_token(sso, oidc, register(oidc), START_URL)["accessToken"]
    pages = list(portal.get_paginator("list_accounts").paginate(accessToken=token))
    assert len(pages) == 2  # page size 1: the paginator had to follow nextToken
    names = [a["accountName"] for p in pages for a in p["accountList"]]
    assert names == ["Production", "Staging"]
    roles = [
        r["roleName"]
        for p in portal.get_paginator("list_account_roles").paginate(accessToken=token, accountId="111111111111")
        for r in p["roleList"]
    ]
    assert roles == ["Admin", "ReadOnly"]


def test_scripted_browser_follows_authorize_page(sso: SsoServer) -> None:
    """The BROWSER script reaches the redirect URI with a code (here the stand-in's own 404 page)."""
    oidc, _ = clients(sso.url)
    redirect = f"{sso.url}/callback"
    reg = register(oidc, grantTypes=["authorization_code"], redirectUris=[redirect])
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": reg["clientId"],
            "redirect_uri": redirect,
            "state": "x",
            "code_challenge": "c",
            "code_challenge_method": "S256",
        }
    )
    assert approve(f"{sso.url}/authorize?{query}") == 404  # the callback path is not the stand-in's
    assert sso.approvals == 1

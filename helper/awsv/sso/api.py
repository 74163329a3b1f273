"""The SSO OIDC and portal calls — the only SSO module that uses botocore (through `awsv.aws`).

Clients come from `awsv.aws.clients.create_client`, as STS's and IAM's do (an
isolated botocore session: no profile, no config file), unsigned as the
service models say (these APIs take a client secret or a bearer token, never
AWS credentials). Endpoints are chosen as botocore chooses them:
`AWS_ENDPOINT_URL_SSO_OIDC` (OIDC) or `AWS_ENDPOINT_URL_SSO` (portal), else
`AWS_ENDPOINT_URL`, all ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is
true; otherwise AWS's own endpoint in the session's `sso_region`. Every
failure goes through `awsv.aws.errors` and becomes one `SsoError` subclass
with a one-line message naming the step; never a token, a client secret or a
response body. The SSO error codes that mean something to the sign-in flow
(pending, slow down, invalid grant…) have classes of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from awsv.aws import clients
from awsv.aws.errors import ErrorFamily, aws_errors
from awsv.credentials import Credentials
from awsv.errors import AwsvError, ExitCode

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_NAME = "awsv"


class SsoError(AwsvError):
    """An SSO OIDC or portal call failed; the message names the step."""


class SsoAuthorizationPending(SsoError):
    """The user has not approved the device code yet (keep polling)."""


class SsoSlowDown(SsoError):
    """Polling too fast: add 5 seconds to the interval (RFC 8628)."""


class SsoExpired(SsoError):
    """The device code (or the sign-in it started) expired before approval."""


class SsoInvalidGrant(SsoError):
    """The code, device code or refresh token is invalid, used or revoked."""


class SsoAccessDenied(SsoError):
    """The user denied the sign-in."""


class SsoUnauthorized(SsoError):
    """The portal refused the access token (expired, signed out or revoked)."""


class SsoForbidden(SsoError):
    """The signed-in user has no access to this account and role."""


class SsoInvalidClient(SsoError):
    """The client registration is unknown or expired (register again)."""


class SsoLoginRequired(SsoError):
    """A sign-in is needed and cannot happen here (no terminal, or --no-prompt)."""

    exit_code = ExitCode.NEEDS_INPUT


_CODES: dict[str, type[SsoError]] = {
    "AuthorizationPendingException": SsoAuthorizationPending,
    "SlowDownException": SsoSlowDown,
    "ExpiredTokenException": SsoExpired,
    "InvalidGrantException": SsoInvalidGrant,
    "AccessDeniedException": SsoAccessDenied,
    "UnauthorizedException": SsoUnauthorized,
    "ForbiddenException": SsoForbidden,
    "InvalidClientException": SsoInvalidClient,
}


_HINTS: dict[type[SsoError], str] = {
    SsoForbidden: "the signed-in user cannot use this account and role; check sso_account_id "
    "and sso_role_name (`awsv sso sync --dry-run` shows what you can reach)",
    SsoUnauthorized: "the sign-in has ended; run `awsv sso login`",
}


@dataclass(frozen=True)
class Registration:
    """A public OIDC client registered by awsv. `repr` hides the secret."""

    client_id: str
    client_secret: str
    #: Epoch seconds after which the secret stops working.
    expires_at: int

    def __repr__(self) -> str:
        return f"Registration(client_id={self.client_id!r}, client_secret=<hidden>)"


@dataclass(frozen=True)
class NewToken:
    access_token: str
    expires_in: int
    refresh_token: str | None

    def __repr__(self) -> str:
        return f"NewToken(expires_in={self.expires_in}, refresh={'yes' if self.refresh_token else 'no'})"


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


def endpoint_url(env: Mapping[str, str], service: str) -> str | None:
    """`AWS_ENDPOINT_URL_SSO_OIDC` / `_SSO`, else `AWS_ENDPOINT_URL`, as botocore reads them."""
    return clients.endpoint_url(env, None, service)


def authorize_url(env: Mapping[str, str], region: str) -> str:
    """The OIDC authorization endpoint the browser opens (`…/authorize`)."""
    base = endpoint_url(env, "sso-oidc") or f"https://oidc.{region}.amazonaws.com"
    return base.rstrip("/") + "/authorize"


class Api:
    """The calls for one SSO region, with clients made on first use."""

    def __init__(self, env: Mapping[str, str], region: str) -> None:
        self.env, self.region = env, region
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            settings = clients.ClientSettings.from_env(self.env, service=service)
            self._clients[service] = clients.create_client(service, settings, None, self.region, error=SsoError)
        return self._clients[service]

    # -- SSO OIDC -------------------------------------------------------------

    def register_client(
        self, scopes: tuple[str, ...], *, redirect_uri: str | None = None, issuer_url: str | None = None
    ) -> Registration:
        """RegisterClient: for the device flow, or (with `redirect_uri`) for PKCE."""
        params: dict[str, Any] = {"clientName": CLIENT_NAME, "clientType": "public", "scopes": list(scopes)}
        if redirect_uri:
            params.update(grantTypes=["authorization_code", "refresh_token"], redirectUris=[redirect_uri])
            if issuer_url:
                params["issuerUrl"] = issuer_url
        with sso_errors(self._client("sso-oidc"), "RegisterClient"):
            answer = self._client("sso-oidc").register_client(**params)
            return Registration(
                str(answer["clientId"]), str(answer["clientSecret"]), int(answer["clientSecretExpiresAt"])
            )

    def start_device_authorization(self, reg: Registration, start_url: str) -> DeviceAuthorization:
        with sso_errors(self._client("sso-oidc"), "StartDeviceAuthorization"):
            a = self._client("sso-oidc").start_device_authorization(
                clientId=reg.client_id, clientSecret=reg.client_secret, startUrl=start_url
            )
            return DeviceAuthorization(
                str(a["deviceCode"]),
                str(a["userCode"]),
                str(a["verificationUri"]),
                a.get("verificationUriComplete"),
                int(a.get("expiresIn") or 600),
                int(a.get("interval") or 5),
            )

    def create_token(self, reg: Registration, grant: str, **params: str) -> NewToken:
        """CreateToken with `grant` (device code, authorization_code or refresh_token)."""
        with sso_errors(self._client("sso-oidc"), "CreateToken"):
            t = self._client("sso-oidc").create_token(
                clientId=reg.client_id, clientSecret=reg.client_secret, grantType=grant, **params
            )
            return NewToken(str(t["accessToken"]), int(t.get("expiresIn") or 0), t.get("refreshToken") or None)

    # -- portal ---------------------------------------------------------------

    def role_credentials(self, access_token: str, account_id: str, role_name: str) -> Credentials:
        """GetRoleCredentials: temporary credentials for the account and role."""
        with sso_errors(self._client("sso"), f"GetRoleCredentials {role_name} in {account_id}"):
            block = self._client("sso").get_role_credentials(
                accessToken=access_token, accountId=account_id, roleName=role_name
            )["roleCredentials"]
            values = [block["accessKeyId"], block["secretAccessKey"], block["sessionToken"]]
            if not all(isinstance(v, str) and v for v in values):
                raise KeyError("roleCredentials")
            expiry = datetime.fromtimestamp(int(block["expiration"]) / 1000, UTC).replace(microsecond=0)
            return Credentials(values[0], values[1], values[2], expiry, account_id=account_id)

    def accounts(self, access_token: str) -> list[dict[str, str]]:
        """ListAccounts, every page: [{accountId, accountName, emailAddress}]."""
        return self._pages("list_accounts", "accountList", "ListAccounts", accessToken=access_token)

    def roles(self, access_token: str, account_id: str) -> list[str]:
        """ListAccountRoles, every page: the role names."""
        rows = self._pages(
            "list_account_roles",
            "roleList",
            f"ListAccountRoles {account_id}",
            accessToken=access_token,
            accountId=account_id,
        )
        return [str(r["roleName"]) for r in rows]

    def _pages(self, op: str, key: str, what: str, **params: str) -> list[dict[str, str]]:
        client = self._client("sso")
        found: list[dict[str, str]] = []
        with sso_errors(client, what):
            for page in client.get_paginator(op).paginate(**params):
                found.extend(page.get(key) or [])
                if len(found) > 100_000:
                    raise SsoError(f"{what}: the portal returned over 100,000 entries")
        return found

    def logout(self, access_token: str) -> None:
        with sso_errors(self._client("sso"), "Logout"):
            self._client("sso").logout(accessToken=access_token)


def _sso_codes(code: str, message: str, what: str) -> AwsvError | None:
    """The codes the sign-in flow acts on, each its own class; others take the common rules."""
    kind = _CODES.get(code)
    return None if kind is None else kind(f"{what}: {code}", hint=_HINTS.get(kind))


ERRORS = ErrorFamily(
    service="SSO",
    base=SsoError,
    unreachable=SsoError,
    connect_timeout=SsoError,
    read_timeout=SsoError,
    malformed=SsoError,
    invalid_request=SsoError,
    access_denied=SsoAccessDenied,
    access_denied_hint="check the sso_account_id and sso_role_name the profile names",
    expired=SsoError,
    invalid_client_token_id=SsoError,
    signature_mismatch=SsoError,
    throttled=SsoError,
    special=_sso_codes,
    endpoint_settings="AWS_ENDPOINT_URL_SSO_OIDC / AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL",
    repeat_messages=False,
)


def sso_errors(client: Any, what: str, signer: str = "the SSO sign-in") -> AbstractContextManager[None]:
    """Every botocore failure in the block as one SsoError subclass naming `what`."""
    return aws_errors(client, what, signer, ERRORS)

"""AWS STS: the calls awsv makes (GetSessionToken, AssumeRole, GetCallerIdentity) and STS's errors.

Clients, settings and the mapping of botocore's failures are shared with the
other AWS services in `awsv.aws` (imported lazily: botocore costs ~100 ms and
the hot paths never load it). The names below are re-exported from there so
callers need one import. Every failure becomes one `StsError` subclass with
one line naming the step (profile and role), never a traceback, never a
secret, never the raw body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from awsv.aws.clients import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_REGION,
    ClientSettings,
    create_client,
    endpoint_of,
    endpoint_url,
    isolated_session,
    one_line,
)
from awsv.aws.errors import ErrorFamily, aws_errors
from awsv.credentials import Credentials, account_from_arn
from awsv.errors import AwsvError
from awsv.vault.items import LongTermKey

__all__ = [  # shared with the other services through awsv.aws, re-exported for callers
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_REGION",
    "ClientSettings",
    "endpoint_of",
    "endpoint_url",
    "isolated_session",
    "one_line",
]

#: (credentials to sign with, region) -> a botocore STS client.
StsFactory = Callable[["Credentials | LongTermKey", "str | None"], Any]


# -- errors ------------------------------------------------------------------


class StsError(AwsvError):
    """An STS call failed; the message names the step."""


class StsAccessDenied(StsError):
    """AccessDenied: the identity may not do this (trust policy, permissions, ExternalId…)."""


class MfaFailed(StsAccessDenied):
    """AWS rejected the MFA code or device (AccessDenied "MultiFactorAuthentication failed…")."""


class StsExpiredToken(StsError):
    """The credentials used to sign the call have expired."""


class StsBadCredentials(StsError):
    """The signing credentials are not valid: unknown key, or wrong secret."""


class StsInvalidClientTokenId(StsBadCredentials):
    """AWS does not know the access key id (deleted, rotated, or another partition)."""


class StsSignatureDoesNotMatch(StsBadCredentials):
    """The secret does not belong to the access key id (or the clock is far off)."""


class StsThrottled(StsError):
    """AWS kept throttling after every retry."""


class StsUnreachable(StsError):
    """No connection to the endpoint (refused, DNS, TLS, connection dropped)."""


class StsConnectTimeout(StsUnreachable):
    """Connecting to the endpoint took longer than the connect timeout."""


class StsReadTimeout(StsError):
    """The endpoint accepted the request but did not answer in time."""


class StsMalformedResponse(StsError):
    """The answer was not a valid STS response."""


class StsInvalidRequest(StsError):
    """AWS or botocore refused the request's parameters (duration, session name…)."""


# -- clients -----------------------------------------------------------------


def make_factory(settings: ClientSettings) -> StsFactory:
    """An StsFactory building clients with `settings`; one botocore session is shared."""
    cache: dict[str, Any] = {}

    def create(creds: Credentials | LongTermKey, region: str | None) -> Any:
        if "session" not in cache:
            cache["session"] = isolated_session(settings)
        return create_client(
            "sts", settings, creds, region, session=cache["session"], error=StsError, bad_region=StsInvalidRequest
        )

    return create


# -- calls -------------------------------------------------------------------


def get_session_token(
    client: Any,
    *,
    what: str,
    duration: int,
    serial: str | None = None,
    code: str | None = None,
    signer: str = "the credentials",
) -> Credentials:
    """GetSessionToken; `what` names the step in errors, `signer` the credentials used."""
    params: dict[str, Any] = {"DurationSeconds": duration}
    if serial:
        params.update(SerialNumber=serial, TokenCode=code)
    with sts_errors(client, what, signer):
        response = client.get_session_token(**params)
        return parse_credentials(response)


def assume_role(
    client: Any,
    *,
    what: str,
    role_arn: str,
    session_name: str,
    duration: int,
    external_id: str | None = None,
    serial: str | None = None,
    code: str | None = None,
    signer: str = "the credentials",
    extra: Mapping[str, Any] | None = None,
) -> Credentials:
    """AssumeRole; the result carries the assumed-role ARN and its account id.

    `extra` holds further AssumeRole parameters, checked by the caller
    (Tags, TransitiveTagKeys, SourceIdentity: see awsv.session_tags).
    """
    params: dict[str, Any] = {
        **(extra or {}),
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": duration,
    }
    if external_id:
        params["ExternalId"] = external_id
    if serial:
        params.update(SerialNumber=serial, TokenCode=code)
    with sts_errors(client, what, signer):
        response = client.assume_role(**params)
        creds = parse_credentials(response)
        arn = response.get("AssumedRoleUser", {}).get("Arn")
        if not isinstance(arn, str):
            raise KeyError("AssumedRoleUser")
        return Credentials(
            creds.access_key_id,
            creds.secret_access_key,
            creds.session_token,
            creds.expiration,
            account_id=account_from_arn(arn),
            arn=arn,
        )


def get_caller_identity(client: Any, *, what: str, signer: str = "the credentials") -> tuple[str, str]:
    """GetCallerIdentity: (account id, ARN) of whoever signs with the client's credentials."""
    with sts_errors(client, what, signer):
        response = client.get_caller_identity()
        account, arn = response["Account"], response["Arn"]
        if not isinstance(account, str) or not isinstance(arn, str):
            raise KeyError("Account")
        return account, arn


def parse_credentials(response: Mapping[str, Any]) -> Credentials:
    """The `Credentials` block of an STS answer; anything missing raises KeyError (malformed)."""
    block = response["Credentials"]
    expiration = block["Expiration"]
    if not isinstance(expiration, datetime) or expiration.tzinfo is None:
        raise KeyError("Expiration")
    values = [block["AccessKeyId"], block["SecretAccessKey"], block["SessionToken"]]
    if not all(isinstance(v, str) and v for v in values):
        raise KeyError("Credentials")
    # Whole seconds, as the cache stores them, so fresh and cached values compare equal.
    return Credentials(values[0], values[1], values[2], expiration.astimezone(UTC).replace(microsecond=0))


# -- error mapping -----------------------------------------------------------


def _mfa_rejected(code: str, message: str, what: str) -> AwsvError | None:
    if code in ("AccessDenied", "AccessDeniedException") and re.search(
        r"multi.?factor|\bMFA\b", message, re.IGNORECASE
    ):
        return MfaFailed(
            f"{what}: MultiFactorAuthentication failed, the MFA code or device was rejected",
            hint="wait for a fresh code (a code works only once) and check mfa_serial",
        )
    return None


ERRORS = ErrorFamily(
    service="STS",
    base=StsError,
    unreachable=StsUnreachable,
    connect_timeout=StsConnectTimeout,
    read_timeout=StsReadTimeout,
    malformed=StsMalformedResponse,
    invalid_request=StsInvalidRequest,
    access_denied=StsAccessDenied,
    access_denied_hint="check the role's trust policy, external_id and the caller's permissions",
    expired=StsExpiredToken,
    invalid_client_token_id=StsInvalidClientTokenId,
    signature_mismatch=StsSignatureDoesNotMatch,
    throttled=StsThrottled,
    special=_mfa_rejected,
)


def sts_errors(client: Any, what: str, signer: str) -> AbstractContextManager[None]:
    """Turn every botocore failure inside the block into one StsError subclass."""
    return aws_errors(client, what, signer, ERRORS)

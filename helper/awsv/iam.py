"""AWS IAM for key rotation: the calls awsv makes, and IAM's errors.

Clients, settings (`AWS_ENDPOINT_URL_IAM`, the `AWSV_STS_*` network settings,
`AWS_CA_BUNDLE`) and the mapping of botocore's failures are `awsv.aws`'s, as
for STS; every failure becomes one `IamError` subclass with one line naming
the step, never a secret or a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from awsv.aws.clients import ClientSettings, create_client
from awsv.aws.errors import ErrorFamily, aws_errors
from awsv.config import Profile
from awsv.credentials import Credentials
from awsv.errors import AwsvError
from awsv.vault.items import LongTermKey


class IamError(AwsvError):
    """An IAM call failed; the message names the step."""


class IamLimitExceeded(IamError):
    """LimitExceeded: e.g. the user already has two access keys."""


class IamNoSuchEntity(IamError):
    """NoSuchEntity: the user or key does not exist (any more)."""


class IamAccessDenied(IamError):
    """AccessDenied: the signer may not do this (a policy, often one requiring MFA)."""


class IamBadCredentials(IamError):
    """The signing credentials are unknown, wrong or expired."""


class IamUnreachable(IamError):
    """No answer from the IAM endpoint (connection, TLS, timeout)."""


@dataclass(frozen=True)
class AccessKeyInfo:
    """One access key of a user, as ListAccessKeys shows it (no secret)."""

    access_key_id: str
    status: str
    created: datetime | None = None


def make_client(
    env: Mapping[str, str], profile: Profile | None, creds: Credentials | LongTermKey, region: str | None
) -> Any:
    """An IAM client signed with `creds`; the region only picks the partition."""
    settings = ClientSettings.from_env(env, profile, service="iam")
    return create_client("iam", settings, creds, region, error=IamError)


# -- calls -------------------------------------------------------------------


def list_access_keys(
    client: Any, *, what: str, user: str | None = None, signer: str = "the credentials"
) -> list[AccessKeyInfo]:
    """The user's access keys (the caller's own when `user` is None)."""
    params = {"UserName": user} if user else {}
    with _errors(client, what, signer):
        response = client.list_access_keys(**params)
        return [
            AccessKeyInfo(str(k["AccessKeyId"]), str(k.get("Status", "?")), k.get("CreateDate"))
            for k in response["AccessKeyMetadata"]
        ]


def create_access_key(
    client: Any, *, what: str, user: str | None = None, signer: str = "the credentials"
) -> LongTermKey:
    """A new access key for the user; AWS shows its secret this once."""
    params = {"UserName": user} if user else {}
    with _errors(client, what, signer):
        block = client.create_access_key(**params)["AccessKey"]
        key_id, secret = block["AccessKeyId"], block["SecretAccessKey"]
        if not isinstance(key_id, str) or not isinstance(secret, str) or not key_id or not secret:
            raise KeyError("AccessKey")
        return LongTermKey(key_id, secret)


def delete_access_key(
    client: Any, *, what: str, access_key_id: str, user: str | None = None, signer: str = "the credentials"
) -> None:
    """Delete one access key of the user."""
    params = {"AccessKeyId": access_key_id, **({"UserName": user} if user else {})}
    with _errors(client, what, signer):
        client.delete_access_key(**params)


# -- error mapping -----------------------------------------------------------


def _iam_codes(code: str, message: str, what: str) -> AwsvError | None:
    said = f": {message}" if message else ""
    if code in ("LimitExceeded", "LimitExceededException"):
        return IamLimitExceeded(f"{what}: IAM limit reached{said}")
    if code == "NoSuchEntity":
        return IamNoSuchEntity(f"{what}: no such user or key{said}")
    return None


ERRORS = ErrorFamily(
    service="IAM",
    base=IamError,
    unreachable=IamUnreachable,
    connect_timeout=IamUnreachable,
    read_timeout=IamUnreachable,
    malformed=IamError,
    invalid_request=IamError,
    access_denied=IamAccessDenied,
    access_denied_hint="IAM calls often need an MFA session: set mfa_serial on the profile, "
    "or check the user's policies",
    expired=IamBadCredentials,
    invalid_client_token_id=IamBadCredentials,
    signature_mismatch=IamBadCredentials,
    throttled=IamError,
    special=_iam_codes,
)


def _errors(client: Any, what: str, signer: str) -> AbstractContextManager[None]:
    """Turn every botocore failure inside the block into one IamError subclass."""
    return aws_errors(client, what, signer, ERRORS)

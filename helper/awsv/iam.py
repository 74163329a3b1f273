"""Talking to AWS IAM for key rotation — beside `awsv.sts`, built the same way.

Like `awsv.sts`, botocore is imported only inside the functions here, the
client reads nothing of the user's own AWS setup (no profile, no config or
credentials file; credentials are passed in), and every failure becomes one
`IamError` subclass with one line naming the step, never a secret or a body.
Network settings are the STS ones (`AWSV_STS_CONNECT_TIMEOUT`,
`AWSV_STS_READ_TIMEOUT`, `AWSV_STS_MAX_ATTEMPTS`, `AWS_CA_BUNDLE`).

Endpoint, as botocore chooses it: `AWS_ENDPOINT_URL_IAM`, else
`AWS_ENDPOINT_URL`, else the profile's `endpoint_url` (all ignored when
`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true); otherwise AWS's IAM endpoint
for the region's partition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from awsv import sts
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


def endpoint_url(env: Mapping[str, str], profile: Profile | None) -> str | None:
    """The configured IAM endpoint URL, or None for AWS's own (see the module docstring)."""
    if (env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or "").strip().lower() == "true":
        return None
    for var in ("AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"):
        if env.get(var):
            return env[var]
    return profile.get("endpoint_url") if profile is not None else None


def make_client(env: Mapping[str, str], profile: Profile | None,
                creds: Credentials | LongTermKey, region: str | None) -> Any:
    """An IAM client signed with `creds`; the region only picks the partition."""
    from botocore import exceptions as bx
    from botocore.config import Config

    settings = dataclasses.replace(sts.ClientSettings.from_env(env, profile),
                                   endpoint_url=endpoint_url(env, profile))
    config = Config(connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
                    retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
                    user_agent_extra="awsv")
    try:
        # The same isolated botocore session STS clients use (no profile, no files).
        session = sts.isolated_session(settings)
        return session.create_client(
            "iam", region_name=region or sts.DEFAULT_REGION, endpoint_url=settings.endpoint_url,
            aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
            aws_session_token=getattr(creds, "session_token", None), config=config)
    except bx.InvalidRegionError:
        raise IamError(f"{region!r} is not a valid AWS region name",
                       hint="check --region and the profile's region") from None
    except (bx.BotoCoreError, ValueError) as exc:
        raise IamError(f"cannot create an IAM client: {sts.one_line(str(exc))}") from None


# -- calls -------------------------------------------------------------------


def list_access_keys(client: Any, *, what: str, user: str | None = None,
                     signer: str = "the credentials") -> list[AccessKeyInfo]:
    """The user's access keys (the caller's own when `user` is None)."""
    params = {"UserName": user} if user else {}
    with _errors(client, what, signer):
        response = client.list_access_keys(**params)
        return [AccessKeyInfo(str(k["AccessKeyId"]), str(k.get("Status", "?")), k.get("CreateDate"))
                for k in response["AccessKeyMetadata"]]


def create_access_key(client: Any, *, what: str, user: str | None = None,
                      signer: str = "the credentials") -> LongTermKey:
    """A new access key for the user; AWS shows its secret this once."""
    params = {"UserName": user} if user else {}
    with _errors(client, what, signer):
        block = client.create_access_key(**params)["AccessKey"]
        key_id, secret = block["AccessKeyId"], block["SecretAccessKey"]
        if not isinstance(key_id, str) or not isinstance(secret, str) or not key_id or not secret:
            raise KeyError("AccessKey")
        return LongTermKey(key_id, secret)


def delete_access_key(client: Any, *, what: str, access_key_id: str, user: str | None = None,
                      signer: str = "the credentials") -> None:
    """Delete one access key of the user."""
    params = {"AccessKeyId": access_key_id, **({"UserName": user} if user else {})}
    with _errors(client, what, signer):
        client.delete_access_key(**params)


def get_user(client: Any, *, what: str, signer: str = "the credentials") -> tuple[str, str]:
    """GetUser for the caller: (user name, user ARN)."""
    with _errors(client, what, signer):
        user = client.get_user()["User"]
        name, arn = user["UserName"], user["Arn"]
        if not isinstance(name, str) or not isinstance(arn, str):
            raise KeyError("User")
        return name, arn


# -- error mapping -----------------------------------------------------------

_BAD_CREDENTIALS = {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
                    "ExpiredTokenException", "RequestExpired"}


@contextmanager
def _errors(client: Any, what: str, signer: str) -> Iterator[None]:
    """Turn every botocore failure inside the block into one IamError subclass."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    endpoint = sts.endpoint_of(client, "the IAM endpoint")
    try:
        yield
    except bx.ClientError as exc:
        raise _client_error(exc, what, signer) from None
    except (bx.ConnectTimeoutError, bx.ReadTimeoutError):
        raise IamUnreachable(f"{what}: {endpoint} did not answer in time",
                             hint="try again; AWSV_STS_READ_TIMEOUT / AWSV_STS_CONNECT_TIMEOUT "
                                  "set the waits") from None
    except (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError, bx.SSLError):
        raise IamUnreachable(f"{what}: cannot reach {endpoint}",
                             hint="check the network, AWS_CA_BUNDLE and AWS_ENDPOINT_URL_IAM / "
                                  "AWS_ENDPOINT_URL / endpoint_url") from None
    except (ResponseParserError, KeyError, TypeError):
        raise IamError(f"{what}: {endpoint} sent an answer that is not a valid IAM response",
                       hint="is the endpoint really IAM? check AWS_ENDPOINT_URL_IAM / "
                            "AWS_ENDPOINT_URL / endpoint_url") from None
    except bx.ParamValidationError as exc:
        raise IamError(f"{what}: invalid request: {sts.one_line(str(exc))}") from None
    except bx.BotoCoreError as exc:
        raise IamError(f"{what} failed: {type(exc).__name__}") from None


def _client_error(exc: Any, what: str, signer: str) -> IamError:
    error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(error.get("Code") or "Unknown")
    message = sts.one_line(str(error.get("Message") or ""))
    said = f": {message}" if message else ""
    if code in ("LimitExceeded", "LimitExceededException"):
        return IamLimitExceeded(f"{what}: IAM limit reached{said}")
    if code == "NoSuchEntity":
        return IamNoSuchEntity(f"{what}: no such user or key{said}")
    if code in ("AccessDenied", "AccessDeniedException"):
        return IamAccessDenied(f"{what}: access denied{said}",
                               hint="IAM calls often need an MFA session: set mfa_serial on the "
                                    "profile, or check the user's policies")
    if code in _BAD_CREDENTIALS:
        return IamBadCredentials(f"{what}: AWS does not accept {signer} ({code})")
    if code.isdigit():
        return IamError(f"{what}: the endpoint answered HTTP {code} without a valid IAM error")
    return IamError(f"{what} failed: {code}{said}")

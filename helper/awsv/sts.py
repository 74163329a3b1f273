"""Talking to AWS STS — the only module that imports botocore.

botocore costs ~100 ms to import, and the hot paths (`awsv use` with a cached
session, credential_process) must not pay it, so it is imported inside the
functions here and nowhere else in awsv.

Clients are built from an explicit `botocore.session.Session` that reads
nothing of the user's own AWS setup: no profile (`AWS_PROFILE` could name a
profile that does not exist, or point at other credentials), no config or
credentials file, no region from the environment. Credentials are passed in
explicitly. What the user *does* control is read from awsv's injected
environment and the profile being used:

Endpoint, as botocore chooses it: `AWS_ENDPOINT_URL_STS`, else
`AWS_ENDPOINT_URL`, else the profile's `endpoint_url` (all three ignored when
`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true); otherwise AWS's own endpoint
for the region (us-east-1 when none is set), regional or global according to
`AWS_STS_REGIONAL_ENDPOINTS` / the profile's `sts_regional_endpoints`
(`regional` or `legacy`).

Network settings (documented user settings):

| variable | default | meaning |
| --- | --- | --- |
| `AWSV_STS_CONNECT_TIMEOUT` | 5 | seconds to wait for a connection |
| `AWSV_STS_READ_TIMEOUT` | 15 | seconds to wait for an answer |
| `AWSV_STS_MAX_ATTEMPTS` | 3 | attempts per call, first one included (botocore's standard retry mode) |

Every failure becomes one `StsError` subclass with one line naming the step
(profile and role), never a traceback, never a secret, never the raw body.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from awsv.config import Profile
from awsv.credentials import Credentials, account_from_arn
from awsv.errors import AwsvError, ConfigError, UsageError
from awsv.vault.items import LongTermKey

#: Region for STS when neither the profile nor --region names one.
DEFAULT_REGION = "us-east-1"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
DEFAULT_MAX_ATTEMPTS = 3

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


# -- settings ----------------------------------------------------------------


@dataclass(frozen=True)
class ClientSettings:
    """Everything about building an STS client that is not the credentials or region."""

    endpoint_url: str | None = None
    #: "regional", "legacy" or None (botocore's default).
    regional_endpoints: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ca_bundle: str | None = None
    use_fips: bool | None = None
    use_dualstack: bool | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], profile: Profile | None = None) -> ClientSettings:
        """Read the settings from the environment and the profile; bad values are UsageErrors."""
        return cls(
            endpoint_url=endpoint_url(env, profile),
            regional_endpoints=_regional_setting(env, profile),
            connect_timeout=_positive_float(env, "AWSV_STS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
            read_timeout=_positive_float(env, "AWSV_STS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
            max_attempts=_positive_int(env, "AWSV_STS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
            ca_bundle=env.get("AWS_CA_BUNDLE") or None,
            use_fips=_flag(env.get("AWS_USE_FIPS_ENDPOINT")),
            use_dualstack=_flag(env.get("AWS_USE_DUALSTACK_ENDPOINT")),
        )


def endpoint_url(env: Mapping[str, str], profile: Profile | None) -> str | None:
    """The configured STS endpoint URL, or None for AWS's own (see the module docstring)."""
    if _flag(env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        return None
    for var in ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"):
        if env.get(var):
            return env[var]
    return profile.get("endpoint_url") if profile is not None else None


def _regional_setting(env: Mapping[str, str], profile: Profile | None) -> str | None:
    origin, value = "AWS_STS_REGIONAL_ENDPOINTS", env.get("AWS_STS_REGIONAL_ENDPOINTS")
    if not value and profile is not None and profile.get("sts_regional_endpoints"):
        origin = f"sts_regional_endpoints in profile {profile.name!r}"
        value = profile.get("sts_regional_endpoints")
    if not value:
        return None
    value = value.strip().lower()
    if value not in ("regional", "legacy"):
        raise ConfigError(f"{origin} = {value!r}: expected 'regional' or 'legacy'")
    return value


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() == "true"


def _positive_float(env: Mapping[str, str], var: str, default: float) -> float:
    raw = env.get(var)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise UsageError(f"{var} = {raw!r}: expected a positive number of seconds")
    return value


def _positive_int(env: Mapping[str, str], var: str, default: int) -> int:
    raw = env.get(var)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{var} = {raw!r}: expected a whole number of attempts, at least 1")
    return value


# -- clients -----------------------------------------------------------------


def make_factory(settings: ClientSettings) -> StsFactory:
    """An StsFactory building clients with `settings`; one botocore session is shared."""
    cache: dict[str, Any] = {}

    def create(creds: Credentials | LongTermKey, region: str | None) -> Any:
        from botocore.config import Config  # only when a client is really needed

        if "session" not in cache:
            cache["session"] = isolated_session(settings)
        config = Config(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            # total_max_attempts counts the first try, so the variable means what it says.
            retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
            user_agent_extra="awsv",
        )
        from botocore import exceptions as bx

        try:
            return cache["session"].create_client(
                "sts",
                region_name=region or DEFAULT_REGION,
                endpoint_url=settings.endpoint_url,
                aws_access_key_id=creds.access_key_id,
                aws_secret_access_key=creds.secret_access_key,
                aws_session_token=getattr(creds, "session_token", None),
                config=config,
            )
        except bx.InvalidRegionError:
            raise StsInvalidRequest(f"{region!r} is not a valid AWS region name",
                                    hint="check --region and the profile's region") from None
        except (bx.BotoCoreError, ValueError) as exc:
            raise StsError(f"cannot create an STS client: {one_line(str(exc))}") from None

    return create


def isolated_session(settings: ClientSettings) -> Any:
    """A botocore session that reads no profile, no config file and no AWS_* variable that matters."""
    from botocore.session import Session

    def fixed(value: object) -> tuple[None, None, object, None]:
        # (config file key, env var, default, conversion): no file, no env, just the value.
        return (None, None, value, None)

    return Session(session_vars={
        "profile": fixed(None),
        "config_file": fixed("/nonexistent/awsv-no-config"),
        "credentials_file": fixed("/nonexistent/awsv-no-credentials"),
        "region": fixed(None),
        "ca_bundle": fixed(settings.ca_bundle),
        "sts_regional_endpoints": fixed(settings.regional_endpoints or "regional"),
        # The endpoint URL is decided by `endpoint_url()` from awsv's environment.
        "ignore_configured_endpoint_urls": fixed(True),
        "use_fips_endpoint": fixed(settings.use_fips),
        "use_dualstack_endpoint": fixed(settings.use_dualstack),
        "max_attempts": fixed(None),
        "retry_mode": fixed("standard"),
        "defaults_mode": fixed("legacy"),
    })


# -- calls -------------------------------------------------------------------


def get_session_token(client: Any, *, what: str, duration: int, serial: str | None = None,
                      code: str | None = None, signer: str = "the credentials") -> Credentials:
    """GetSessionToken; `what` names the step in errors, `signer` the credentials used."""
    params: dict[str, Any] = {"DurationSeconds": duration}
    if serial:
        params.update(SerialNumber=serial, TokenCode=code)
    with sts_errors(client, what, signer):
        response = client.get_session_token(**params)
        return parse_credentials(response)


def assume_role(client: Any, *, what: str, role_arn: str, session_name: str, duration: int,
                external_id: str | None = None, serial: str | None = None, code: str | None = None,
                signer: str = "the credentials",
                extra: Mapping[str, Any] | None = None) -> Credentials:
    """AssumeRole; the result carries the assumed-role ARN and its account id.

    `extra` holds further AssumeRole parameters, checked by the caller
    (Tags, TransitiveTagKeys, SourceIdentity: see awsv.session_tags).
    """
    params: dict[str, Any] = {**(extra or {}), "RoleArn": role_arn,
                              "RoleSessionName": session_name, "DurationSeconds": duration}
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
        return Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token,
                           creds.expiration, account_id=account_from_arn(arn), arn=arn)


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
    return Credentials(values[0], values[1], values[2],
                       expiration.astimezone(UTC).replace(microsecond=0))


# -- error mapping -----------------------------------------------------------

_THROTTLING = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
               "TooManyRequestsException", "RequestThrottled", "RequestThrottledException"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_INVALID_REQUEST = {"ValidationError", "InvalidParameterValue", "MalformedPolicyDocument",
                    "PackedPolicyTooLarge", "RegionDisabledException", "InvalidParameterCombination"}


@contextmanager
def sts_errors(client: Any, what: str, signer: str) -> Iterator[None]:
    """Turn every botocore failure inside the block into one StsError subclass."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    endpoint = endpoint_of(client)
    try:
        yield
    except bx.ClientError as exc:
        raise _client_error(exc, what, signer, client) from None
    except bx.ConnectTimeoutError:
        raise StsConnectTimeout(
            f"{what}: timed out connecting to {endpoint}",
            hint="check the network; AWSV_STS_CONNECT_TIMEOUT sets the wait (seconds)") from None
    except bx.ReadTimeoutError:
        raise StsReadTimeout(
            f"{what}: {endpoint} did not answer in time",
            hint="try again; AWSV_STS_READ_TIMEOUT sets the wait (seconds)") from None
    except bx.SSLError:
        raise StsUnreachable(f"{what}: TLS handshake with {endpoint} failed",
                             hint="check AWS_CA_BUNDLE and any proxy between you and AWS") from None
    except bx.ProxyConnectionError:
        raise StsUnreachable(f"{what}: cannot connect through the proxy to {endpoint}",
                             hint="check HTTPS_PROXY / NO_PROXY") from None
    except bx.ConnectionClosedError:
        raise StsUnreachable(f"{what}: {endpoint} closed the connection without answering",
                             hint="try again; check any proxy or firewall in between") from None
    except (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError):
        raise StsUnreachable(
            f"{what}: cannot reach {endpoint}",
            hint="check the network and AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / endpoint_url") from None
    except (ResponseParserError, KeyError, TypeError):
        raise StsMalformedResponse(
            f"{what}: {endpoint} sent an answer that is not a valid STS response",
            hint="is the endpoint really STS? check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / endpoint_url",
        ) from None
    except bx.ParamValidationError as exc:
        raise StsInvalidRequest(f"{what}: invalid request: {one_line(str(exc))}") from None
    except bx.BotoCoreError as exc:
        raise StsError(f"{what} failed: {type(exc).__name__}") from None


def _client_error(exc: Any, what: str, signer: str, client: Any) -> StsError:
    error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(error.get("Code") or "Unknown")
    message = one_line(str(error.get("Message") or ""))
    said = f": {message}" if message else ""
    if code in ("AccessDenied", "AccessDeniedException") and re.search(
            r"multi.?factor|\bMFA\b", message, re.IGNORECASE):
        return MfaFailed(f"{what}: MultiFactorAuthentication failed, the MFA code or device was rejected",
                         hint="wait for a fresh code (a code works only once) and check mfa_serial")
    if code in ("AccessDenied", "AccessDeniedException"):
        return StsAccessDenied(f"{what}: access denied{said}",
                               hint="check the role's trust policy, external_id and the caller's permissions")
    if code in _EXPIRED:
        return StsExpiredToken(f"{what}: AWS says {signer} expired ({code})",
                               hint="`awsv clear` drops cached sessions; check the system clock")
    if code == "InvalidClientTokenId":
        return StsInvalidClientTokenId(
            f"{what}: AWS does not recognise {signer} (InvalidClientTokenId)",
            hint="the key may have been deleted or rotated; store the current one with `awsv add`")
    if code == "SignatureDoesNotMatch":
        return StsSignatureDoesNotMatch(
            f"{what}: the secret of {signer} does not match its access key id (SignatureDoesNotMatch)",
            hint="store the key again with `awsv add`; also check the system clock")
    if code.isdigit():
        # botocore found no STS error document in the body, only an HTTP status.
        return StsMalformedResponse(
            f"{what}: {endpoint_of(client)} answered HTTP {code} without a valid STS error",
            hint="is the endpoint really STS? check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / endpoint_url")
    if code in _THROTTLING:
        attempts = _attempts(exc)
        return StsThrottled(f"{what}: AWS is throttling requests ({code}), still after {attempts} attempt"
                            f"{'s' if attempts != 1 else ''}",
                            hint="wait a little and try again; AWSV_STS_MAX_ATTEMPTS sets the retries")
    if code in _INVALID_REQUEST:
        return StsInvalidRequest(f"{what}: {code}{said}")
    return StsError(f"{what} failed: {code}{said}")


def _attempts(exc: Any) -> int:
    """How many requests botocore made before giving up."""
    meta = exc.response.get("ResponseMetadata", {}) if isinstance(exc.response, dict) else {}
    retries = meta.get("RetryAttempts")
    return int(retries) + 1 if isinstance(retries, int) else 1


def endpoint_of(client: Any, default: str = "the STS endpoint") -> str:
    """The client's endpoint for messages, without any user:password@ part."""
    url = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or default)
    return re.sub(r"//[^/@]*@", "//", url)


def one_line(text: str, limit: int = 300) -> str:
    """AWS's message on one line, printable, bounded."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

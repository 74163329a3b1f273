"""One mapping from botocore's failures to awsv's typed errors, for every AWS service.

Each service names its family of error classes (`ErrorFamily`) and, when it
has them, its own error codes (`ErrorFamily.special`); everything else —
timeouts, TLS, proxies, a body that is not the service's, throttling, expired
or unknown credentials, access denied — is worded once here. Messages are one
line naming the step (`what`) and the credentials used (`signer`), never a
secret or a raw body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from awsv.aws.clients import endpoint_of, one_line
from awsv.errors import AwsvError

_THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_INVALID_REQUEST = {
    "ValidationError",
    "InvalidParameterValue",
    "MalformedPolicyDocument",
    "PackedPolicyTooLarge",
    "RegionDisabledException",
    "InvalidParameterCombination",
}
_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException"}

#: (code, AWS's message on one line, what) -> the service's own error, or None for the common rules.
Special = Callable[[str, str, str], "AwsvError | None"]


@dataclass(frozen=True)
class ErrorFamily:
    """The error classes one service raises, and how its messages name it."""

    #: "STS", "IAM": in messages, and `AWS_ENDPOINT_URL_<env>` in hints.
    service: str
    base: type[AwsvError]
    unreachable: type[AwsvError]
    connect_timeout: type[AwsvError]
    read_timeout: type[AwsvError]
    malformed: type[AwsvError]
    invalid_request: type[AwsvError]
    access_denied: type[AwsvError]
    access_denied_hint: str
    expired: type[AwsvError]
    invalid_client_token_id: type[AwsvError]
    signature_mismatch: type[AwsvError]
    throttled: type[AwsvError]
    special: Special | None = None
    #: The settings that move its endpoint, for hints (default: `AWS_ENDPOINT_URL_<service>` and the rest).
    endpoint_settings: str | None = None
    #: Whether AWS's own message is repeated after the code. SSO says no: an OIDC
    #: answer may describe the grant, code or token it refused.
    repeat_messages: bool = True

    @property
    def endpoint_vars(self) -> str:
        if self.endpoint_settings is not None:
            return self.endpoint_settings
        env = self.service.upper().replace("-", "_")
        return f"AWS_ENDPOINT_URL_{env} / AWS_ENDPOINT_URL / endpoint_url"


@contextmanager
def aws_errors(client: Any, what: str, signer: str, family: ErrorFamily) -> Iterator[None]:
    """Turn every botocore failure inside the block into one error of `family`.

    A KeyError, TypeError or ValueError raised in the block (a parser's way
    of saying a field is missing or not a number) counts as a malformed answer.
    """
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    endpoint = endpoint_of(client, f"the {family.service} endpoint")
    try:
        yield
    except bx.ClientError as exc:
        raise client_error(exc, what, signer, family, endpoint) from None
    except bx.ConnectTimeoutError:
        raise family.connect_timeout(
            f"{what}: timed out connecting to {endpoint}",
            hint="check the network; AWSV_STS_CONNECT_TIMEOUT sets the wait (seconds)",
        ) from None
    except bx.ReadTimeoutError:
        raise family.read_timeout(
            f"{what}: {endpoint} did not answer in time",
            hint="try again; AWSV_STS_READ_TIMEOUT sets the wait (seconds)",
        ) from None
    except bx.SSLError:
        raise family.unreachable(
            f"{what}: TLS handshake with {endpoint} failed",
            hint="check AWS_CA_BUNDLE and any proxy between you and AWS",
        ) from None
    except bx.ProxyConnectionError:
        raise family.unreachable(
            f"{what}: cannot connect through the proxy to {endpoint}", hint="check HTTPS_PROXY / NO_PROXY"
        ) from None
    except bx.ConnectionClosedError:
        raise family.unreachable(
            f"{what}: {endpoint} closed the connection without answering",
            hint="try again; check any proxy or firewall in between",
        ) from None
    except (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError):
        raise family.unreachable(
            f"{what}: cannot reach {endpoint}", hint=f"check the network and {family.endpoint_vars}"
        ) from None
    except (ResponseParserError, KeyError, TypeError):
        raise family.malformed(
            f"{what}: {endpoint} sent an answer that is not a valid {family.service} response",
            hint=f"is the endpoint really {family.service}? check {family.endpoint_vars}",
        ) from None
    except bx.ParamValidationError as exc:
        raise family.invalid_request(f"{what}: invalid request: {one_line(str(exc))}") from None
    except bx.BotoCoreError as exc:
        raise family.base(f"{what} failed: {type(exc).__name__}") from None
    except ValueError:  # after botocore's own errors, some of which are ValueErrors too
        raise family.malformed(
            f"{what}: {endpoint} sent an answer that is not a valid {family.service} response",
            hint=f"is the endpoint really {family.service}? check {family.endpoint_vars}",
        ) from None


def client_error(exc: Any, what: str, signer: str, family: ErrorFamily, endpoint: str) -> AwsvError:
    """The error for an answer AWS gave with an error code (botocore's ClientError)."""
    error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(error.get("Code") or "Unknown")
    message = one_line(str(error.get("Message") or "")) if family.repeat_messages else ""
    said = f": {message}" if message else ""
    own = family.special(code, message, what) if family.special is not None else None
    if own is not None:
        return own
    if code in _ACCESS_DENIED:
        return family.access_denied(f"{what}: access denied{said}", hint=family.access_denied_hint)
    if code in _EXPIRED:
        return family.expired(
            f"{what}: AWS says {signer} expired ({code})",
            hint="`awsv clear` drops cached sessions; check the system clock",
        )
    if code == "InvalidClientTokenId":
        return family.invalid_client_token_id(
            f"{what}: AWS does not recognise {signer} (InvalidClientTokenId)",
            hint="the key may have been deleted or rotated; store the current one with `awsv add`",
        )
    if code == "SignatureDoesNotMatch":
        return family.signature_mismatch(
            f"{what}: the secret of {signer} does not match its access key id (SignatureDoesNotMatch)",
            hint="store the key again with `awsv add`; also check the system clock",
        )
    if code.isdigit():
        # botocore found no error document in the body, only an HTTP status.
        return family.malformed(
            f"{what}: {endpoint} answered HTTP {code} without a valid {family.service} error",
            hint=f"is the endpoint really {family.service}? check {family.endpoint_vars}",
        )
    if code in _THROTTLING:
        attempts = _attempts(exc)
        return family.throttled(
            f"{what}: AWS is throttling requests ({code}), still after {attempts} attempt"
            f"{'s' if attempts != 1 else ''}",
            hint="wait a little and try again; AWSV_STS_MAX_ATTEMPTS sets the retries",
        )
    if code in _INVALID_REQUEST:
        return family.invalid_request(f"{what}: {code}{said}")
    return family.base(f"{what} failed: {code}{said}")


def _attempts(exc: Any) -> int:
    """How many requests botocore made before giving up."""
    meta = exc.response.get("ResponseMetadata", {}) if isinstance(exc.response, dict) else {}
    retries = meta.get("RetryAttempts")
    return int(retries) + 1 if isinstance(retries, int) else 1

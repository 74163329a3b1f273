"""botocore clients for any AWS service, built one way (see the package docstring).

Clients come from an explicit `botocore.session.Session` that reads no profile
(`AWS_PROFILE` could name one that does not exist, or other credentials), no
config or credentials file and no region from the environment; credentials
are passed in. What the user does control is read from awsv's injected
environment and the profile in use:

Endpoint, as botocore chooses it: `AWS_ENDPOINT_URL_<SERVICE>` (STS, IAM,
SSO, SSO_OIDC), else `AWS_ENDPOINT_URL`, else the profile's `endpoint_url`
(all ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true); otherwise
AWS's own endpoint for the region (us-east-1 when none is set); for STS,
regional or global according to `AWS_STS_REGIONAL_ENDPOINTS` / the profile's
`sts_regional_endpoints` (`regional` or `legacy`).

Network settings (documented user settings, for every service):

| variable | default | meaning |
| --- | --- | --- |
| `AWSV_STS_CONNECT_TIMEOUT` | 5 | seconds to wait for a connection |
| `AWSV_STS_READ_TIMEOUT` | 15 | seconds to wait for an answer |
| `AWSV_STS_MAX_ATTEMPTS` | 3 | attempts per call, first one included (botocore's standard retry mode) |
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from awsv.errors import AwsvError, ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsv.config import Profile
    from awsv.credentials import Credentials
    from awsv.vault.items import LongTermKey

#: Region when neither the profile nor --region names one.
DEFAULT_REGION = "us-east-1"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
DEFAULT_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ClientSettings:
    """Everything about building a client that is not the credentials or region."""

    endpoint_url: str | None = None
    #: STS only: "regional", "legacy" or None (botocore's default).
    regional_endpoints: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ca_bundle: str | None = None
    use_fips: bool | None = None
    use_dualstack: bool | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], profile: Profile | None = None, *, service: str = "sts"
    ) -> ClientSettings:
        """Read the settings from the environment and the profile; bad values are UsageErrors."""
        return cls(
            endpoint_url=endpoint_url(env, profile, service),
            regional_endpoints=_regional_setting(env, profile) if service == "sts" else None,
            connect_timeout=_positive_float(env, "AWSV_STS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
            read_timeout=_positive_float(env, "AWSV_STS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
            max_attempts=_positive_int(env, "AWSV_STS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
            ca_bundle=env.get("AWS_CA_BUNDLE") or None,
            use_fips=_flag(env.get("AWS_USE_FIPS_ENDPOINT")),
            use_dualstack=_flag(env.get("AWS_USE_DUALSTACK_ENDPOINT")),
        )


def endpoint_url(env: Mapping[str, str], profile: Profile | None, service: str = "sts") -> str | None:
    """The configured endpoint URL of `service`, or None for AWS's own (module docstring)."""
    if _flag(env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        return None
    for var in (f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}", "AWS_ENDPOINT_URL"):
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


def isolated_session(settings: ClientSettings) -> Any:
    """A botocore session that reads no profile, no config file and no AWS_* variable that matters."""
    from botocore.session import Session

    def fixed(value: object) -> tuple[None, None, object, None]:
        # (config file key, env var, default, conversion): no file, no env, just the value.
        return (None, None, value, None)

    return Session(
        session_vars={
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
        }
    )


def create_client(
    service: str,
    settings: ClientSettings,
    creds: Credentials | LongTermKey | None,
    region: str | None,
    *,
    session: Any = None,
    error: type[AwsvError] = AwsvError,
    bad_region: type[AwsvError] | None = None,
) -> Any:
    """A `service` client signed with `creds` (None: unsigned), from `session` or a new isolated one.

    Raises `bad_region` (default `error`) for a region botocore refuses, `error`
    for anything else that stops the client being built.
    """
    from botocore import exceptions as bx
    from botocore.config import Config  # only when a client is really needed

    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # total_max_attempts counts the first try, so the variable means what it says.
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        user_agent_extra="awsv",
        **({} if creds is not None else {"signature_version": _unsigned()}),
    )
    try:
        return (session or isolated_session(settings)).create_client(
            service,
            region_name=region or DEFAULT_REGION,
            endpoint_url=settings.endpoint_url,
            aws_access_key_id=creds.access_key_id if creds is not None else None,
            aws_secret_access_key=creds.secret_access_key if creds is not None else None,
            aws_session_token=getattr(creds, "session_token", None),
            config=config,
        )
    except bx.InvalidRegionError:
        raise (bad_region or error)(
            f"{region!r} is not a valid AWS region name", hint="check --region and the profile's region"
        ) from None
    except (bx.BotoCoreError, ValueError) as exc:
        raise error(f"cannot create {_article(service)} {service.upper()} client: {one_line(str(exc))}") from None


def _unsigned() -> Any:
    from botocore import UNSIGNED

    return UNSIGNED


def _article(service: str) -> str:
    return "an" if service.upper()[:1] in "AEFHILMNORSX" else "a"


def endpoint_of(client: Any, default: str = "the STS endpoint") -> str:
    """The client's endpoint for messages, without any user:password@ part."""
    url = str(getattr(getattr(client, "meta", None), "endpoint_url", "") or default)
    return re.sub(r"//[^/@]*@", "//", url)


def one_line(text: str, limit: int = 300) -> str:
    """AWS's message on one line, printable, bounded."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

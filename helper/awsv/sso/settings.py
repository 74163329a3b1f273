"""Which SSO session and role a profile names, read the way botocore reads them.

Two spellings exist, and both are honoured:

- `sso_session = NAME` in the profile and an `[sso-session NAME]` section with
  `sso_start_url`, `sso_region` and optionally `sso_registration_scopes`;
- the legacy form with `sso_start_url` and `sso_region` in the profile itself.

A role profile adds `sso_account_id` and `sso_role_name`. Errors name the
profile (or the sso-session section) and the missing or conflicting key.
The cache key of a session is what the AWS CLI names its cache file after:
sha1 of the sso-session name, or of the start URL in the legacy form.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from awsv.config import AwsConfig, Profile
from awsv.errors import ConfigError

#: Any of these in a profile makes it an SSO profile.
PROFILE_KEYS = ("sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name")
#: The scope that makes SSO OIDC hand out refresh tokens (botocore's default).
DEFAULT_SCOPES = ("sso:account:access",)
_ACCOUNT = re.compile(r"\d{12}\Z")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}\Z")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}\Z")
_SESSION_NAME = re.compile(r"[A-Za-z0-9_.@+=-]{1,64}\Z")


@dataclass(frozen=True)
class SsoSession:
    """One place to sign in: a start URL in a region, with the scopes to ask for."""

    start_url: str
    region: str
    #: The `[sso-session NAME]` it comes from; None for the legacy per-profile form.
    name: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def cache_key(self) -> str:
        """sha1 hex of the session name (or the start URL): the AWS CLI's cache file name."""
        return hashlib.sha1((self.name or self.start_url).encode("utf-8")).hexdigest()  # noqa: S324 - a file name, not security

    @property
    def label(self) -> str:
        """How messages name it: `sso-session corp` or the start URL."""
        return f"sso-session {self.name!r}" if self.name else self.start_url

    @property
    def login_args(self) -> str:
        """What to type after `awsv sso login` to sign in to this session."""
        return f"--sso-session {self.name}" if self.name else "PROFILE"


@dataclass(frozen=True)
class SsoRole:
    """An SSO profile's role: a session, an account and a permission set (role) name."""

    profile: str
    session: SsoSession
    account_id: str
    role_name: str


def is_sso_profile(profile: Profile) -> bool:
    """Whether the profile names any SSO setting."""
    return any(profile.get(key) for key in PROFILE_KEYS)


def named_session(config: AwsConfig, name: str, *, needed_by: str | None = None) -> SsoSession:
    """The `[sso-session NAME]` section as an SsoSession; errors name the section and key."""
    where = f"[sso-session {name}]"
    if not _SESSION_NAME.match(name):
        raise ConfigError(f"sso-session name {name!r} is not allowed", hint="use letters, digits and _.@+=- only")
    section = config.sso_sessions.get(name)
    if section is None:
        by = f" (sso_session of profile {needed_by!r})" if needed_by else ""
        raise ConfigError(
            f"sso-session {name!r}{by} has no {where} section in the AWS config",
            hint=f"add {where} with sso_start_url and sso_region",
        )
    start_url = (section.get("sso_start_url") or "").strip()
    region = (section.get("sso_region") or "").strip()
    for key, value in (("sso_start_url", start_url), ("sso_region", region)):
        if not value:
            raise ConfigError(f"{where} has no {key}", hint=f"add `{key} = …` to {where}")
    _check_start_url(start_url, where)
    _check_region(region, where)
    raw_scopes = section.get("sso_registration_scopes") or ""
    scopes = tuple(s.strip() for s in raw_scopes.split(",") if s.strip()) or DEFAULT_SCOPES
    return SsoSession(start_url=start_url, region=region, name=name, scopes=scopes)


def session_of(config: AwsConfig, profile: Profile) -> SsoSession:
    """The SSO session a profile signs in to; a ConfigError names what is missing."""
    where = f"profile {profile.name!r}"
    name = profile.get("sso_session")
    if name is not None:
        session = named_session(config, name, needed_by=profile.name)
        for key, value in (("sso_start_url", session.start_url), ("sso_region", session.region)):
            own = profile.get(key)
            if own is not None and own != value:
                raise ConfigError(
                    f"{where}: {key} = {own!r} differs from its sso-session {name!r}",
                    hint=f"remove {key} from [profile {profile.name}]",
                )
        return session
    start_url, region = profile.get("sso_start_url"), profile.get("sso_region")
    if start_url is None:
        raise ConfigError(
            f"{where} has SSO settings but no sso_session or sso_start_url",
            hint=f"add `sso_session = NAME` (and an [sso-session NAME] section) to [profile {profile.name}]",
        )
    if region is None:
        raise ConfigError(
            f"{where} has sso_start_url but no sso_region", hint=f"add `sso_region = …` to [profile {profile.name}]"
        )
    _check_start_url(start_url, where)
    _check_region(region, where)
    return SsoSession(start_url=start_url, region=region)


def role_of(config: AwsConfig, profile: Profile) -> SsoRole:
    """An SSO role profile's session, account and role; errors name the missing key."""
    session = session_of(config, profile)
    where = f"profile {profile.name!r}"
    account, role = profile.get("sso_account_id"), profile.get("sso_role_name")
    for key, value in (("sso_account_id", account), ("sso_role_name", role)):
        if value is None:
            raise ConfigError(
                f"{where} has SSO settings but no {key}",
                hint=f"add `{key} = …` to [profile {profile.name}], or run "
                "`awsv sso sync` to write one profile per account and role",
            )
    assert account is not None and role is not None  # noqa: S101 - narrows the type; both checked above
    if not _ACCOUNT.match(account):
        raise ConfigError(f"{where}: sso_account_id = {account!r} is not a 12-digit account id")
    if not _ROLE_NAME.match(role):
        raise ConfigError(f"{where}: sso_role_name = {role!r} is not a valid role name")
    return SsoRole(profile=profile.name, session=session, account_id=account, role_name=role)


def _check_start_url(url: str, where: str) -> None:
    if not re.match(r"https?://[^\s/]+", url) or any(ch.isspace() for ch in url):
        raise ConfigError(f"{where}: sso_start_url = {url!r} is not a URL")


def _check_region(region: str, where: str) -> None:
    if not _REGION.match(region):
        raise ConfigError(f"{where}: sso_region = {region!r} is not a valid AWS region name")

"""SSO tokens and client registrations as vault items, and the AWS CLI's plaintext cache.

Tokens are bearer secrets (whoever holds one can fetch role credentials for
hours), so they live in the vault, encrypted, like keys and sessions:

- `sso-token/<cache key>`: the access token, its expiry, the refresh token and
  the client registration that can redeem it;
- `sso-client/<cache key>/<flow>`: a registration (`code` for PKCE, `device`),
  reused until it expires so a sign-in does not register a client each time.

`<cache key>` is `SsoSession.cache_key`, the AWS CLI's cache file name, so
the two stores are easy to match. The AWS CLI's cache
(`~/.aws/sso/cache/<cache key>.json`) is plaintext: it is *read* to import a
token the user already has, and *written* only by `awsv sso login
--write-aws-cli-cache` (an option that says what it does).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from awsv.atomic import atomic_write_text
from awsv.errors import VaultCorrupted
from awsv.sso.api import Registration
from awsv.sso.settings import SsoSession
from awsv.vault.base import Item, Vault

TOKEN_PREFIX = "sso-token/"  # noqa: S105 - an item name prefix, not a token
CLIENT_PREFIX = "sso-client/"


@dataclass(frozen=True)
class Token:
    """An SSO access token with what is needed to refresh it. `repr` hides the secrets."""

    access_token: str
    #: Timezone-aware UTC.
    expires_at: datetime
    start_url: str
    region: str
    session_name: str | None = None
    refresh_token: str | None = None
    registration: Registration | None = None

    def __repr__(self) -> str:
        return (
            f"Token(start_url={self.start_url!r}, expires_at={self.expires_at!r}, "
            f"refresh={'yes' if self.refresh_token else 'no'})"
        )

    def seconds_left(self, now: datetime) -> float:
        return (self.expires_at - now).total_seconds()

    def can_refresh(self, now: datetime) -> bool:
        reg = self.registration
        return bool(self.refresh_token and reg and reg.expires_at > now.timestamp() + 60)

    def matches(self, session: SsoSession) -> bool:
        return self.start_url == session.start_url and self.region == session.region

    def to_item(self) -> Item:
        reg = self.registration
        return {
            "type": "sso-token",
            "access_token": self.access_token,
            "expires_at": _iso(self.expires_at),
            "start_url": self.start_url,
            "region": self.region,
            "session_name": self.session_name,
            "refresh_token": self.refresh_token,
            "client_id": reg.client_id if reg else None,
            "client_secret": reg.client_secret if reg else None,
            "registration_expires_at": reg.expires_at if reg else None,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Token:
        try:
            if item.get("type") != "sso-token":
                raise ValueError("type")
            reg = None
            if item.get("client_id") and item.get("client_secret"):
                reg = Registration(
                    str(item["client_id"]), str(item["client_secret"]), int(item.get("registration_expires_at") or 0)
                )
            return cls(
                access_token=str(item["access_token"]),
                expires_at=_parse_time(str(item["expires_at"])),
                start_url=str(item["start_url"]),
                region=str(item["region"]),
                session_name=item.get("session_name"),
                refresh_token=item.get("refresh_token") or None,
                registration=reg,
            )
        except (KeyError, TypeError, ValueError):
            raise VaultCorrupted(
                "a stored SSO token is malformed", hint="`awsv sso logout` forgets it; then sign in again"
            ) from None


def token_item_name(session: SsoSession) -> str:
    return TOKEN_PREFIX + session.cache_key


def client_item_name(session: SsoSession, flow: str) -> str:
    return f"{CLIENT_PREFIX}{session.cache_key}/{flow}"


def load_token(vault: Vault, session: SsoSession) -> Token | None:
    """The stored token for `session`, or None (also when it belongs to another start URL)."""
    item = vault.get(token_item_name(session))
    if item is None:
        return None
    token = Token.from_item(item)
    return token if token.matches(session) else None


def store_token(vault: Vault, token: Token, session: SsoSession) -> None:
    vault.set(token_item_name(session), token.to_item())


def forget(vault: Vault, session: SsoSession) -> Token | None:
    """Delete the session's token and registrations; returns the token that was stored."""
    try:
        token = load_token(vault, session)
    except VaultCorrupted:
        token = None
    vault.delete(token_item_name(session))
    for flow in ("code", "device"):
        vault.delete(client_item_name(session, flow))
    return token


def load_registration(vault: Vault, session: SsoSession, flow: str, now: datetime) -> Registration | None:
    """A stored registration still valid for a day, else None."""
    item = vault.get(client_item_name(session, flow))
    if not item:
        return None
    try:
        reg = Registration(str(item["client_id"]), str(item["client_secret"]), int(item["expires_at"]))
    except (KeyError, TypeError, ValueError):
        return None
    if reg.expires_at < (now + timedelta(days=1)).timestamp():
        return None
    return reg


def store_registration(vault: Vault, session: SsoSession, flow: str, reg: Registration) -> None:
    vault.set(
        client_item_name(session, flow),
        {
            "type": "sso-client",
            "client_id": reg.client_id,
            "client_secret": reg.client_secret,
            "expires_at": reg.expires_at,
        },
    )


# -- the AWS CLI's cache ---------------------------------------------------------


def aws_cli_cache_dir(env: Mapping[str, str]) -> Path:
    """`~/.aws/sso/cache`, where the AWS CLI and the SDKs keep SSO tokens (plaintext)."""
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".aws" / "sso" / "cache"


def aws_cli_cache_file(env: Mapping[str, str], session: SsoSession) -> Path:
    return aws_cli_cache_dir(env) / f"{session.cache_key}.json"


def read_aws_cli_cache(env: Mapping[str, str], session: SsoSession) -> Token | None:
    """A token from the AWS CLI's cache for `session`, or None (missing, foreign or malformed).

    Bounded: a file over 64 KiB is not read.
    """
    path = aws_cli_cache_file(env, session)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(65537)
        if len(raw) > 65536:
            return None
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("startUrl") != session.start_url:
            return None
        reg = None
        if data.get("clientId") and data.get("clientSecret"):
            reg = Registration(
                str(data["clientId"]),
                str(data["clientSecret"]),
                int(_parse_time(str(data["registrationExpiresAt"])).timestamp())
                if data.get("registrationExpiresAt")
                else 0,
            )
        return Token(
            access_token=str(data["accessToken"]),
            expires_at=_parse_time(str(data["expiresAt"])),
            start_url=session.start_url,
            region=str(data.get("region") or session.region),
            session_name=session.name,
            refresh_token=data.get("refreshToken") or None,
            registration=reg,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_aws_cli_cache(env: Mapping[str, str], session: SsoSession, token: Token) -> Path:
    """Write the token to the AWS CLI's cache in its format (PLAINTEXT, file 0600)."""
    data: dict[str, Any] = {
        "startUrl": token.start_url,
        "region": token.region,
        "accessToken": token.access_token,
        "expiresAt": _aws_time(token.expires_at),
    }
    if session.name and token.registration and token.refresh_token:
        # botocore's sso-session token provider refreshes with these itself.
        data.update(
            clientId=token.registration.client_id,
            clientSecret=token.registration.client_secret,
            registrationExpiresAt=_aws_time(datetime.fromtimestamp(token.registration.expires_at, UTC)),
            refreshToken=token.refresh_token,
        )
    path = aws_cli_cache_file(env, session)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n", new_mode=0o600)
    return path


def remove_aws_cli_cache(env: Mapping[str, str], session: SsoSession) -> bool:
    try:
        aws_cli_cache_file(env, session).unlink()
    except FileNotFoundError:
        return False
    return True


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def _aws_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    """ISO 8601 with Z or an offset (the AWS CLI writes `…Z`); naive times are refused."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("UTC", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("naive time")
    return parsed.astimezone(UTC)

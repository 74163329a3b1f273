"""The session cache: STS results kept, encrypted, as vault items, and read back strictly.

Each step of a plan (`awsv.sessions.plan`) stores its credentials under
`session_item_name(cache id)`, with a small `cache` block saying which
profile and step made it, for `awsv list` and `awsv clear` (no secret in it).
Reading is strict on purpose: a cached item that is malformed, not a
session, or missing a timezone-aware expiry is a hard error with a way out
(`awsv clear`), never silently ignored or refetched, because a vault that
says something unexpected may have been tampered with. Listing and clearing
are bulk operations (one decryption, one durable write) so they stay cheap
with a thousand cached sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from awsv.chain import Resolver
from awsv.clock import utcnow
from awsv.context import Context
from awsv.credentials import Credentials, check_values
from awsv.errors import AwsvError, ConfigError, VaultCorrupted
from awsv.sessions.plan import Step
from awsv.vault.base import Vault
from awsv.vault.items import SESSION_PREFIX, session_item_name


class CacheMiss(AwsvError):
    """A cache-only request found no usable cached session (the caller falls back)."""


@dataclass(frozen=True)
class CachedSession:
    """One cached STS result, as `awsv list` shows it (no secret in here)."""

    cache_id: str
    #: The profile whose step produced it: the source profile for a session, the role profile for a role.
    profile: str
    #: "session" (GetSessionToken) or "role" (AssumeRole).
    kind: str
    expiration: datetime
    seconds_left: float
    source_profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None

    @property
    def expired(self) -> bool:
        return self.seconds_left <= 0


def meta(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a cached item says about itself (profile, kind…); {} when absent."""
    found = item.get("cache")
    return found if isinstance(found, dict) else {}


def from_item(item: Mapping[str, Any], name: str) -> Credentials:
    """A cached step's credentials; anything malformed is a hard error with a way out."""
    try:
        creds = Credentials.from_item(dict(item))
        if item.get("type") != "session" or creds.expiration is None or creds.expiration.tzinfo is None:
            raise VaultCorrupted("a cached session in the vault is malformed")
    except VaultCorrupted:
        raise VaultCorrupted(
            f"the cached session {name} in the vault is malformed", hint="`awsv clear` removes cached sessions"
        ) from None
    owner = meta(item).get("profile")
    check_values(
        creds,
        f"the cached session of profile {owner!r}"
        if isinstance(owner, str)
        else f"the cached session {name} in the vault",
    )
    return creds


def to_item(step: Step, creds: Credentials, source_profile: str, now: datetime) -> dict[str, Any]:
    """The vault item caching `step`'s result: the credentials and what made them."""
    item = creds.to_item()
    item["cache"] = {
        "profile": step.profile,
        "kind": step.kind,
        "source_profile": source_profile,
        "role_arn": step.hop.role_arn if step.hop else None,
        "created": now.astimezone(UTC).isoformat(),
    }
    return item


def lookup(vault: Vault, step: Step, now: datetime, min_ttl: int) -> Credentials | None:
    """`step`'s cached credentials while they have more than `min_ttl` seconds left, else None."""
    name = session_item_name(step.cache_id)
    item = vault.get(name)
    if item is None:
        return None
    creds = from_item(item, name)
    left = creds.seconds_left(now)
    return creds if left is not None and left > min_ttl else None


def cached_sessions(ctx: Context, *, now: Callable[[], datetime] = utcnow) -> list[CachedSession]:
    """Every cached session and role in the vault, expired ones included, soonest expiry first.

    One bulk read (`Vault.items`): one decryption and one agent round trip
    however many sessions are cached.
    """
    found: list[CachedSession] = []
    current = now()
    for name, item in ctx.vault.items(SESSION_PREFIX).items():
        creds = from_item(item, name)
        about = meta(item)
        assert creds.expiration is not None  # noqa: S101 - narrows the type; from_item guarantees it
        found.append(
            CachedSession(
                cache_id=name[len(SESSION_PREFIX) :],
                profile=str(about.get("profile") or "?"),
                kind=str(about.get("kind") or "?"),
                expiration=creds.expiration,
                seconds_left=(creds.expiration - current).total_seconds(),
                source_profile=about.get("source_profile"),
                role_arn=about.get("role_arn"),
                account_id=creds.account_id,
            )
        )
    return sorted(found, key=lambda s: (s.expiration, s.cache_id))


def clear_sessions(ctx: Context, profile: str | None = None, *, resolver: Resolver | None = None) -> int:
    """Delete cached sessions: all of them, or those of `profile`'s chain. Returns how many.

    A profile's chain is the profile and every profile it gets credentials
    through, so clearing a role also drops its source's session (which other
    roles may share). A profile that no longer resolves clears its own items.
    One bulk read and one bulk delete (`Vault.delete_many`): one durable
    write per command, however many sessions go. A caller clearing many
    profiles passes one `resolver` (made with `in_vault=lambda n: True`), so
    the chains are walked once in all.
    """
    vault = ctx.vault
    if profile is None:
        names = [n for n in vault.list() if n.startswith(SESSION_PREFIX)]
    else:
        try:
            walker = resolver or Resolver(ctx.config, in_vault=lambda n: True)
            members = set(walker.resolve(profile).trail)
        except ConfigError:
            members = {profile}
        names = [name for name, item in vault.items(SESSION_PREFIX).items() if meta(item).get("profile") in members]
    return len(vault.delete_many(names)) if names else 0

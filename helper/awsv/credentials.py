"""Credentials as values that know their own expiry.

Passed between sessions and delivery instead of loose dicts, so nothing can
forget the expiry or print the secret by accident (`repr` hides it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from awsv.errors import VaultCorrupted


@dataclass(frozen=True)
class Credentials:
    """AWS credentials; `expiration` is None only for long-term keys (`--no-session` with no role)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    #: Timezone-aware UTC expiry.
    expiration: datetime | None = None
    #: The AWS account these belong to, when known (from an ARN or GetCallerIdentity).
    account_id: str | None = None
    #: The ARN of the identity (assumed-role ARN, user ARN), when known.
    arn: str | None = None

    def __repr__(self) -> str:
        return (f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key=<hidden>, "
                f"session_token={'<hidden>' if self.session_token else None}, "
                f"expiration={self.expiration!r}, account_id={self.account_id!r})")

    def seconds_left(self, now: datetime) -> float | None:
        """Seconds until expiry at `now`, or None for credentials that do not expire."""
        if self.expiration is None:
            return None
        return (self.expiration - now).total_seconds()

    def expiration_iso(self) -> str | None:
        """Expiry as ISO 8601 with an explicit UTC offset (`2026-11-27T13:00:00+00:00`).

        starship and the AWS SDKs parse this; an offset-less value is read as
        local time and shows the wrong time left.
        """
        if self.expiration is None:
            return None
        return self.expiration.astimezone(UTC).replace(microsecond=0).isoformat()

    def to_item(self) -> dict[str, Any]:
        """Vault representation (for the session cache)."""
        return {"type": "session", "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key, "session_token": self.session_token,
                "expiration": self.expiration_iso(), "account_id": self.account_id, "arn": self.arn}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Credentials:
        try:
            exp = item.get("expiration")
            return cls(
                access_key_id=str(item["access_key_id"]),
                secret_access_key=str(item["secret_access_key"]),
                session_token=item.get("session_token"),
                expiration=datetime.fromisoformat(exp) if exp else None,
                account_id=item.get("account_id"),
                arn=item.get("arn"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultCorrupted("a cached session in the vault is malformed") from exc


def account_from_arn(arn: str | None) -> str | None:
    """`arn:aws:sts::123456789012:assumed-role/x/y` -> `123456789012`."""
    if not arn:
        return None
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None

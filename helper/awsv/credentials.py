"""Credentials as values that know their own expiry.

Passed between sessions and delivery instead of loose dicts, so nothing can
forget the expiry or print the secret by accident (`repr` hides it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from awsv.errors import AwsvError, VaultCorrupted

#: Longest values awsv accepts (README, "Limits"). AWS's own are smaller: key ids
#: are at most 128 characters, secret keys 40, session tokens a few KiB.
MAX_ACCESS_KEY_ID = 128
MAX_SECRET_ACCESS_KEY = 256
MAX_SESSION_TOKEN = 16 * 1024

#: Key ids are letters and digits; secrets and tokens are printable ASCII without
#: spaces (base64 and its cousins). Anything else (a newline, a quote, a NUL)
#: cannot be sent in an HTTP header and would only fail later, less clearly.
_KEY_ID = re.compile(r"[A-Za-z0-9]+\Z")
_PRINTABLE = re.compile(r"[\x21-\x7e]+\Z")
_FIELDS = (
    ("AccessKeyId", "access_key_id", MAX_ACCESS_KEY_ID, _KEY_ID, "letters and digits"),
    ("SecretAccessKey", "secret_access_key", MAX_SECRET_ACCESS_KEY, _PRINTABLE, "printable ASCII without spaces"),
    ("SessionToken", "session_token", MAX_SESSION_TOKEN, _PRINTABLE, "printable ASCII without spaces"),
)


class InvalidCredentials(AwsvError):
    """Credentials from some source have a missing, too long or malformed value."""


def check_values(values: Any, origin: str, labels: Mapping[str, str] | None = None) -> None:
    """Raise InvalidCredentials naming the field and `origin` unless every value is sound.

    `values` has `access_key_id`, `secret_access_key` and optionally
    `session_token` attributes (Credentials, LongTermKey). `origin` names the
    source and the profile, e.g. "the credential_process of profile 'ci'".
    `labels` renames fields where the user knows them by another name (the
    environment's `AWS_SECRET_ACCESS_KEY` rather than `SecretAccessKey`).
    The value itself is never shown: it may be a secret.
    """
    for name, attr, limit, pattern, alphabet in _FIELDS:
        field = (labels or {}).get(name, name)
        value = getattr(values, attr, None)
        if value is None and attr == "session_token":
            continue
        if not isinstance(value, str) or not value:
            raise InvalidCredentials(f"{origin}: {field} is missing")
        if len(value) > limit:
            raise InvalidCredentials(
                f"{origin}: {field} is longer than {limit} characters",
                hint="real AWS credentials are far shorter; check the source",
            )
        if not pattern.match(value):
            raise InvalidCredentials(
                f"{origin}: {field} contains characters other than {alphabet}",
                hint="a stray newline, quote or space? check the source",
            )


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
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key=<hidden>, "
            f"session_token={'<hidden>' if self.session_token else None}, "
            f"expiration={self.expiration!r}, account_id={self.account_id!r})"
        )

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
        return {
            "type": "session",
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_token": self.session_token,
            "expiration": self.expiration_iso(),
            "account_id": self.account_id,
            "arn": self.arn,
        }

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

"""The one clock: aware UTC time, injected as `now` wherever expiry is decided.

Every expiry, TTL and skew decision compares aware UTC datetimes taken from
here (never naive local time), and every function that decides takes a
`now: Callable[[], datetime]` defaulting to `utcnow`, so tests drive expiry
without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)

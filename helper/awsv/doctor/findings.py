"""What a health check reports: a status, one line, and how to fix it.

Kept apart from the checks so every check module, and the command that
prints them, share one small vocabulary without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass

PASS, WARN, FAIL, INFO = "pass", "warn", "fail", "info"


@dataclass(frozen=True)
class Finding:
    """One line of `awsv doctor`: which check, its status, what it found, and the fix when there is one."""

    check: str
    status: str
    message: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


Check = Callable[[Mapping[str, str]], Iterator[Finding]]


def plural(count: int, noun: str) -> str:
    """`1 warning`, `2 warnings`, `0 warnings`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"

"""Typed reads of a pexpect child that runs on a pty with an encoding (text, not bytes).

pexpect's stubs type `child.before` as `str | None` and `child.match` as a match, a
string, the EOF/TIMEOUT classes or None, because one class serves bytes and text
children and a child not read yet has neither. The suite spawns text children
(`encoding="utf-8"`) and reads them after an `expect`, so these accessors say that
once, and fail loudly (an AssertionError naming the slip) if it ever stops being true.
"""

from __future__ import annotations

import re

import pexpect


def before(child: pexpect.spawn[str]) -> str:
    """What the child printed before the last `expect` matched (everything, after `expect(EOF)`)."""
    text = child.before
    if text is None:
        raise AssertionError("child.before read before any expect()")
    return text


def matched(child: pexpect.spawn[str]) -> re.Match[str]:
    """The regular-expression match of the last `expect` (not EOF or TIMEOUT)."""
    match = child.match
    if not isinstance(match, re.Match):
        raise AssertionError(f"the last expect() matched no pattern: {match!r}")
    return match

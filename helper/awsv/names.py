"""Which profile names awsv accepts.

Profile names reach shell code (`AWSV_PROFILE=…`), prompts, file names and
keyring entries, so awsv accepts only a conservative alphabet instead of
relying on quoting alone everywhere.
"""

from __future__ import annotations

import re

from awsv.errors import InvalidProfileName

MAX_LENGTH = 64
_ALLOWED = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+=,-]*\Z")


def validate_profile_name(name: str) -> str:
    """Return `name` unchanged, or raise InvalidProfileName saying why.

    Allowed: letters, digits and `_ . @ + = , -`, starting with a letter, digit
    or underscore, at most 64 characters, and no `..`.
    """
    if not name:
        raise InvalidProfileName("profile name is empty")
    if len(name) <= MAX_LENGTH and _ALLOWED.match(name) and ".." not in name:
        return name  # the common case, checked first: `awsv list` validates every profile
    shown = repr(name) if len(name) <= 80 else repr(name[:77] + "...")
    if len(name) > MAX_LENGTH:
        raise InvalidProfileName(f"profile name {shown} is longer than {MAX_LENGTH} characters")
    if not _ALLOWED.match(name) or ".." in name:
        raise InvalidProfileName(
            f"profile name {shown} is not allowed",
            hint="use letters, digits and _ . @ + = , - (starting with a letter, digit or _)",
        )
    return name


def is_valid_profile_name(name: str) -> bool:
    """True when `validate_profile_name` would accept `name`."""
    try:
        validate_profile_name(name)
    except InvalidProfileName:
        return False
    return True

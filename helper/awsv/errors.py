"""One error tree for everything a user can cause.

Modules raise these; only `awsv.cli.main` turns them into a one-line message
and an exit code, so no module prints errors or calls `sys.exit` itself.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses promised in the README."""

    OK = 0
    ERROR = 1
    USAGE = 2
    #: A passphrase or MFA code was needed and `--no-prompt` forbade asking.
    NEEDS_INPUT = 3
    INTERRUPTED = 130


class AwsvError(Exception):
    """Base class: a message for the user, an optional hint, an exit code.

    The message must never contain a secret: it is printed to stderr and may
    end up in logs or bug reports.
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(AwsvError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE


class Interrupted(AwsvError):
    """The user pressed Ctrl-C or closed a prompt; nothing was changed."""

    exit_code = ExitCode.INTERRUPTED


class InvalidProfileName(AwsvError):
    """A profile name that could be dangerous in a shell or a file name."""


class ConfigError(AwsvError):
    """The AWS config file is missing, unreadable or inconsistent."""


class ProfileNotFound(ConfigError):
    """A named profile is in neither the config nor the vault."""


class SourceProfileLoop(ConfigError):
    """`source_profile` (or `include_profile`) links form a cycle."""


class VaultError(AwsvError):
    """The vault cannot be opened, read or written."""


class WrongPassphrase(VaultError):
    """The passphrase does not open this vault."""


class VaultCorrupted(VaultError):
    """The vault failed its integrity check: tampered, truncated or not a vault."""


class BackendUnavailable(VaultError):
    """The chosen backend cannot work here (no keyring, a plaintext keyring, …)."""


class PassphraseUnavailable(VaultError):
    """No source could supply the vault passphrase."""


class ItemNotFound(VaultError):
    """The vault has no item of that name."""

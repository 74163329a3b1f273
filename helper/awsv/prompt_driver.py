"""Which prompt driver asks for MFA codes and the passphrase: aws-vault's `--prompt`.

aws-vault's recipes carry `--prompt=DRIVER` (or `AWS_VAULT_PROMPT`), e.g.
`credential_process = aws-vault --prompt=osascript export --format=json work`.
awsv accepts every driver name aws-vault documents, so a copied recipe never
fails on an unknown flag, and uses the chosen one when a question must be
asked: `terminal` (a prompt on /dev/tty), the dialogs `osascript`, `zenity`
and `kdialog`, `ykman` (MFA codes from a YubiKey), and awsv's own `gui` (any
dialog), `none` (never ask) and `auto` (the terminal when there is one, else
a dialog): `awsv.dialogs` carries them out for `awsv.mfa` and
`awsv.passphrase`. aws-vault's `pass` is accepted and gives one clear line.

Order: `--prompt`, then AWSV_PROMPT, then AWS_VAULT_PROMPT, else auto.
The flag is this process's own; it is not passed on to the programs awsv starts.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing imports cost milliseconds on the hot path
if TYPE_CHECKING:
    from collections.abc import Mapping

#: aws-vault's documented drivers, then awsv's own.
DRIVERS = ("terminal", "osascript", "zenity", "kdialog", "ykman", "pass", "gui", "none", "auto")
#: The drivers awsv has today.
AVAILABLE = ("terminal", "osascript", "zenity", "kdialog", "ykman", "gui", "none", "auto")
DEFAULT = "auto"
#: Where the choice is read from, after `--prompt`.
ENV_VARS = ("AWSV_PROMPT", "AWS_VAULT_PROMPT")

#: This process's `--prompt`, set once by the CLI (`set_flag`).
_flag: str | None = None


def set_flag(value: str | None, env: Mapping[str, str]) -> None:
    """Record `--prompt` for this process; refuses an unknown name (flag or environment) at once."""
    global _flag
    _flag = value
    choose(env)


def choose(env: Mapping[str, str]) -> tuple[str, str]:
    """(driver, where it was chosen); an unknown name is a UsageError naming its origin."""
    value, origin = _flag, "--prompt"
    for var in ENV_VARS:
        if not value and env.get(var):
            value, origin = env[var], var
    if not value:
        return DEFAULT, "the default"
    driver = value.strip().lower()
    if driver not in DRIVERS:
        from awsv.errors import UsageError

        raise UsageError(
            f"unknown prompt driver {value!r} (from {origin})", hint=f"choose one of: {', '.join(DRIVERS)}"
        )
    return driver, origin


def require_available(env: Mapping[str, str], what: str) -> None:
    """Raise when a question (`what`, e.g. "an MFA code") needs a driver awsv lacks yet."""
    driver, origin = choose(env)
    if driver in AVAILABLE:
        return
    from awsv.errors import AwsvError

    raise AwsvError(
        f"{what} is needed, and the {driver!r} prompt (from {origin}) is not available "
        "in awsv yet; use --prompt=terminal, or set mfa_process / --mfa-token"
    )

"""Running a command the user named in their config (credential_process, mfa_process).

One runner, so every such command gets the same treatment: split with
`shlex` and run without a shell (a second layer of parsing would only add
ways to go wrong), an environment without the vault passphrase variables,
a timeout so a stuck helper cannot hang awsv, and errors that say which
setting failed without ever echoing its output (it may hold a secret).
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping

from awsv.errors import AwsvError
from awsv.secret_env import child_env


def run_user_command(command: str, *, where: str, env: Mapping[str, str], timeout: float,
                     error: type[AwsvError], parse_hint: str | None = None) -> bytes:
    """Run `command` and return its stdout; any failure raises `error` naming `where`.

    `where` names the setting, e.g. "credential_process of profile 'ci'".
    The command's stdin and stderr stay the caller's, so it may prompt.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise error(f"{where} cannot be parsed: {exc}", hint=parse_hint) from None
    if not argv:
        raise error(f"{where} is empty")
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, env=child_env(env),  # noqa: S603 - a command the user's config names
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise error(f"{where}: command not found: {argv[0]!r}") from None
    except PermissionError:
        raise error(f"{where}: {argv[0]!r} is not executable") from None
    except subprocess.TimeoutExpired:
        raise error(f"{where} did not finish within {timeout:g}s") from None
    except OSError as exc:
        raise error(f"{where} cannot be run: {exc.strerror}") from None
    if proc.returncode != 0:
        raise error(f"{where} failed with exit status {proc.returncode}",
                    hint="run the command yourself to see why")
    return proc.stdout

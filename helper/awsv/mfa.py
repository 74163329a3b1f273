"""Where an MFA code comes from, in a fixed order.

1. `--mfa-token CODE` (used for the first code a command needs; a code is
   single-use, so a second device in the same chain gets asked separately);
2. the profile's `mfa_process`: a command printing the code (e.g. a
   hardware-token or password-manager CLI), split with `shlex` and run without
   a shell, with the vault-unlocking variables removed from its environment
   and a timeout;
3. a prompt on /dev/tty (the `terminal` prompt driver, see
   `awsv.prompt_driver`; aws-vault's others are not available yet), which
   works even when stdout is captured by `eval` or by the AWS CLI reading a
   credential_process.

Without any of them (no terminal: cron, CI, an IDE) the caller gets a clear
error naming the device and the ways to supply a code, never a hang. In
no-prompt mode (`awsv use --no-prompt`, AWSV_NO_PROMPT=1) only `--mfa-token`
counts; anything else raises `tty.InputRequired` (exit 3).
Codes are checked to be 6 digits before anything is sent to AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from awsv import prompt_driver, tty
from awsv.errors import AwsvError, UsageError
from awsv.user_command import run_user_command

#: Seconds an mfa_process may take (a touch-to-confirm token needs a moment).
DEFAULT_TIMEOUT = 60.0
_CODE = re.compile(r"[0-9]{6}\Z")


class MfaUnavailable(AwsvError):
    """An MFA code is needed and no source could supply a valid one."""


def check_token(token: str, origin: str = "--mfa-token") -> str:
    """A 6-digit code, stripped; anything else is a UsageError naming `origin`."""
    code = token.strip()
    if not _CODE.match(code):
        raise UsageError(f"{origin} must be the 6 digits shown by the MFA device")
    return code


class MfaCodes:
    """Hands out codes for one command: the --mfa-token once, then mfa_process or the prompt."""

    def __init__(
        self,
        env: Mapping[str, str],
        token: str | None = None,
        *,
        ask: Callable[[str], str] | None = None,
        has_terminal: Callable[[], bool] = tty.has_terminal,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._env = env
        self._token = check_token(token) if token is not None else None
        self._ask = ask or (lambda prompt: tty.ask(prompt, secret=False))
        self._has_terminal = has_terminal
        self._timeout = timeout

    def code(self, serial: str, *, profile: str, mfa_process: str | None = None) -> str:
        """A code for device `serial`, needed by `profile`."""
        if self._token is not None:
            code, self._token = self._token, None
            return code
        if not tty.prompts_allowed(self._env):
            # mfa_process too: it often waits for a touch, and no-prompt callers must not block.
            raise tty.InputRequired(
                f"profile {profile!r} needs a code from MFA device {serial}; not asking (no-prompt mode)"
            )
        if mfa_process:
            return run_mfa_process(mfa_process, profile=profile, env=self._env, timeout=self._timeout)
        return self._prompt(serial, profile)

    def _prompt(self, serial: str, profile: str) -> str:
        from awsv import dialogs

        prompt_driver.require_available(self._env, f"an MFA code for profile {profile!r}")
        way = dialogs.choose_way(self._env, has_terminal=self._has_terminal())
        if way == "none":
            raise tty.InputRequired(
                f"profile {profile!r} needs a code from MFA device {serial}; not asking (prompts are off)"
            )
        if dialogs.setting(self._env)[0] == "ykman":
            return dialogs.ykman_code(serial, profile=profile, env=self._env)
        if isinstance(way, dialogs.Dialog):
            code = dialogs.ask_mfa_code(
                way, serial=serial, profile=profile, env=self._env, is_code=lambda c: bool(_CODE.match(c))
            )
            if code is None:
                raise MfaUnavailable(f"no valid MFA code entered for profile {profile!r}")
            return code
        if not self._has_terminal():
            raise MfaUnavailable(
                f"profile {profile!r} needs a code from MFA device {serial} but there is no terminal to ask on",
                hint="pass --mfa-token CODE, or set mfa_process in the profile",
            )
        for _ in range(3):
            answer = self._ask(f"MFA code for {serial}: ").strip()
            if _CODE.match(answer):
                return answer
            tty.say("awsv: an MFA code is 6 digits")
        raise MfaUnavailable(f"no valid MFA code entered for profile {profile!r}")


def run_mfa_process(command: str, *, profile: str, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run `mfa_process` and return the 6-digit code it prints; failures never echo its output."""
    where = f"mfa_process of profile {profile!r}"
    out = run_user_command(command, where=where, env=env, timeout=timeout, error=MfaUnavailable)
    code = out.decode("utf-8", errors="replace").strip()
    if not _CODE.match(code):
        raise MfaUnavailable(f"{where} did not print a 6-digit code")
    return code

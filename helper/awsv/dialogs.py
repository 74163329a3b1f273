"""Asking without a terminal: native dialogs (zenity, kdialog, osascript) and notifications.

A credential_process started by an IDE or a desktop app has no terminal, so
the terminal prompt cannot run. Where a desktop is available, the passphrase
and the MFA code are asked in a native dialog instead, and a notification
says when a hardware key waits for a touch.

Which way is chosen (`choose_way`): the prompt setting (`--prompt`,
AWSV_PROMPT, then aws-vault's AWS_VAULT_PROMPT) is one of

- `terminal`: only the terminal (the error without one says what to do);
- `gui`: only a dialog, by the first dialog program found;
- `zenity`, `kdialog`, `osascript`: only that dialog program;
- `none`: never ask (like `--no-prompt`: a question is exit status 3);
- unset (or `auto`): the terminal when there is one, else a dialog when a
  desktop and a dialog program are there, else the terminal's error.

Security: the answer comes back on the dialog's stdout, never in argv; the
question's text is passed as an argument, and to osascript as an argument of
a fixed script (`on run argv`), so a profile name can never become code. The
dialog runs through awsv's one runner for started programs
(`awsv.user_command.spawn_bounded`): without the vault-unlocking variables,
in its own process group, with a timeout and a bound on what it may print.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from awsv.errors import AwsvError, Interrupted

DIALOG_PROGRAMS = ("zenity", "kdialog", "osascript")
#: A person answers the dialog: give them time, but never forever.
DIALOG_TIMEOUT = 300.0
#: A passphrase or a code is short; anything longer is not an answer.
MAX_ANSWER = 64 * 1024


class DialogUnavailable(AwsvError):
    """A dialog was required (AWSV_PROMPT=gui or a program name) and none can be shown."""


@dataclass(frozen=True)
class Dialog:
    """One dialog program: how to ask (echoing or hidden) and how to notify."""

    program: str
    path: str

    def ask_argv(self, title: str, text: str, *, secret: bool) -> list[str]:
        if self.program == "zenity":
            return [self.path, "--entry", f"--title={title}", f"--text={text}", *(["--hide-text"] if secret else [])]
        if self.program == "kdialog":
            return [self.path, "--title", title, "--password" if secret else "--inputbox", text]
        hidden = " with hidden answer" if secret else ""
        return [
            self.path,
            "-e",
            "on run argv",
            "-e",
            f'display dialog (item 1 of argv) default answer ""{hidden} with title (item 2 of argv)',
            "-e",
            "return text returned of result",
            "-e",
            "end run",
            text,
            title,
        ]

    def notify_argv(self, title: str, text: str) -> list[str]:
        if self.program == "zenity":
            return [self.path, "--notification", f"--text={title}: {text}"]
        if self.program == "kdialog":
            return [self.path, "--title", title, "--passivepopup", text, "10"]
        return [
            self.path,
            "-e",
            "on run argv",
            "-e",
            "display notification (item 1 of argv) with title (item 2 of argv)",
            "-e",
            "end run",
            text,
            title,
        ]


Runner = Callable[[Sequence[str], Mapping[str, str], float], "tuple[int, bytes]"]


def run_bounded(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """Run a dialog program with awsv's one runner for started programs
    (`awsv.user_command.spawn_bounded`: its own process group, no vault
    variables, a deadline); (exit status, stdout).

    More than MAX_ANSWER bytes of output is no answer (status 1); a timeout is
    subprocess.TimeoutExpired; either way the whole group has been killed.
    """
    from awsv.user_command import CommandInterrupted, CommandOutputTooLarge, CommandTimedOut, spawn_bounded

    try:
        return spawn_bounded(list(argv), env=env, timeout=timeout, max_output=MAX_ANSWER)
    except CommandTimedOut:
        raise subprocess.TimeoutExpired(list(argv), timeout) from None
    except CommandOutputTooLarge:
        return 1, b""
    except CommandInterrupted:
        raise Interrupted("the dialog was interrupted; nothing was changed") from None


def setting(env: Mapping[str, str]) -> tuple[str, str]:
    """(driver, where it came from): awsv.prompt_driver's choice (--prompt, AWSV_PROMPT,
    AWS_VAULT_PROMPT, else auto); an unknown name is its UsageError."""
    from awsv import prompt_driver

    return prompt_driver.choose(env)


def has_desktop(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """A graphical session to show a dialog in: macOS, or a display on Linux and BSDs."""
    return platform == "darwin" or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def find_dialog(
    env: Mapping[str, str],
    program: str | None = None,
    *,
    which: Callable[..., str | None] = shutil.which,
    platform: str = sys.platform,
) -> Dialog | None:
    """The dialog program to use (`program`, or the first found for this platform), or None."""
    if not has_desktop(env, platform):
        return None
    if program:
        names: tuple[str, ...] = (program,)
    elif platform == "darwin":
        names = ("osascript",)
    else:
        names = ("zenity", "kdialog")
    for name in names:
        path = which(name, path=env.get("PATH"))
        if path:
            return Dialog(name, path)
    return None


def choose_way(
    env: Mapping[str, str],
    *,
    has_terminal: bool,
    which: Callable[..., str | None] = shutil.which,
    platform: str = sys.platform,
) -> str | Dialog:
    """ "terminal", "none", or the Dialog to ask with (see the module docstring).

    Raises DialogUnavailable when a dialog is required and none can be shown.
    Drivers that are not about where to ask (ykman, pass) count as auto here.
    """
    way, origin = setting(env)
    if way in ("terminal", "none"):
        return way
    if way == "gui" or way in DIALOG_PROGRAMS:
        dialog = find_dialog(env, None if way == "gui" else way, which=which, platform=platform)
        if dialog is None:
            wanted = "a dialog program (zenity or kdialog; osascript on macOS)" if way == "gui" else way
            where = "" if has_desktop(env, platform) else " and no desktop session (DISPLAY) is visible"
            raise DialogUnavailable(
                f"{origin} asks for a dialog, but {wanted} was not found{where}",
                hint="install zenity or kdialog, or set AWSV_PROMPT=terminal",
            )
        return dialog
    if has_terminal:
        return "terminal"
    dialog = find_dialog(env, which=which, platform=platform)
    return dialog if dialog is not None else "terminal"


def ask(
    dialog: Dialog,
    title: str,
    text: str,
    *,
    secret: bool,
    env: Mapping[str, str],
    runner: Runner = run_bounded,
    timeout: float = DIALOG_TIMEOUT,
) -> str:
    """Show the dialog and return the answer; Cancel is Interrupted (nothing changes)."""
    import subprocess as _sp

    try:
        status, out = runner(dialog.ask_argv(title, text, secret=secret), env, timeout)
    except _sp.TimeoutExpired:
        raise Interrupted(
            f"no answer in the {dialog.program} dialog within {timeout:g}s; nothing was changed"
        ) from None
    except OSError as exc:
        raise DialogUnavailable(f"cannot run {dialog.program}: {exc.strerror}") from None
    if status != 0:
        # zenity, kdialog and osascript all exit 1 on Cancel (or closing the window).
        raise Interrupted(f"cancelled in the {dialog.program} dialog; nothing was changed")
    answer = out.decode("utf-8", errors="replace")
    if answer.endswith("\n"):
        answer = answer[:-1].removesuffix("\r")
    return answer


def notify(
    dialog: Dialog,
    title: str,
    text: str,
    *,
    env: Mapping[str, str],
    runner: Runner = run_bounded,
    which: Callable[..., str | None] = shutil.which,
) -> None:
    """A notification; best effort (a notification that fails must not fail the command).

    On Linux `notify-send` is preferred when installed: it returns at once,
    where zenity's notification waits to be dismissed (it is then stopped
    after a few seconds, which leaves the notification shown or gone).
    """
    argv = dialog.notify_argv(title, text)
    if dialog.program != "osascript":
        send = which("notify-send", path=env.get("PATH"))
        if send:
            argv = [send, title, text]
    try:
        runner(argv, env, 5.0)
    except (OSError, subprocess.TimeoutExpired):
        pass


def ask_passphrase(dialog: Dialog, *, creating: bool, env: Mapping[str, str], runner: Runner = run_bounded) -> str:
    """The vault passphrase from a hidden-entry dialog; a new vault asks twice."""
    from awsv.errors import VaultError

    if not creating:
        answer = ask(dialog, "awsv", "awsv vault passphrase:", secret=True, env=env, runner=runner)
        if not answer:
            raise Interrupted("no passphrase entered in the dialog; nothing was changed")
        return answer
    for _ in range(3):
        first = ask(dialog, "awsv", "New awsv vault passphrase:", secret=True, env=env, runner=runner)
        if not first:
            continue
        second = ask(dialog, "awsv", "Repeat the passphrase:", secret=True, env=env, runner=runner)
        if first == second:
            return first
    raise VaultError("no vault created: no matching passphrase entered")


def ask_mfa_code(
    dialog: Dialog,
    *,
    serial: str,
    profile: str,
    env: Mapping[str, str],
    is_code: Callable[[str], bool],
    runner: Runner = run_bounded,
) -> str | None:
    """An MFA code from a dialog (three tries); None when none of them was 6 digits."""
    text = f"MFA code for profile {profile} ({serial}):"
    for _ in range(3):
        answer = ask(dialog, "awsv", text, secret=False, env=env, runner=runner).strip()
        if is_code(answer):
            return answer
        text = f"An MFA code is 6 digits. MFA code for profile {profile} ({serial}):"
    return None


def ykman_code(
    serial: str,
    *,
    profile: str,
    env: Mapping[str, str],
    runner: Runner = run_bounded,
    which: Callable[..., str | None] = shutil.which,
    platform: str = sys.platform,
    timeout: float = 60.0,
) -> str:
    """aws-vault's `ykman` prompt: the code for `serial` from a YubiKey's OATH application.

    The key may wait for a touch, and a program without a terminal cannot say
    so: a notification (where there is a desktop) and a line on stderr do.
    The OATH account is named after the MFA serial, as aws-vault expects.
    """
    # aws-vault's override of the OATH account name, honoured so its setups work unchanged.
    name = env.get("AWSV_YKMAN_OATH_NAME") or env.get("YKMAN_OATH_CREDENTIAL_NAME") or serial
    ykman = which("ykman", path=env.get("PATH"))
    if not ykman:
        raise DialogUnavailable(
            "the ykman prompt needs YubiKey Manager's `ykman` on PATH",
            hint="install yubikey-manager, or choose another --prompt",
        )
    message = f"touch your YubiKey for an MFA code for profile {profile}"
    sys.stderr.write(f"awsv: {message}\n")
    sys.stderr.flush()
    dialog = find_dialog(env, which=which, platform=platform)
    if dialog is not None:
        notify(dialog, "awsv", message[0].upper() + message[1:], env=env, runner=runner, which=which)
    try:
        status, out = runner([ykman, "oath", "accounts", "code", "--single", name], env, timeout)
    except subprocess.TimeoutExpired:
        raise Interrupted(f"no touch within {timeout:g}s; nothing was changed") from None
    except OSError as exc:
        raise DialogUnavailable(f"cannot run ykman: {exc.strerror}") from None
    code = out.decode("utf-8", errors="replace").strip()
    if status != 0 or not code.isdigit():
        raise AwsvError(
            f"ykman gave no code for {name} (exit status {status})",
            hint=f"check `ykman oath accounts list` has an account named {name} "
            "(AWSV_YKMAN_OATH_NAME sets another name)",
        )
    return code

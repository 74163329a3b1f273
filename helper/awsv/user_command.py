"""Running a command the user named in their config (credential_process, mfa_process).

One runner, so every such command gets the same treatment: split with
`shlex` and run without a shell (a second layer of parsing would only add
ways to go wrong), an environment without the vault passphrase variables,
a timeout so a stuck helper cannot hang awsv, and errors that say which
setting failed without ever echoing its output (it may hold a secret).

Bounds (`spawn_bounded`, also used for the passphrase command): at most
MAX_OUTPUT bytes are read from the command's stdout (more is an error, not a
truncation), and the command runs in its own process group, which is killed
as a whole on timeout, on too much output and on Ctrl-C, so a helper's own
children (a shell script's background jobs, a CLI's daemon) do not outlive it.
When awsv owns the terminal, the group is handed the terminal for the run (as a
shell does for a job), so a helper can still prompt on /dev/tty and Ctrl-C
reaches it.
"""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

from awsv.errors import AwsvError, Interrupted
from awsv.secret_env import child_env

#: The most a helper command may print (README, "Limits"); AWS credentials are a few KiB.
MAX_OUTPUT = 1024 * 1024


class CommandTimedOut(Exception):
    """The command did not finish in time; its process group was killed."""


class CommandOutputTooLarge(Exception):
    """The command printed more than the limit; its process group was killed."""


class CommandInterrupted(Exception):
    """Ctrl-C (SIGINT) ended the command; its process group was killed."""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the command's whole process group, then reap the command itself."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()


class _Terminal:
    """Hands the controlling terminal to a command's process group and back.

    Only when awsv is itself the terminal's foreground job; otherwise (no
    terminal, a background job, a pipe) nothing is done and the command runs in
    the background group, as before.
    """

    def __init__(self) -> None:
        self.fd: int | None = None
        try:
            fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if os.tcgetpgrp(fd) == os.getpgrp():
                self.fd = fd
                return
        except OSError:
            pass
        os.close(fd)

    def give(self, pgid: int) -> None:
        if self.fd is not None:
            self._set(pgid)
            try:  # a command that read before it owned the terminal was stopped: resume it
                os.killpg(pgid, signal.SIGCONT)
            except OSError:
                pass

    def take_back(self) -> None:
        if self.fd is not None:
            self._set(os.getpgrp())
            os.close(self.fd)
            self.fd = None

    def _set(self, pgid: int) -> None:
        assert self.fd is not None  # noqa: S101 - narrows the type; set only when a terminal was found
        old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # we may be a background group now
        try:
            os.tcsetpgrp(self.fd, pgid)
        except OSError:
            pass
        finally:
            signal.signal(signal.SIGTTOU, old)


def spawn_bounded(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    max_output: int = MAX_OUTPUT,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[int, bytes]:
    """Run `argv` in its own process group; return (exit status, stdout).

    stdin and stderr stay the caller's. Raises CommandTimedOut,
    CommandOutputTooLarge or CommandInterrupted after killing the whole group;
    OSError from starting the command passes through. Waits for stdout's end
    as well as for the command, so a grandchild holding stdout open counts
    against the timeout instead of hanging awsv.
    """
    terminal = _Terminal()
    try:
        proc = subprocess.Popen(  # noqa: S603 - the user's own command, no shell
            list(argv),
            stdout=subprocess.PIPE,
            env=child_env(env),
            process_group=0,
        )
    except BaseException:
        terminal.take_back()
        raise
    assert proc.stdout is not None  # noqa: S101 - narrows the type; stdout=PIPE
    deadline = clock() + timeout
    chunks: list[bytes] = []
    total = 0
    try:
        terminal.give(proc.pid)
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - clock()
                if left <= 0:
                    raise CommandTimedOut
                if not sel.select(min(left, 0.5)):
                    if proc.poll() is not None and proc.returncode == -signal.SIGINT:
                        raise CommandInterrupted
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_output:
                    raise CommandOutputTooLarge
                chunks.append(chunk)
        left = deadline - clock()
        try:
            status = proc.wait(timeout=max(left, 0.0))
        except subprocess.TimeoutExpired:
            raise CommandTimedOut from None
        if status == -signal.SIGINT:
            raise CommandInterrupted
    except KeyboardInterrupt:
        terminal.take_back()
        _kill_group(proc)
        raise CommandInterrupted from None
    except BaseException:
        terminal.take_back()
        _kill_group(proc)
        raise
    finally:
        terminal.take_back()
        proc.stdout.close()
    return status, b"".join(chunks)


def run_user_command(
    command: str,
    *,
    where: str,
    env: Mapping[str, str],
    timeout: float,
    error: type[AwsvError],
    parse_hint: str | None = None,
    max_output: int = MAX_OUTPUT,
) -> bytes:
    """Run `command` and return its stdout; any failure raises `error` naming `where`.

    `where` names the setting, e.g. "credential_process of profile 'ci'".
    The command's stdin and stderr stay the caller's, so it may prompt.
    Ctrl-C kills the command's group and raises Interrupted.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise error(f"{where} cannot be parsed: {exc}", hint=parse_hint) from None
    if not argv:
        raise error(f"{where} is empty")
    try:
        status, out = spawn_bounded(argv, env=env, timeout=timeout, max_output=max_output)
    except FileNotFoundError:
        raise error(f"{where}: command not found: {argv[0]!r}") from None
    except PermissionError:
        raise error(f"{where}: {argv[0]!r} is not executable") from None
    except CommandTimedOut:
        raise error(f"{where} did not finish within {timeout:g}s") from None
    except CommandOutputTooLarge:
        raise error(
            f"{where} printed more than {max_output} bytes", hint="its output must be one small JSON document or value"
        ) from None
    except CommandInterrupted:
        raise Interrupted(f"{where} was interrupted") from None
    except OSError as exc:
        raise error(f"{where} cannot be run: {exc.strerror}") from None
    if status != 0:
        raise error(f"{where} failed with exit status {status}", hint="run the command yourself to see why")
    return out

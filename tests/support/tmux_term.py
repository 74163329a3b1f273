"""An interactive shell in a detached tmux pane, typed into and read back as a user sees it.

`Term` sends keys and reads the screen with `capture-pane` (colours too);
`terms` is the fixture that kills every pane a test opened. `count_forks`
counts the processes a shell starts while something runs (strace), which is
how the "no fork per prompt" tests are measured.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class Term:
    """An interactive shell in a detached tmux pane, read back with capture-pane."""

    def __init__(
        self, workdir: Path, argv: list[str], env: dict[str, str], *, width: int = 160, height: int = 45
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.sock = str(workdir / "tmux.sock")
        self.env = env
        self.workdir = workdir
        self._n = 0
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-c", str(workdir), "--", *argv)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.sock, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Tab, Enter, C-u ...)."""
        self.tmux("send-keys", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)

    def enter(self, line: str) -> None:
        self.type(line)
        self.keys("Enter")

    def screen(self, colors: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-500", *(["-e"] if colors else []))

    def wait(self, pattern: str, *, timeout: float = 30, colors: bool = False) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(colors)
            match = re.search(pattern, text, re.MULTILINE)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}; screen:\n{text}")
            time.sleep(0.03)

    def sync(self) -> None:
        """Wait until everything typed so far has run and a new prompt is up."""
        self._n += 1
        self.enter(f"printf '<<%s>>\\n' S{self._n}")
        self.wait(rf"<<S{self._n}>>")

    def values(self, *exprs: str) -> list[str]:
        """The values of shell expressions, e.g. '$AWSV_PROFILE' (the marker is split so
        the echoed command line never matches it)."""
        self._n += 1
        fmt = "~~".join(["%s"] * len(exprs))
        quoted = " ".join(f'"{e}"' for e in exprs)
        self.enter(f"printf '<<%s|{fmt}>>\\n' V{self._n} {quoted}")
        return self.wait(rf"<<V{self._n}\|([\s\S]*?)>>").group(1).split("~~")

    def value(self, expr: str) -> str:
        return self.values(expr)[0]

    def last_prompt(self, marker: str, *, colors: bool = False) -> str:
        """The last line of the screen that starts with the prompt marker."""
        lines = [
            line for line in self.screen(colors).splitlines() if re.sub(r"\x1b\[[0-9;]*m", "", line).startswith(marker)
        ]
        assert lines, self.screen()
        return lines[-1]

    def pid(self) -> int:
        return int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True, timeout=10, check=False)


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    """Collects the terminals a test opens and kills their tmux servers afterwards."""
    opened: list[Term] = []
    yield opened
    for term in opened:
        term.close()


def _strace(term: Term, tmp: Path, action: Callable[[], object], *options: str) -> str:
    """strace's output for the shell (and its children) while `action` runs."""
    out = tmp / f"strace-{time.monotonic_ns()}.txt"
    proc = subprocess.Popen(
        ["strace", "-f", *options, "-e", "trace=clone,clone3,fork,vfork", "-o", str(out), "-p", str(term.pid())],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert "attached" in first, first
    action()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    return out.read_text()


def count_forks(term: Term, tmp: Path, action: Callable[[], object]) -> int:
    """Forks made by the shell (and its children) while `action` runs, by strace -f -c."""
    total = 0
    for line in _strace(term, tmp, action, "-c").splitlines():
        fields = line.split()
        if fields and fields[-1] in ("clone", "clone3", "fork", "vfork") and fields[3].isdigit():
            total += int(fields[3])
    return total


def count_processes(term: Term, tmp: Path, action: Callable[[], object]) -> int:
    """Processes started by the shell (and its children) while `action` runs.

    fish starts threads of its own (autoloading, history) with `clone3`; unlike
    `count_forks`, which counts every clone, this reads strace's full trace and
    counts only the clones without CLONE_THREAD (new processes: fork, vfork,
    posix_spawn).
    """
    calls = re.findall(r"^\d+ +(?:clone3?|v?fork)\((.*)$", _strace(term, tmp, action), re.MULTILINE)
    return sum(1 for args in calls if "CLONE_THREAD" not in args)


def forks_of_a_command_and_of_prompts(
    term: Term, tmp: Path, count: Callable[[Term, Path, Callable[[], object]], int] = count_forks
) -> tuple[int, int]:
    """Forks while running `/bin/true` (the control), then over 20 bare prompts, as `count` counts them."""

    def command() -> None:
        term.enter("/bin/true")
        term.sync()

    control = count(term, tmp, command)

    def prompts() -> None:
        for _ in range(20):
            term.keys("Enter")
        term.sync()

    return control, count(term, tmp, prompts)

"""The profile picker: type to filter, Enter to choose, Esc to leave things as they are.

`awsv pick`, and `awsv use` with no profile on a terminal, show every
profile with what tells them apart: account, region, where the credentials
come from (vault, SSO, process, web identity, a role via another profile),
the cached session's time left and the profile's colour (`awsv_color`).
The most used profiles come first (`awsv.usage`: how often and how recently).

Two front ends, one list: `fzf` when it is on PATH (AWSV_PICKER=fzf|builtin
chooses), else a small built-in picker drawn on /dev/tty. Either way the
terminal is only the UI; the choice comes back to the caller, which switches
through `awsv use`'s own code. Nothing here imports more than the standard
library's terminal modules, and the list is built from the config alone (the
session times come from the vault only when it opens without asking).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

# subprocess and shutil are imported where fzf is looked for and run: the
# built-in picker's first screen should not pay for them.

_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):")
_SGR = {
    "black": "30",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "white": "37",
}


@dataclass(frozen=True)
class Entry:
    """One line of the picker."""

    profile: str
    account: str = ""
    region: str = ""
    source: str = ""
    #: Seconds left on the cached session; None when unknown or none is cached.
    left: float | None = None
    color: str = ""


def source_of(settings: Mapping[str, str]) -> str:
    """Where a profile's credentials come from, in one word or two (config only)."""
    if settings.get("sso_session") or settings.get("sso_start_url") or settings.get("sso_account_id"):
        return "SSO"
    if settings.get("role_arn"):
        via = settings.get("source_profile") or settings.get("credential_source") or "web identity"
        return f"role via {via}"
    if settings.get("web_identity_token_file"):
        return "web identity"
    if settings.get("credential_process"):
        return "process"
    return "vault"


def account_of(settings: Mapping[str, str]) -> str:
    match = _ACCOUNT_IN_ARN.match(settings.get("role_arn") or "")
    if match:
        return match.group(1)
    return settings.get("sso_account_id") or ""


def build_entries(
    profiles: Iterable[tuple[str, Mapping[str, str]]],
    usage: Mapping[str, Mapping[str, float]],
    now: float,
    left: Mapping[str, float] | None = None,
    accounts: Mapping[str, str] | None = None,
) -> list[Entry]:
    """Entries in the picker's order: most used first (awsv.usage.score), then by name."""
    from awsv.usage import score

    left = left or {}
    accounts = accounts or {}
    entries = [
        Entry(
            name,
            account_of(s) or accounts.get(name, ""),
            s.get("region") or "",
            source_of(s),
            left.get(name),
            s.get("awsv_color") or "",
        )
        for name, s in profiles
    ]
    return sorted(entries, key=lambda e: (-score(usage.get(e.profile), now), e.profile))


def fuzzy_score(query: str, text: str) -> int | None:
    """None unless every character of `query` occurs in `text` in order (case-insensitive);
    otherwise higher for matches that start earlier and run together."""
    if not query:
        return 0
    q, t = query.lower(), text.lower()
    pos = t.find(q)
    if pos >= 0:  # a substring: best, and better near the start
        return 10_000 - pos
    score, at, prev = 0, 0, -2
    for ch in q:
        found = t.find(ch, at)
        if found < 0:
            return None
        score += 5 if found == prev + 1 else 0
        score -= found - at
        prev, at = found, found + 1
    return score


def filter_entries(entries: Sequence[Entry], query: str) -> list[Entry]:
    """Matching entries (on the profile name, then account and source), best first;
    ties keep the usage order."""
    scored = []
    for index, entry in enumerate(entries):
        best = fuzzy_score(query, entry.profile)
        if best is None:
            other = fuzzy_score(query, f"{entry.account} {entry.source} {entry.region}")
            best = None if other is None else other - 20_000
        if best is not None:
            scored.append((-best, index, entry))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in scored]


def time_left(seconds: float | None) -> str:
    """`59m`, `2h05m`, `<1m`, `expired`, or `-` when no session is cached (the badge's shape)."""
    if seconds is None:
        return "-"
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1m"
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def color_on(color: str) -> str:
    """The SGR escape for an awsv_color (name, 0-255, #rrggbb); '' for anything else."""
    if color in _SGR:
        return f"\x1b[{_SGR[color]}m"
    if color.isdigit() and int(color) <= 255:
        return f"\x1b[38;5;{int(color)}m"
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        return f"\x1b[38;2;{r};{g};{b}m"
    return ""


def _safe(text: str) -> str:
    """No control characters from a config file ever reach the terminal."""
    return "".join(c if c.isprintable() else "?" for c in text)


def format_line(
    entry: Entry, widths: tuple[int, int, int], *, colors: bool = True, max_width: int | None = None
) -> str:
    """`NAME  ACCOUNT  REGION  SOURCE  LEFT`, the name in its colour, cut to `max_width`."""
    name_w, region_w, source_w = widths
    name = _safe(entry.profile)
    plain = (
        f"{name:<{name_w}}  {entry.account or '-':<12}  {_safe(entry.region) or '-':<{region_w}}  "
        f"{_safe(entry.source):<{source_w}}  {time_left(entry.left)}"
    )
    if max_width is not None and len(plain) > max_width:
        plain = plain[: max(1, max_width - 1)] + "~"
    on = color_on(entry.color) if colors else ""
    if not on:
        return plain
    cut = min(len(name), len(plain))
    return f"{on}{plain[:cut]}\x1b[39m{plain[cut:]}"


def column_widths(entries: Sequence[Entry]) -> tuple[int, int, int]:
    cap = 40
    return (
        min(cap, max((len(e.profile) for e in entries), default=7)),
        min(cap, max((len(e.region) for e in entries), default=1)),
        min(cap, max((len(e.source) for e in entries), default=6)),
    )


# -- fzf ---------------------------------------------------------------------------


def pick_with_fzf(entries: Sequence[Entry], fzf: str, env: Mapping[str, str]) -> str | None:
    """The profile chosen in fzf, or None on Esc/Ctrl-C. fzf draws on /dev/tty itself;
    it reads the lines on stdin and prints the chosen one on stdout."""
    import subprocess

    from awsv.secret_env import child_env

    widths = column_widths(entries)
    lines = "".join(f"{e.profile}\t{format_line(e, widths)}\n" for e in entries)
    argv = [
        fzf,
        "--ansi",
        "--delimiter=\t",
        "--with-nth=2..",
        "--tiebreak=index",
        "--layout=reverse",
        "--height=~60%",
        "--prompt=awsv use> ",
        "--header=Enter: switch  Esc: leave as is",
    ]
    proc = subprocess.run(  # noqa: S603 - fzf with our own fixed argv
        argv, input=lines.encode("utf-8", "replace"), stdout=subprocess.PIPE, env=child_env(env), check=False
    )
    if proc.returncode != 0:
        return None
    chosen = proc.stdout.decode("utf-8", "replace").split("\t", 1)[0].strip()
    return chosen or None


# -- the built-in picker -------------------------------------------------------------


class BuiltinPicker:
    """A list under a query line, drawn on a terminal in raw mode.

    Keys: printable characters filter; Backspace; Up/Down (Ctrl-P/Ctrl-N)
    move; Enter chooses; Esc, Ctrl-C, Ctrl-G and Ctrl-D (on an empty query)
    leave. Only the lines that fit are formatted, so a long list costs
    nothing until it is scrolled.
    """

    def __init__(self, entries: Sequence[Entry], *, rows: int, cols: int, write: Callable[[str], None]) -> None:
        self.entries = list(entries)
        self.rows = max(3, rows)
        self.cols = max(20, cols)
        self.write = write
        self.query = ""
        self.matches = list(entries)
        self.cursor = 0
        self.top = 0
        self.widths = column_widths(self.entries)

    @property
    def visible(self) -> int:
        return min(self.rows - 2, 20)

    def draw(self) -> None:
        """Redraw from the query line (where the cursor always rests) downwards."""
        query = _safe(self.query)[-(self.cols - 20) :]
        out = [f"\r\x1b[2K\x1b[1mawsv use>\x1b[22m {query}  \x1b[2m{len(self.matches)}/{len(self.entries)}\x1b[22m\r\n"]
        shown = self.matches[self.top : self.top + self.visible]
        for i, entry in enumerate(shown):
            mark = "\x1b[7m>\x1b[27m " if self.top + i == self.cursor else "  "
            line = format_line(entry, self.widths, max_width=self.cols - 3)
            out.append(f"\x1b[2K{mark}{line}\r\n")
        for _ in range(len(shown), self.visible):
            out.append("\x1b[2K\r\n")
        # The cursor back at the end of the query.
        out.append(f"\x1b[{self.visible + 1}A\r\x1b[{10 + len(query)}C")
        self.write("".join(out))

    def clear(self) -> None:
        self.write("\r" + "\x1b[2K\r\n" * (self.visible + 1) + f"\x1b[{self.visible + 1}A\r")

    def replace(self, entries: Sequence[Entry]) -> None:
        """New entries (more details, maybe a new order), keeping the query; the cursor
        stays on the profile it was on."""
        current = self.matches[self.cursor].profile if self.matches else None
        self.entries = list(entries)
        self.widths = column_widths(self.entries)
        self._refilter()
        for index, entry in enumerate(self.matches):
            if entry.profile == current:
                self._move(index)
                break

    def _refilter(self) -> None:
        self.matches = filter_entries(self.entries, self.query)
        self.cursor = 0
        self.top = 0

    def _move(self, step: int) -> None:
        if not self.matches:
            return
        self.cursor = max(0, min(len(self.matches) - 1, self.cursor + step))
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + self.visible:
            self.top = self.cursor - self.visible + 1

    def feed(self, data: str) -> tuple[bool, str | None]:
        """Handle keys; (done, chosen profile or None)."""
        i = 0
        while i < len(data):
            ch = data[i]
            if data.startswith(("\x1b[A", "\x1bOA"), i):
                self._move(-1)
                i += 3
                continue
            if data.startswith(("\x1b[B", "\x1bOB"), i):
                self._move(1)
                i += 3
                continue
            if ch == "\x1b" and i + 1 < len(data) and data[i + 1] in "[O":
                i += 3  # another key's sequence: ignored
                continue
            if ch in ("\x1b", "\x03", "\x07") or (ch == "\x04" and not self.query):
                return True, None
            if ch in ("\r", "\n"):
                return True, (self.matches[self.cursor].profile if self.matches else None)
            if ch in ("\x10",):
                self._move(-1)
            elif ch in ("\x0e",):
                self._move(1)
            elif ch in ("\x7f", "\x08"):
                if self.query:
                    self.query = self.query[:-1]
                    self._refilter()
            elif ch == "\x15":
                self.query = ""
                self._refilter()
            elif ch.isprintable():
                self.query += ch
                self._refilter()
            i += 1
        return False, None


def pick_builtin(entries: Sequence[Entry], later: Callable[[], Sequence[Entry]] | None = None) -> str | None:
    """Run the built-in picker on /dev/tty; the chosen profile, or None when left.

    `later` is called once the first screen is up; its entries (the same
    profiles with more details) replace the first ones.
    """
    import termios
    import tty as tty_mod

    from awsv.tty import NoTerminal

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise NoTerminal("no terminal for the picker") from None
    try:
        size = os.get_terminal_size(fd)
        rows, cols = size.lines, size.columns
    except OSError:
        rows, cols = 24, 80
    old = termios.tcgetattr(fd)

    def write(text: str) -> None:
        os.write(fd, text.encode("utf-8", "replace"))

    picker = BuiltinPicker(entries, rows=rows, cols=cols, write=write)
    try:
        tty_mod.setraw(fd)
        picker.draw()
        if later is not None:
            picker.replace(later())
            picker.draw()
        while True:
            data = os.read(fd, 1024)
            if not data:
                return None
            done, chosen = picker.feed(data.decode("utf-8", "replace"))
            if done:
                return chosen
            picker.draw()
    finally:
        picker.clear()
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
        os.close(fd)


def pick(
    entries: Sequence[Entry], env: Mapping[str, str], later: Callable[[], Sequence[Entry]] | None = None
) -> str | None:
    """The chosen profile (fzf when found, else built in; AWSV_PICKER decides), None when left.

    `later` gives the entries with their session details (see pick_builtin);
    fzf gets those from the start.
    """
    import shutil

    choice = (env.get("AWSV_PICKER") or "").strip().lower()
    fzf = None if choice == "builtin" else shutil.which("fzf", path=env.get("PATH"))
    if choice == "fzf" and fzf is None:
        from awsv.errors import UsageError

        raise UsageError(
            "AWSV_PICKER=fzf, but fzf is not on PATH", hint="install fzf, or unset AWSV_PICKER for the built-in picker"
        )
    if fzf:
        return pick_with_fzf(later() if later is not None else entries, fzf, env)
    return pick_builtin(entries, later)

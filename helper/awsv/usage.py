"""Which profiles a user switches to, how often and how recently: the picker's order.

Kept in `$XDG_STATE_HOME/awsv/usage.json` (default `~/.local/state/awsv/`),
directory 0700, file 0600. It holds profile names, a count and the time of
the last switch, nothing else: no account, no credential, no session. Every
successful `awsv use` (full CLI or the agent's fast path) records one switch.

Cheap enough for the hot path: only `os`, `json` and `time`. Recording is
best effort: a read-only home or a damaged file never fails a switch; a
damaged file is started afresh (it holds nothing that cannot be rebuilt by
using awsv).
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # typing costs milliseconds on the hot path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: Bounds: a bigger file is not ours to parse; entries beyond this are the oldest, dropped.
MAX_BYTES = 1024 * 1024
MAX_ENTRIES = 5000
#: How fast a switch loses weight: its weight halves every this many seconds (a week).
HALF_LIFE = 7 * 24 * 3600.0


def usage_file(env: Mapping[str, str]) -> str:
    base = env.get("XDG_STATE_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "awsv", "usage.json")


def load(env: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """profile -> {"count": n, "last": epoch seconds}; empty when missing or unreadable."""
    try:
        with open(usage_file(env), "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError:
        return {}
    if len(raw) > MAX_BYTES:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, dict):
        return {}
    out: dict[str, dict[str, float]] = {}
    for name, entry in profiles.items():
        if (
            isinstance(name, str)
            and isinstance(entry, dict)
            and isinstance(entry.get("count"), (int, float))
            and isinstance(entry.get("last"), (int, float))
        ):
            out[name] = {"count": float(entry["count"]), "last": float(entry["last"])}
    return out


def record(env: Mapping[str, str], profile: str, *, now: Callable[[], float] = time.time) -> None:
    """Count one switch to `profile`; never raises (best effort, see the module docstring)."""
    try:
        data = load(env)
        entry = data.get(profile, {"count": 0.0, "last": 0.0})
        data[profile] = {"count": entry["count"] + 1, "last": now()}
        if len(data) > MAX_ENTRIES:
            keep = sorted(data, key=lambda n: data[n]["last"], reverse=True)[:MAX_ENTRIES]
            data = {n: data[n] for n in keep}
        path = usage_file(env)
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "profiles": data}, fh, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, ValueError):
        pass


def score(entry: Mapping[str, float] | None, now: float) -> float:
    """Frecency: every switch counts, old ones less (halving each HALF_LIFE since the last)."""
    if not entry:
        return 0.0
    age = max(0.0, now - entry["last"])
    return float(entry["count"] * 0.5 ** (age / HALF_LIFE) + 1.0 / (1.0 + age))

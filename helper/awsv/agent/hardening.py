"""Keep the agent's memory to itself, as far as an unprivileged Linux process can.

All best effort, and each step reports whether it worked (`awsv unlock
--status` shows it):

* `prctl(PR_SET_DUMPABLE, 0)` and RLIMIT_CORE = 0: no core dump can write the
  key to disk, and other processes of the same user cannot ptrace the agent
  or read its /proc/PID/mem (root still can: root is out of scope).
* `mlockall(MCL_CURRENT | MCL_FUTURE)`: keeps every page in RAM, so the key
  never reaches swap. Only attempted when RLIMIT_MEMLOCK allows the whole
  process (unlimited, at least LOCK_MIN_LIMIT, or CAP_IPC_LOCK): with a small limit, locking
  future pages would make later allocations fail and crash the agent. Most
  desktop users have an 8 MiB limit, so on their machines the key *can* be
  swapped out: use encrypted swap (or none) if that matters; the README says so.

Python cannot scrub freed memory reliably; the agent instead exits when it
locks, so the operating system reclaims everything it held.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource

PR_SET_DUMPABLE = 4
MCL_CURRENT = 1
MCL_FUTURE = 2
CAP_IPC_LOCK = 14
#: Lock all memory only when this much (or unlimited) may be locked.
LOCK_MIN_LIMIT = 512 * 1024 * 1024


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def no_dumps() -> bool:
    """Forbid core dumps and same-user ptrace; True when prctl succeeded."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    libc = _libc()
    if libc is None:
        return False
    return int(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0


def _can_lock_unlimited() -> bool:
    """True when CAP_IPC_LOCK is in our effective set (the limit then does not apply)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << CAP_IPC_LOCK))
    except (OSError, ValueError, IndexError):
        pass
    return False


def lock_memory() -> bool:
    """mlockall when the limit is large enough (see module docstring); True when it worked."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft != resource.RLIM_INFINITY and soft < LOCK_MIN_LIMIT and not _can_lock_unlimited():
        return False
    libc = _libc()
    if libc is None:
        return False
    return int(libc.mlockall(MCL_CURRENT | MCL_FUTURE)) == 0

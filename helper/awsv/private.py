"""One rule for "private to this user", asked by the agent, the file vault and `awsv doctor`.

Private means: the expected kind of file (a directory, or a regular file, never
a symlink: callers pass `os.lstat`), owned by this user, and no permission bit
for group or others. Each caller words its own error and fix around the one
answer given here, so the rule cannot drift between them.
"""

from __future__ import annotations

import os
import stat

#: What the answer is about, so callers can pick the fix (remove, chown, chmod).
KIND, OWNER, MODE = "kind", "owner", "mode"


def not_private(st: os.stat_result, *, is_dir: bool) -> tuple[str, str] | None:
    """None when `st` is private; else (KIND | OWNER | MODE, what is wrong, as a phrase).

    The phrase completes a sentence that starts with the thing's name, e.g.
    "is accessible by other users (mode 0755)".
    """
    if is_dir and not stat.S_ISDIR(st.st_mode):
        return KIND, "is not a directory"
    if not is_dir and not stat.S_ISREG(st.st_mode):
        return KIND, "is not a regular file"
    if st.st_uid != os.geteuid():
        return OWNER, f"belongs to uid {st.st_uid}, not to you (uid {os.geteuid()})"
    if st.st_mode & 0o077:
        return MODE, f"is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o})"
    return None

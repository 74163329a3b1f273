"""Which shell will evaluate our output.

Order: the user's `--shell` wins; then the shell process awsv runs under (found
by shellingham walking the parent processes: under `eval "$(awsv use P)"` that
is the very shell doing the eval); then the login shell in `$SHELL`; then bash.
A shell we cannot write code for is an error rather than a guess: bash code
evaluated by dash or tcsh would silently set wrong values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from awsv.errors import UsageError

DEFAULT_SHELL = "bash"

# "zsh5", "bash-5.2", "zsh-5.9", "python3.11" -> drop the version suffix.
_VERSION_SUFFIX = re.compile(r"[-_.]?[0-9][0-9.]*\Z")


def normalize_shell_name(raw: str) -> str:
    """Reduce a program name or path to a bare shell name, lower case.

    Handles paths (`/bin/bash`), login-shell argv[0] (`-zsh`), versioned
    binaries (`zsh5`, `bash-5.2`) and Windows' `.exe`. The result may still be
    an unsupported name; callers check it.
    """
    name = raw.strip().replace("\\", "/").rsplit("/", 1)[-1]
    name = name.lstrip("-").lower()
    name = name.removesuffix(".exe")
    return _VERSION_SUFFIX.sub("", name)


def _detect_with_shellingham() -> str | None:
    """The shell among our parent processes, or None when none is found.

    shellingham is imported here, not at module level, so `awsv use --shell
    zsh` (what the shell wrappers run) never pays for it.
    """
    try:
        import shellingham  # type: ignore[import-untyped]  # ships no type hints
    except ImportError:  # a declared dependency, but detection is best effort
        return None
    try:
        name, _path = shellingham.detect_shell()
    except (OSError, RuntimeError):  # ShellDetectionFailure is an OSError
        return None
    return str(name)


def _shown(raw: str) -> str:
    """`raw` for an error message: repr'd and cut short."""
    return repr(raw) if len(raw) <= 40 else repr(raw[:37] + "...")


def detect_shell(
    env: Mapping[str, str],
    override: str | None = None,
    *,
    detector: Callable[[], str | None] = _detect_with_shellingham,
) -> str:
    """Return the name of a supported shell ("bash", "zsh" or "fish").

    `env` is the process environment (only `SHELL` is read); `override` is the
    value of `--shell`, or None when not given; `detector` finds the shell in
    the process tree (tests replace it to stand for "no shell found").
    Raises UsageError, with a hint to pass `--shell`, when the chosen shell is
    not supported.
    """
    from awsv.shells import SUPPORTED

    choices = ", ".join(SUPPORTED)
    if override is not None:
        name = normalize_shell_name(override)
        if name not in SUPPORTED:
            raise UsageError(
                f"unsupported shell {_shown(override)} for --shell",
                hint=f"supported shells: {choices}",
            )
        return name

    hint = f"pass --shell with one of: {choices}"
    found = detector()
    if found:
        name = normalize_shell_name(found)
        if name not in SUPPORTED:
            raise UsageError(
                f"awsv is running under {_shown(found)}, which it cannot write code for",
                hint=hint,
            )
        return name

    login = env.get("SHELL", "")
    if login:
        name = normalize_shell_name(login)
        if name not in SUPPORTED:
            raise UsageError(
                f"could not detect the shell, and SHELL={_shown(login)} is not supported",
                hint=hint,
            )
        return name
    return DEFAULT_SHELL

"""Stopping awsv from running itself forever.

aws-vault's documented recipe puts `credential_process = awsv exec -j P` on
the very profile P whose key is in the vault. Followed blindly, resolving P
runs the command, which resolves P, which runs the command… Two guards stop
this, one static and one at run time:

1. Before anything starts, `runs_awsv_back` reads a `credential_process`
   line (with `shlex`, nothing is run) and says whether the awsv it starts
   would resolve a profile that is being resolved now — directly, or through
   that profile's own chain. `awsv.chain` then takes the vault key instead
   (a stored key wins, as in aws-vault) or raises one clear error.
2. Whatever the config says, every process awsv starts while resolving
   carries `AWSV_RESOLVING` in its environment: the profiles being resolved,
   separated by `:` (a character profile names cannot contain). An awsv
   started under that mark for one of those profiles stops at once
   (`check_not_marked`), so no chain of processes can grow.

Cheap enough for the hot path: nothing heavy at import, `shlex` only when a
command line is read.
"""

from __future__ import annotations

import contextlib

TYPE_CHECKING = False  # typing imports cost milliseconds on the hot path
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from awsv.config import AwsConfig

#: The environment variable that marks processes started while resolving.
MARK_VAR = "AWSV_RESOLVING"
_SEPARATOR = ":"

#: Profiles this process is resolving right now (innermost last).
_resolving: list[str] = []

#: Program names that are awsv. aws-vault itself is not: it never reads awsv's vault.
_AWSV_NAMES = ("awsv",)
#: awsv's options that take a value, so the word after them is not a profile.
_VALUE_OPTIONS = frozenset(
    {
        "--backend",
        "--prompt",
        "--format",
        "-f",
        "--shell",
        "-s",
        "--duration",
        "-d",
        "--region",
        "--mfa-token",
        "-t",
        "--min-ttl",
    }
)
#: The commands that resolve their PROFILE argument into credentials.
_RESOLVING_COMMANDS = frozenset({"exec", "export", "use"})


# -- the static check -----------------------------------------------------------


def awsv_profile_of(command: str) -> str | None:
    """The profile `command` would make awsv resolve, or None if it does not run awsv that way.

    Understands `awsv …`, `/path/to/awsv …` and `python -m awsv …`, with
    awsv's global options before the command (`--backend X`, `--prompt=X`).
    """
    import os
    import shlex

    if "awsv" not in command and not any(quote in command for quote in "'\"\\"):
        # Without quotes or backslashes shlex's words are slices of the text, so a
        # command that never spells "awsv" cannot run it: the common case, skipped
        # cheaply (`awsv list` reads every credential_process of a 10,000-profile config).
        return None
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program in _AWSV_NAMES:
        words = argv[1:]
    elif program.startswith("python") and argv[1:3] == ["-m", "awsv"]:
        words = argv[3:]
    else:
        return None
    subcommand: str | None = None
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--":
            return None
        elif word in _VALUE_OPTIONS:
            skip = True
        elif word.startswith("-"):
            continue
        elif subcommand is None:
            if word not in _RESOLVING_COMMANDS:
                return None
            subcommand = word
        else:
            return word
    return None


def runs_awsv_back(config: AwsConfig, command: str, busy: Iterable[str]) -> str | None:
    """The profile through which `command` would loop back into `busy`, else None.

    `busy` are the profiles being resolved when `command` would run. The
    awsv it starts resolves some profile Q: a loop when Q is busy, or when
    Q's own chain (source_profile links, then its credential_process, read
    the same way) reaches a busy profile. A cycle that avoids the busy
    profiles is not this resolution's loop (the profile in it reports its own
    when resolved). Every step visits a new profile, so this ends on any config.
    """
    from awsv.errors import AwsvError

    busy_set = set(busy)
    visited: set[str] = set()  # profiles already followed: a cycle elsewhere is their own problem
    target = awsv_profile_of(command)
    while target is not None:
        current = target
        while True:
            if current in busy_set:
                return current
            if current not in config or current in visited:
                return None  # vault-only, missing, or a cycle its own resolution reports
            visited.add(current)
            try:
                profile = config.profile(current)
            except AwsvError:
                return None  # an include_profile problem: resolution reports it
            nxt = profile.source_profile if profile.role_arn else None
            if nxt is None or nxt == current:
                break
            current = nxt
        process = profile.credential_process
        target = awsv_profile_of(process) if process else None
    return None


# -- the run-time mark -------------------------------------------------------------


def marked(env: Mapping[str, str]) -> list[str]:
    """The profiles named by the mark in `env` (empty when unmarked)."""
    raw = env.get(MARK_VAR, "")
    return [name for name in raw.split(_SEPARATOR) if name] if raw else []


def check_not_marked(env: Mapping[str, str], profiles: Iterable[str]) -> None:
    """Raise SelfReference when one of `profiles` is already being resolved by a parent awsv."""
    names = marked(env)
    if not names:
        return
    for profile in profiles:
        if profile in names:
            from awsv.errors import ConfigError

            raise ConfigError(
                f"profile {profile!r} is already being resolved by the awsv that started this one "
                f"({MARK_VAR} is set): a credential_process, mfa_process or passphrase command runs "
                f"awsv for it again; store its key (`awsv add {profile}`) or point the command "
                "at another profile"
            )


@contextlib.contextmanager
def resolving(profiles: Iterable[str]) -> Iterator[None]:
    """Mark `profiles` as being resolved by this process while the block runs."""
    added = list(profiles)
    _resolving.extend(added)
    try:
        yield
    finally:
        for name in added:
            _resolving.remove(name)


def mark_env(env: dict[str, str]) -> dict[str, str]:
    """`env` (changed in place and returned) carrying the inherited mark plus ours."""
    if _resolving:
        names = marked(env)
        names += [p for p in dict.fromkeys(_resolving) if p not in names]
        env[MARK_VAR] = _SEPARATOR.join(names)
    return env

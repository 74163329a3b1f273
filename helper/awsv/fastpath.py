"""The hot path: `use`, credential_process and `exec` answered by the agent, with almost no imports.

`awsv use P` runs at every profile switch and credential_process at every
AWS CLI call, so their cost is mostly Python's start-up plus imports. When
the agent holds the vault and has a usable cached session, this module
sends the profile to the agent (`awsv.agent.deliver`) and prints its answer:
no argparse, no config parser, no crypto, no awsv command code.

Only the plainest spellings are taken here (`use [P] [--shell S] [--region R]
[--quiet] [--no-prompt] [-- P]`, the shell detected from /proc when `--shell`
is absent; `export --format credential-process|json P` (also `--format=json`);
`exec -j P`; each maybe after `--prompt DRIVER`;
`exec P -- CMD…`); anything else, and every miss, returns None and the full
CLI runs with the same arguments, so behaviour is identical either way,
only slower.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs milliseconds on the hot path; annotations are strings anyway
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def parse(argv: Sequence[str]) -> dict[str, Any] | None:
    """The request for a hot-path command line, or None for anything else."""
    words = _without_prompt_option(list(argv))
    if not words:
        return None
    command, rest = words[0], words[1:]
    if command == "use":
        return _parse_use(rest)
    if command == "export":
        return _parse_export(rest)
    if command == "exec":
        return _parse_exec(rest)
    return None


def _without_prompt_option(words: list[str]) -> list[str]:
    """`words` without leading `--prompt X` / `--prompt=X` (aws-vault's global flag).

    A cache hit asks nothing, so any known driver serves; an unknown name is
    left for the full CLI to refuse.
    """
    while words:
        if words[0].startswith("--prompt=") and words[0][9:] in _PROMPT_DRIVERS:
            words = words[1:]
        elif words[0] == "--prompt" and words[1:2] and words[1] in _PROMPT_DRIVERS:
            words = words[2:]
        else:
            break
    return words


#: awsv.prompt_driver.DRIVERS, written out so the hot path imports nothing (a test compares them).
_PROMPT_DRIVERS = ("terminal", "osascript", "zenity", "kdialog", "ykman", "pass", "gui", "none", "auto")


def _parse_use(rest: list[str]) -> dict[str, Any] | None:
    """`use [P] [--shell S] [--region R] [--quiet] [--no-prompt] [-- P]`, in any order.

    The refresh hook's spelling (`use --no-prompt --quiet --shell zsh -- P`)
    and the README's (`use P`, the shell detected) are both here. A value
    that looks like an option, a second profile, or any other word sends
    the whole line to the full CLI, which reports the usage error.
    """
    req: dict[str, Any] = {"form": "use", "profile": None, "shell": None, "quiet": False, "region": None}
    words = iter(rest)
    for word in words:
        if word == "--":
            after = list(words)
            if len(after) > 1 or (after and (req["profile"] is not None or after[0].startswith("-"))):
                return None
            req["profile"] = after[0] if after else req["profile"]
            break
        option, eq, value = word.partition("=")
        if option in ("--shell", "-s", "--region") and not (eq and option == "-s"):
            if not eq:
                value = next(words, None)  # type: ignore[assignment]
            if not value or value.startswith("-"):
                return None
            req["region" if option == "--region" else "shell"] = value
        elif word in ("--quiet", "-q"):
            req["quiet"] = True
        elif word == "--no-prompt":
            continue  # a cache hit asks nothing anyway
        elif word.startswith("-") or req["profile"] is not None:
            return None
        else:
            req["profile"] = word
    return req


def _parse_export(rest: list[str]) -> dict[str, Any] | None:
    fmt, profile = None, None
    words = iter(rest)
    for word in words:
        if word == "--format":
            fmt = next(words, None)
        elif word.startswith("--format="):
            fmt = word.split("=", 1)[1]
        elif word.startswith("-") or profile is not None:
            return None
        else:
            profile = word
    if fmt not in ("credential-process", "json") or profile is None:
        return None
    return {"form": "credential-process", "profile": profile}


def _parse_exec(rest: list[str]) -> dict[str, Any] | None:
    if "--" in rest:
        cut = rest.index("--")
        head, command = rest[:cut], rest[cut + 1 :]
        if len(head) != 1 or head[0].startswith("-") or not command:
            return None
        return {"form": "exec", "profile": head[0], "command": command}
    flags = [w for w in rest if w in ("-j", "--json")]
    names = [w for w in rest if w not in ("-j", "--json")]
    if len(flags) != 1 or len(names) != 1 or names[0].startswith("-"):
        return None
    return {"form": "credential-process", "profile": names[0]}


def run(argv: Sequence[str]) -> int | None:
    """Answer `argv` from the agent, or None when the full CLI must run."""
    req = parse(argv)
    env = os.environ
    if req is None or env.get("AWSV_AGENT") == "off":
        return None
    mark = env.get("AWSV_RESOLVING")  # awsv.recursion.MARK_VAR, without importing it
    if mark and req["profile"] in mark.split(":"):
        return None  # a parent awsv is resolving it: the full CLI stops with the reason
    if req["form"] == "use" and sys.stdout.isatty():
        return None  # the full command explains why it refuses
    if req["form"] == "use" and req["profile"] is None and sys.stdin.isatty():
        return None  # no profile at a terminal: the full command opens the picker
    shell = None
    if req["form"] == "use":
        try:
            shell = _shell_for(req["shell"], env)
        except Exception:  # noqa: BLE001 - an unknown or undetectable shell: the full CLI decides
            return None
    reply = _ask_agent(req, env)
    if reply is None:
        return None
    if req["form"] == "credential-process":
        sys.stdout.write(reply["output"])
        sys.stdout.flush()
        return 0
    changes: dict[str, str | None] = reply["changes"]
    if req["form"] == "use":
        if shell is None:  # set above for every `use`; checked for the type checker
            return None
        try:
            code = shell.apply(changes)
        except Exception:  # noqa: BLE001 - any surprise here: let the full command handle it
            return None
        sys.stdout.write(code)
        sys.stdout.flush()
        if req["profile"]:
            from awsv.usage import record

            record(env, req["profile"])  # the picker's order (awsv.usage: os, json, time only)
        if not req["quiet"]:
            print(reply["message"], file=sys.stderr)
        return 0
    return _exec(req["command"], changes)


def _shell_for(flag: str | None, env: Any) -> Any:
    """The dialect `--shell` names, or the one `detect_shell` would find; raises when unsure."""
    from awsv.shells import get_shell
    from awsv.shells.detect import normalize_shell_name

    if flag is not None:
        return get_shell(normalize_shell_name(flag))
    from awsv.shells.ancestry import shell_from_ancestry

    name = shell_from_ancestry(env)
    if name is None:
        raise LookupError("the full CLI detects this shell")
    return get_shell(name)


def _ask_agent(req: dict[str, Any], env: Any) -> dict[str, Any] | None:
    """The agent's hit, or None (no agent, a miss, or any trouble: the full CLI copes)."""
    try:
        from awsv.agent import client
        from awsv.agent.protocol import request_env

        conn = client.open_connection(env)
        if conn is None:
            return None
        try:
            message = {"op": "deliver", "form": req["form"], "profile": req["profile"], "env": request_env(env)}
            if req.get("region") is not None:
                message["region"] = req["region"]
            reply = conn.request(message)
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - the hot path never fails on its own; the full CLI reports
        return None
    if not reply.get("hit"):
        return None
    ok = (
        isinstance(reply.get("output"), str)
        if req["form"] == "credential-process"
        else (isinstance(reply.get("changes"), dict) and isinstance(reply.get("message"), str))
    )
    return reply if ok else None


def _exec(command: list[str], changes: dict[str, str | None]) -> int | None:
    from awsv.secret_env import child_env

    env = child_env(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, env)  # noqa: S606 - exec runs the user's command as given, no shell
    except OSError:
        return None  # the full command reports "command not found" and friends

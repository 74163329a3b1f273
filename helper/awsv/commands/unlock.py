"""`awsv unlock [--status] [--json]` and `awsv lock`: the agent's window, opened and closed by hand.

`unlock` derives the vault key once (asking for the passphrase) and starts
the agent with it; every command after that, in any shell of this user, asks
nothing until the agent forgets the key (AWSV_AGENT_IDLE, AWSV_AGENT_MAX, or
`awsv lock`). With the keyring backend it starts an agent serving the
keyring, which spares later commands the cost of loading `keyring`.

Messages go to stderr; `--status` prints the status on stdout (data the
user asked for), as text or, with --json, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from awsv.context import Context
from awsv.errors import AwsvError

#: How long `lock` waits for the agent process to be gone.
LOCK_WAIT = 3.0


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0 and seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def status_document(ctx: Context) -> dict[str, Any]:
    """What `unlock --status --json` prints: {"unlocked": false, …} or the agent's state."""
    from awsv.agent import client, protocol

    doc: dict[str, Any] = {
        "unlocked": False,
        "socket": protocol.socket_path(ctx.env),
        "agent": protocol.agent_mode(ctx.env),
    }
    state = client.status(ctx.env)
    if state is None:
        return doc
    wanted = protocol.vault_identity(ctx.backend, ctx.env)
    doc.update(
        unlocked=True,
        pid=state.get("pid"),
        backend=state.get("backend"),
        vault=state.get("vault"),
        same_vault=state.get("identity") == wanted,
        idle_timeout=state.get("idle_timeout"),
        max_lifetime=state.get("max_lifetime"),
        idle_expires=_iso(state["idle_expires"]),
        max_expires=_iso(state["max_expires"]),
        expires=_iso(state["expires"]),
        memory_locked=bool(state.get("memory_locked")),
    )
    doc["_epochs"] = (state["idle_expires"], state["max_expires"])
    return doc


def _print_status(ctx: Context, doc: dict[str, Any], as_json: bool) -> None:
    epochs = doc.pop("_epochs", None)
    if as_json:
        print(json.dumps(doc, indent=2), file=ctx.stdout)
        return
    if not doc["unlocked"]:
        print(f"locked: no agent is running ({doc['socket']})", file=ctx.stdout)
        return
    assert epochs is not None  # noqa: S101 - narrows the type; status() sets both or neither
    print(f"unlocked: {doc['backend']} vault {doc['vault']} (agent pid {doc['pid']})", file=ctx.stdout)
    print(
        f"forgets the key at {_clock(epochs[0])} if idle (timeout {_span(doc['idle_timeout'])}), "
        f"at {_clock(epochs[1])} at the latest (lifetime {_span(doc['max_lifetime'])})",
        file=ctx.stdout,
    )
    print(f"memory locked against swap: {'yes' if doc['memory_locked'] else 'no'}", file=ctx.stdout)
    if not doc["same_vault"]:
        print("note: this is not the vault the current settings select", file=ctx.stdout)


def unlock(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.agent import client, launch

    if args.status:
        _print_status(ctx, status_document(ctx), args.json)
        return 0
    settings = launch.AgentSettings.from_env(ctx.env)
    if settings.mode == "off":
        raise AwsvError("the awsv agent is disabled (AWSV_AGENT=off)", hint="unset AWSV_AGENT, or set it to auto or on")
    backend = ctx.backend
    running = client.connect(ctx.env, backend, warn=ctx.warn)
    if running is None:
        from awsv.passphrase import make_provider
        from awsv.vault import backend_module

        # The derived key for a passphrase backend; others are checked to work here.
        key = backend_module(backend).agent_key(ctx.env, make_provider(ctx.env))
        launch.start_agent(ctx.env, backend=backend, key=key, settings=settings)
        verb = "unlocked"
    else:
        running.close()
        verb = "already unlocked"
    doc = status_document(ctx)
    if not doc["unlocked"]:
        raise AwsvError("the awsv agent stopped right after starting", hint="check AWSV_AGENT_IDLE and AWSV_AGENT_MAX")
    if args.json:
        _print_status(ctx, doc, True)
    else:
        epochs = doc.pop("_epochs")
        ctx.info(
            f"{verb}: the agent (pid {doc['pid']}) keeps the {backend} vault open until "
            f"{_clock(min(epochs))} (idle {_span(doc['idle_timeout'])}, "
            f"at most until {_clock(epochs[1])}); `awsv lock` closes it now"
        )
    return 0


def process_gone(pid: int) -> bool:
    """True when process `pid` no longer runs: it does not exist, or it is a zombie.

    `kill(pid, 0)` succeeds on a zombie, and the agent is not our child (its
    starter has exited), so it stays a zombie until init or a subreaper reaps
    it, which on some machines takes seconds. An exited process has let go of
    its memory and its socket already: for `lock`, a zombie is gone. When it
    happens to be our own child, it is reaped here.
    """
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    except ChildProcessError:
        pass  # not our child: the usual case
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return True  # the pid now belongs to another user: our agent (which ran as us) is gone
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat_line = fh.read()
    except FileNotFoundError:
        return True  # exited between the two checks
    except OSError:
        return False  # no /proc here: kill(pid, 0) is all we know
    # The state follows the command name, which is in parentheses and may itself hold ") ".
    state = stat_line[stat_line.rfind(b")") + 2 :][:1]
    return state in (b"Z", b"X")


def _wait_gone(pid: int, timeout: float) -> bool:
    """True once process `pid` has exited (see `process_gone`); polls, as it is not our child."""
    deadline = time.monotonic() + timeout
    while True:
        if process_gone(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def lock(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.agent import client

    state = client.lock(ctx.env)
    if state is None:
        ctx.info("no agent is running: nothing to lock")
        return 0
    pid = int(state.get("pid") or 0)
    if pid and not _wait_gone(pid, LOCK_WAIT):
        raise AwsvError(f"the awsv agent (pid {pid}) was told to lock but is still running", hint=f"kill {pid}")
    ctx.info(f"locked: the agent (pid {pid}) forgot the key of the {state.get('backend')} vault")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "unlock",
        help="type the vault passphrase once; an agent keeps the vault open for a while",
        description="Derive the vault key once and hand it to a per-user agent that keeps it in "
        "memory, so later commands ask nothing. It forgets the key after AWSV_AGENT_IDLE "
        "(default 15m) without use, after AWSV_AGENT_MAX (default 8h), or on `awsv lock`.",
    )
    p.add_argument(
        "--status", action="store_true", help="show whether an agent holds the vault, and until when (changes nothing)"
    )
    p.add_argument("--json", action="store_true", help="print the status as JSON on stdout")
    p.set_defaults(func=unlock)

    p = sub.add_parser(
        "lock",
        help="make the agent forget the vault key now",
        description="Tell the agent to forget the vault key and exit. The next command asks for the passphrase again.",
    )
    p.set_defaults(func=lock)

"""`python -m awsv.agent`: become the agent, as `awsv.agent.launch.start_agent` asks.

Started with stdin a pipe carrying the handover (see `launch.handover`), stdout
a pipe for one JSON line of outcome, stderr /dev/null, in a new session. The
key arrives on that pipe only: never in argv, never in the environment.

Steps: forbid core dumps, read the handover, open the vault with the key and
check that the key opens it, bind the socket, then fork. The parent reports
`{"ok": true, "pid": …}` and exits, so the starter is not left with a child to
reap; the grandchild detaches its standard streams, locks its memory when
allowed, and serves until it has a reason to stop (see `server`).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from awsv.agent import hardening, protocol
from awsv.agent.launch import parse_handover
from awsv.agent.server import Agent, bind_socket
from awsv.errors import AwsvError
from awsv.vault.base import Vault


def _report(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode("utf-8"))


def _open_vault(setup: dict[str, Any], key: bytes | None) -> Vault:
    """The backend the agent will serve, opened and checked before anyone relies on it."""
    from awsv.vault import backend_module

    return backend_module(setup["backend"]).open_in_agent(setup, key)


def _detach() -> None:
    """Point the standard streams at /dev/null and leave the starter's directory."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)
    os.chdir("/")


def main() -> int:
    os.umask(0o077)
    dumps_off = hardening.no_dumps()
    try:
        setup, key = parse_handover(sys.stdin.buffer.read())
        vault = _open_vault(setup, key)
        key = None  # the vault holds its own reference; drop ours
        protocol.check_private_dir(os.path.dirname(setup["socket"]))
        listener, socket_id = bind_socket(setup["socket"])
    except AwsvError as exc:
        _report({"ok": False, "type": type(exc).__name__, "message": exc.message, "hint": exc.hint})
        return 1
    except (OSError, KeyError, TypeError, ValueError) as exc:
        _report(
            {"ok": False, "type": "AgentError", "message": f"the awsv agent could not start ({type(exc).__name__})"}
        )
        return 1
    agent = Agent(
        vault,
        backend=setup["backend"],
        identity=setup["identity"],
        display=setup["display"],
        idle=setup["idle"],
        max_life=setup["max_life"],
        socket_path=setup["socket"],
    )
    pid = os.fork()
    if pid:
        _report({"ok": True, "pid": pid})
        os._exit(0)
    _detach()
    agent.hardening = {"dumpable": not dumps_off, "memory_locked": hardening.lock_memory()}
    agent.serve(listener, socket_id)
    os._exit(0)  # daemon threads may still block on idle clients: do not wait for them


if __name__ == "__main__":
    sys.exit(main())

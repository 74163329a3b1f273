"""The agent's side of the hot path: cached credentials for a profile, ready to print.

The client of `awsv use P` / credential_process / `exec P -- CMD` sends the
profile and its environment; the agent, which already holds the open vault
and has every module loaded, resolves the profile, reads the cached session
and answers with exactly what the client prints. The client therefore imports
no config parser, no crypto and no awsv command code.

Only cache hits are answered. Anything else — no cached session, an expired
one, an error of any kind — is a miss, and the client runs the full command,
which refreshes, asks, or reports the error as usual. The agent never calls
STS, never runs a command and never prompts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from awsv.config import ConfigCache
from awsv.errors import AwsvError
from awsv.vault.base import Vault

#: The form the client delivers the credentials in: shell code (`use`), the
#: credential_process document, or the environment of an exec'd command.
FORMS = ("use", "credential-process", "exec")


def miss(why: str) -> dict[str, Any]:
    return {"ok": True, "hit": False, "why": why}


def deliver(
    vault: Vault, identity: str, request: Mapping[str, Any], configs: ConfigCache | None = None
) -> dict[str, Any]:
    """The reply to a `deliver` request (see module docstring); never raises.

    `configs` keeps the config file's parse between requests (the agent's
    own); without it the file is parsed for this request only.
    """
    env = request.get("env")
    form = request.get("form")
    profile = request.get("profile")
    region = request.get("region")
    if not (region is None or isinstance(region, str)):
        return miss("malformed request")
    if (
        not isinstance(env, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        or form not in FORMS
        or not (profile is None or isinstance(profile, str))
    ):
        return miss("malformed request")
    try:
        return _deliver(vault, identity, env, form, profile, region, configs or ConfigCache())
    except AwsvError as exc:
        return miss(exc.message)


def _deliver(
    vault: Vault,
    identity: str,
    env: dict[str, str],
    form: str,
    profile: str | None,
    region: str | None,
    configs: ConfigCache,
) -> dict[str, Any]:
    from awsv.agent import protocol
    from awsv.context import Context
    from awsv.delivery.process import credential_process_json
    from awsv.delivery.shell import changes_for, using_message
    from awsv.sessions import SessionOptions, get_credentials
    from awsv.settings import choose_backend

    if protocol.vault_identity(choose_backend(None, env), env) != identity:
        return miss("the agent holds another vault")
    name = profile or env.get("AWS_PROFILE") or "default"
    ctx = Context.with_open_vault(vault, env, config=configs.load(env))
    resolved = get_credentials(ctx, name, SessionOptions(region=region), cache_only=True)
    creds = resolved.credentials
    if creds.session_token is None:
        return miss("long-term key: the full command warns about it")
    reply: dict[str, Any] = {"ok": True, "hit": True, "profile": name}
    if form == "credential-process":
        reply["output"] = credential_process_json(creds)
    else:
        reply["changes"] = changes_for(name, resolved)
        reply["message"] = f"awsv: {using_message(name, resolved)}"
    return reply

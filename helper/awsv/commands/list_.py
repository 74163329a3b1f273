"""`awsv list`: the profiles a user can use, where their credentials come from.

`--names` reads only the config (no vault, no passphrase) because shell
completion calls it on every <Tab>.

Profiles are listed in alphabetical order (case-insensitive, then exact), in
every form: one rule covers the config's profiles and the vault-only ones
alike, and a name is found where one looks for it, whatever order the
config file happens to have.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable

from awsv.chain import Resolver
from awsv.context import Context
from awsv.durations import format_time_left, whole_seconds_left
from awsv.errors import ConfigError
from awsv.names import is_valid_profile_name
from awsv.vault.items import profile_of_key_item


def in_list_order(names: Iterable[str]) -> list[str]:
    """`names` once each, alphabetically (case-insensitive, then exact): `awsv list`'s order."""
    return sorted(set(names), key=lambda name: (name.casefold(), name))


def _session_left(ctx: Context) -> dict[str, float]:
    """Per profile, the seconds left on its longest-lived cached session or role."""
    import time

    from awsv.sessions import cached_sessions  # reads the vault; not for --names

    now = time.time()
    left: dict[str, float] = {}
    for cached in cached_sessions(ctx):
        seconds = whole_seconds_left(cached.expiration.timestamp(), now)  # as the badge counts
        left[cached.profile] = max(left.get(cached.profile, seconds), seconds)
    return left


def _sso_state(ctx: Context, profile: str) -> tuple[str, dict[str, object]]:
    """An SSO profile's source text and its session's token state (from the vault, no network)."""
    from datetime import UTC, datetime

    from awsv.sso.settings import role_of
    from awsv.sso.tokens import load_token

    config = ctx.config
    try:
        role = role_of(config, config.profile(profile))
    except ConfigError as exc:
        return "SSO (error)", {"error": exc.message}
    token = load_token(ctx.vault, role.session)
    left = token.seconds_left(datetime.now(UTC)) if token else None
    if token is None:
        state = "not signed in"
    elif left is not None and left > 0:
        state = f"signed in, {format_time_left(left)}"
    else:
        state = "expired, refreshable" if token.refresh_token else "expired"
    info: dict[str, object] = {
        "session": role.session.name,
        "start_url": role.session.start_url,
        "account_id": role.account_id,
        "role_name": role.role_name,
        "token": state.split(",")[0],
        "token_seconds_left": None if left is None else max(0, int(left)),
        "refreshable": bool(token and token.refresh_token),
    }
    return f"SSO {role.account_id}/{role.role_name} ({state})", info


def _rows(ctx: Context) -> list[dict[str, object]]:
    config = ctx.config
    stored = {p for n in ctx.vault.list() if (p := profile_of_key_item(n)) is not None}
    sessions = _session_left(ctx)
    resolver = Resolver(config, in_vault=stored.__contains__, env=ctx.env)  # shared chain tails: linear time
    rows: list[dict[str, object]] = []
    for name in in_list_order([*config.names(), *stored]):
        left = sessions.get(name)
        row: dict[str, object] = {
            "profile": name,
            "in_config": name in config,
            "key_stored": name in stored,
            "session_seconds_left": None if left is None else max(0, int(left)),
        }
        if not is_valid_profile_name(name):
            row.update(source="invalid name", region=None, error="name not allowed")
            rows.append(row)
            continue
        try:
            chain = resolver.resolve(name)
        except ConfigError as exc:
            row.update(source="error", region=None, error=exc.message)
        else:
            if chain.hops and chain.source.kind == "credential_source":
                source = f"role via credential_source {chain.source.credential_source}"
            elif chain.hops:
                source = f"role via {chain.source.profile}"
            elif chain.source.kind == "credential_process":
                source = "credential_process"
            elif chain.source.kind == "web_identity":
                source = "web identity"
            elif chain.source.kind == "sso":
                source, sso = _sso_state(ctx, chain.source.profile)
                row["sso"] = sso
            else:
                source = "vault key" if name in stored else "vault key (missing)"
            row.update(
                source=source,
                region=chain.region,
                error=None,
                role_arn=chain.hops[-1].role_arn if chain.hops else None,
                chain=list(reversed(chain.trail)),
            )
        rows.append(row)
    return rows


def list_profiles(ctx: Context, args: argparse.Namespace) -> int:
    if args.names:
        names = [name for name in in_list_order(ctx.config.names()) if is_valid_profile_name(name)]
        ctx.stdout.write("".join(f"{name}\n" for name in names))  # one write: completion reads 10,000 names
        return 0
    # The rows are tens of thousands of small acyclic objects at 10,000 profiles,
    # all kept until printed: the cycle collector's passes over them find nothing
    # and cost ~10% of the command. Reference counting still frees as usual.
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = _rows(ctx)
    finally:
        if collecting:
            gc.enable()
    if args.json:
        json.dump(rows, ctx.stdout, indent=2)
        print(file=ctx.stdout)
        return 0
    if not rows:
        ctx.info("no profiles yet: `awsv add NAME` stores a key")
        return 0
    table = [("PROFILE", "CREDENTIALS", "REGION", "SESSION")]
    for row in rows:
        detail = str(row["source"]) + (f" ({row['error']})" if row.get("error") else "")
        left = row["session_seconds_left"]
        session = "-" if left is None else format_time_left(float(left))  # type: ignore[arg-type]
        table.append((str(row["profile"]), detail, str(row.get("region") or "-"), session))
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    ctx.stdout.write(
        "".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() + "\n" for r in table)
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "list",
        aliases=["ls"],
        help="list profiles and where their credentials come from",
        description="List every profile of the AWS config and every key in the "
        "vault, alphabetically (case-insensitive): where its credentials come from, "
        "its region, and the time left on its cached session.",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="machine-readable output")
    group.add_argument(
        "--names", action="store_true", help="profile names from the config only, one per line (fast; for completion)"
    )
    p.set_defaults(func=list_profiles)

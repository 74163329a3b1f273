"""Signing out of IAM Identity Center: the portal's Logout, then forgetting everything.

Used by `awsv sso logout` and `awsv clear`. For each SSO session it calls
the portal's Logout with the stored access token (which also ends the
refresh token on AWS's side), then deletes from the vault the token, the
client registrations and every cached credential obtained through that
session (SSO role credentials and the roles assumed with them), and the
AWS CLI's cache file for it. A failed Logout call (offline, already
expired) is a warning: the local copies are deleted anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from awsv.config import AwsConfig
from awsv.context import Context
from awsv.errors import ConfigError
from awsv.sso import tokens
from awsv.sso.settings import SsoSession, is_sso_profile, session_of
from awsv.vault.items import SESSION_PREFIX


@dataclass(frozen=True)
class SignedOut:
    session: SsoSession
    had_token: bool
    logged_out_remotely: bool
    cleared: int


def stored_sessions(ctx: Context) -> list[SsoSession]:
    """Every SSO session with a token in the vault."""
    found: list[SsoSession] = []
    for name in ctx.vault.list():
        if not name.startswith(tokens.TOKEN_PREFIX):
            continue
        item = ctx.vault.get(name) or {}
        if item.get("start_url") and item.get("region"):
            found.append(
                SsoSession(
                    start_url=str(item["start_url"]), region=str(item["region"]), name=item.get("session_name") or None
                )
            )
    return found


def profiles_of(config: AwsConfig, session: SsoSession) -> set[str]:
    """The profiles that sign in through `session` (by cache key)."""
    names: set[str] = set()
    for name in config.names():
        try:
            profile = config.profile(name)
            if is_sso_profile(profile) and session_of(config, profile).cache_key == session.cache_key:
                names.add(name)
        except ConfigError:
            continue
    return names


def sign_out(ctx: Context, session: SsoSession) -> SignedOut:
    """Logout at the portal, then forget the session's secrets (see the module docstring)."""
    from awsv.sso.api import Api, SsoError

    vault = ctx.vault
    token = tokens.forget(vault, session)
    remote = False
    if token is not None:
        try:
            Api(ctx.env, session.region).logout(token.access_token)
            remote = True
        except SsoError as exc:
            ctx.warn(
                f"the portal's Logout for {session.label} failed ({exc.message}); the local token is deleted anyway"
            )
    tokens.remove_aws_cli_cache(ctx.env, session)
    members = profiles_of(ctx.config, session)
    cleared = 0
    for name in vault.list():
        if not name.startswith(SESSION_PREFIX):
            continue
        meta = (vault.get(name) or {}).get("cache")
        if isinstance(meta, dict) and (
            meta.get("source_profile") in members or (meta.get("kind") == "sso" and meta.get("profile") in members)
        ):
            cleared += vault.delete(name)
    return SignedOut(session, token is not None, remote, cleared)

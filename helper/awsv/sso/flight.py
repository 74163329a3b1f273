"""One valid SSO token per session, across every awsv process.

`ensure_token` answers, in order of cost:

1. the token stored in the vault, while it has more than REFRESH_WINDOW left;
2. a silent refresh with the stored refresh token (no browser: the second
   sign-in of a day needs none);
3. a token the AWS CLI already holds in `~/.aws/sso/cache` (imported, so a
   user signed in with `aws sso login` is not asked again);
4. a sign-in (browser with PKCE, or the device code), only when allowed:
   `awsv sso login`, or a command with a terminal and prompts allowed.
   Otherwise `SsoLoginRequired` says to run `awsv sso login`.

Steps 2–4 run under one flock per SSO session (`locks/sso-<cache key>.lock`),
so twenty processes needing the same session cause one refresh or one
sign-in and one browser tab. The others say on their terminal that they
are waiting, read the new token once the lock is theirs, and give up
after a bounded time (`AWSV_SSO_WAIT_TIMEOUT`, default the sign-in timeout
plus 30 s) with one clear line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from awsv import paths
from awsv.context import Context
from awsv.credentials import Credentials
from awsv.locking import exclusive_lock
from awsv.sso import signin, tokens
from awsv.sso.api import Api, Registration, SsoInvalidClient, SsoInvalidGrant, SsoLoginRequired, SsoUnauthorized
from awsv.sso.settings import SsoRole, SsoSession

#: A token with less than this left is refreshed first (botocore refreshes 15 min ahead
#: of expiry when it can; five minutes covers any role credential fetch).
REFRESH_WINDOW = timedelta(minutes=5)


def utcnow() -> datetime:
    return datetime.now(UTC)


def may_sign_in(ctx: Context) -> bool:
    """Whether a command may start a sign-in by itself: prompts allowed and a terminal."""
    from awsv.tty import has_terminal, prompts_allowed

    return prompts_allowed(ctx.env) and has_terminal()


def ensure_token(
    ctx: Context,
    session: SsoSession,
    *,
    allow_signin: bool | None = None,
    force_signin: bool = False,
    device_code: bool = False,
    now: Callable[[], datetime] = utcnow,
    api: Api | None = None,
) -> tokens.Token:
    """A token for `session` with at least REFRESH_WINDOW left (see the module docstring)."""
    vault = ctx.vault
    if not force_signin:
        token = _usable(tokens.load_token(vault, session), now())
        if token is not None:
            return token
    api = api or Api(ctx.env, session.region)
    with _signin_lock(ctx, session):
        stored = tokens.load_token(vault, session)
        if not force_signin:
            token = _usable(stored, now())
            if token is not None:  # another process signed in or refreshed meanwhile
                return token
            token = _refresh(ctx, api, session, stored, now())
            if token is not None:
                return token
            imported = _usable(tokens.read_aws_cli_cache(ctx.env, session), now())
            if imported is not None:
                tokens.store_token(vault, imported, session)
                ctx.info(f"imported the AWS CLI's token for {session.label} into the vault")
                return imported
        if allow_signin is None:
            allow_signin = may_sign_in(ctx)
        if not allow_signin:
            state = "the sign-in expired" if stored is not None else "not signed in"
            raise SsoLoginRequired(f"{session.label}: {state}", hint=f"run `awsv sso login {session.login_args}`")
        return _sign_in(ctx, api, session, device_code, now)


def role_credentials(ctx: Context, role: SsoRole, *, now: Callable[[], datetime] = utcnow) -> Credentials:
    """GetRoleCredentials for an SSO profile, with a token from `ensure_token`.

    A token the portal refuses (signed out elsewhere, revoked) is dropped and
    obtained again once: refreshed, or signed in when allowed.
    """
    api = Api(ctx.env, role.session.region)
    token = ensure_token(ctx, role.session, now=now, api=api)
    try:
        return api.role_credentials(token.access_token, role.account_id, role.role_name)
    except SsoUnauthorized:
        expired = replace(token, expires_at=now() - timedelta(seconds=1))
        tokens.store_token(ctx.vault, expired, role.session)
        token = ensure_token(ctx, role.session, now=now, api=api)
        return api.role_credentials(token.access_token, role.account_id, role.role_name)


def _usable(token: tokens.Token | None, now: datetime) -> tokens.Token | None:
    if token is None or token.expires_at - now <= REFRESH_WINDOW:
        return None
    return token


def _refresh(
    ctx: Context, api: Api, session: SsoSession, stored: tokens.Token | None, now: datetime
) -> tokens.Token | None:
    """Renew with the refresh token; None (and the refresh token dropped) when refused."""
    if stored is None or not stored.can_refresh(now):
        return None
    assert stored.registration is not None and stored.refresh_token is not None  # noqa: S101 - can_refresh() checked both
    try:
        new = api.create_token(stored.registration, "refresh_token", refreshToken=stored.refresh_token)
    except (SsoInvalidGrant, SsoInvalidClient):
        tokens.store_token(ctx.vault, replace(stored, refresh_token=None), session)
        ctx.info(f"the sign-in to {session.label} has ended (the refresh token was refused)")
        return None
    token = replace(
        stored,
        access_token=new.access_token,
        expires_at=now + timedelta(seconds=new.expires_in),
        refresh_token=new.refresh_token or stored.refresh_token,
    )
    tokens.store_token(ctx.vault, token, session)
    return token


def _sign_in(
    ctx: Context, api: Api, session: SsoSession, device_code: bool, now: Callable[[], datetime]
) -> tokens.Token:
    timeout = signin.signin_timeout(ctx.env)
    use_browser = not device_code and signin.graphical(ctx.env)
    flow = "code" if use_browser else "device"
    reg = _registration(ctx, api, session, flow, now())
    try:
        new = (
            signin.with_browser(ctx, api, session, reg, timeout=timeout)
            if use_browser
            else signin.with_device_code(ctx, api, session, reg)
        )
    except SsoInvalidClient:
        ctx.vault.delete(tokens.client_item_name(session, flow))
        raise
    token = tokens.Token(
        access_token=new.access_token,
        expires_at=now() + timedelta(seconds=new.expires_in),
        start_url=session.start_url,
        region=session.region,
        session_name=session.name,
        refresh_token=new.refresh_token,
        registration=reg,
    )
    tokens.store_token(ctx.vault, token, session)
    signin.tell(ctx, f"signed in to {session.label}")
    return token


def _registration(ctx: Context, api: Api, session: SsoSession, flow: str, now: datetime) -> Registration:
    reg = tokens.load_registration(ctx.vault, session, flow, now)
    if reg is None:
        if flow == "code":
            reg = api.register_client(session.scopes, redirect_uri=signin.REDIRECT_BASE, issuer_url=session.start_url)
        else:
            reg = api.register_client(session.scopes)
        tokens.store_registration(ctx.vault, session, flow, reg)
    return reg


def wait_timeout(ctx: Context) -> float:
    from awsv.durations import parse_duration

    raw = ctx.env.get("AWSV_SSO_WAIT_TIMEOUT")
    if raw:
        return float(parse_duration(raw, "AWSV_SSO_WAIT_TIMEOUT"))
    return signin.signin_timeout(ctx.env) + 30.0


@contextlib.contextmanager
def _signin_lock(ctx: Context, session: SsoSession) -> Iterator[None]:
    """The single-flight lock of one SSO session; waiting says so on the terminal."""
    with exclusive_lock(
        paths.data_dir(ctx.env) / "locks" / f"sso-{session.cache_key}.lock",
        lambda: wait_timeout(ctx),  # read only when another process holds the lock
        private_dir=True,
        on_wait=lambda seconds: signin.tell(
            ctx, f"waiting for another awsv process signing in to {session.label} (up to {seconds:g}s)"
        ),
        timed_out=lambda seconds: SsoLoginRequired(
            f"another awsv process has been signing in to {session.label} for over {seconds:g}s",
            hint="finish the sign-in in its browser window or terminal, or stop it and run "
            f"`awsv sso login {session.login_args}`",
        ),
        max_delay=0.2,
    ):
        yield

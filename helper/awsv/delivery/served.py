"""One profile behind a local credential endpoint: sessions → `Renewing` → `Endpoint`.

`awsv exec --server` and `awsv serve` both start one of these. Renewal goes
through the sessions layer (`get_credentials` with `final_min_ttl`), so it
uses the session cache in the vault — served by the agent when one runs —
and its cross-process single-flight lock, exactly like `awsv use`. When the
agent goes away mid-run (idle timeout, `awsv lock`), the next renewal opens
the vault again the usual way (agent, passphrase command, terminal prompt);
if nothing can supply the passphrase or an MFA code, the endpoint keeps
serving what is still valid, then answers 503 with the reason, and awsv
says on its stderr what to do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from awsv.context import Context
from awsv.credentials import Credentials
from awsv.delivery.endpoint import LOOPBACK, Endpoint, Unavailable, is_loopback, sdk_accepts_http
from awsv.delivery.renewal import Policy, RenewalFailed, Renewing, needs_input
from awsv.environment import endpoint_changes
from awsv.errors import AwsvError
from awsv.sessions import ProfileCredentials, SessionOptions
from awsv.shells.base import Changes


class _SessionFetch:
    """`Fetch` for `Renewing`: the profile's credentials from the sessions layer."""

    def __init__(self, ctx: Context, profile: str, opts: SessionOptions) -> None:
        self.ctx = ctx
        self.profile = profile
        self.opts = opts
        self.first: ProfileCredentials | None = None

    def __call__(self, min_left: int) -> Credentials:
        from awsv.agent.protocol import AgentError
        from awsv.sessions import get_credentials

        # --mfa-token is a single code: it serves the first fetch only.
        opts = self.opts if self.first is None else dataclasses.replace(self.opts, mfa_token=None)
        try:
            resolved = get_credentials(self.ctx, self.profile, opts, final_min_ttl=min_left)
        except OSError as exc:
            # A prompt on a terminal that now belongs to CMD (an interactive shell took it).
            from awsv.tty import NoTerminal

            raise NoTerminal(
                f"cannot ask on the terminal ({exc.strerror or type(exc).__name__})",
                hint="answer in another terminal: see the message above",
            ) from None
        except AgentError:
            # The agent stopped since the last renewal: open the vault afresh (agent or passphrase).
            self.ctx = Context(
                env=self.ctx.env,
                stdin=self.ctx.stdin,
                stdout=self.ctx.stdout,
                stderr=self.ctx.stderr,
                backend_flag=self.ctx.backend_flag,
            )
            resolved = get_credentials(self.ctx, self.profile, opts, final_min_ttl=min_left)
        creds = resolved.credentials
        if creds.session_token is None or creds.expiration is None:
            raise AwsvError(
                f"profile {self.profile!r} resolves to a long-term key; the credential "
                "endpoint hands out temporary credentials only",
                hint="drop --no-session",
            )
        if self.first is None:
            self.first = resolved
        return creds


@dataclass
class Served:
    """A running endpoint for `profile`; `stop()` ends it."""

    profile: str
    endpoint: Endpoint
    renewing: Renewing
    resolved: ProfileCredentials
    client_host: str

    @property
    def url(self) -> str:
        return self.endpoint.url(self.client_host)

    @property
    def token(self) -> str:
        return self.endpoint.token

    def changes(self) -> Changes:
        """The child's environment changes: the endpoint's variables, the markers, no keys."""
        target = self.resolved.chain.target
        creds = self.resolved.credentials
        return endpoint_changes(
            self.profile,
            self.url,
            self.token,
            account=creds.account_id,
            region=self.resolved.region,
            color=target.get("awsv_color"),
            alias=target.get("awsv_alias"),
        )

    def stop(self) -> None:
        self.endpoint.stop()
        self.renewing.stop()


def listen_warnings(host: str) -> list[str]:
    """The loud warnings for a non-loopback listen address (empty for loopback)."""
    if is_loopback(host):
        return []
    where = "every network interface" if host in ("0.0.0.0", "::") else host
    lines = [
        (
            f"WARNING: the credential endpoint listens on {where}, not on loopback: anything that "
            "can reach it and learns the token gets these AWS credentials, and the token travels "
            "unencrypted (plain HTTP)"
        )
    ]
    if host not in ("0.0.0.0", "::") and not sdk_accepts_http(host):
        lines.append(
            f"WARNING: the AWS SDKs refuse plain HTTP to {host}: they accept it only for "
            "loopback addresses, 169.254.170.2, 169.254.170.23 and fd00:ec2::23 "
            "(see the README's docker recipe)"
        )
    return lines


#: A profile's own credential settings, which the SDKs try before any container endpoint.
_OWN_CREDENTIALS = (
    "aws_access_key_id",
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
)


def shadowing_default(ctx: Context) -> str | None:
    """Where SDKs under the endpoint would find credentials first, or None.

    Without AWS_PROFILE (which the child does not get) the SDKs use the
    `default` profile, and its own credentials — a key in the credentials
    file, a role, a credential_process, SSO — come before the container
    provider in every SDK's chain, so the endpoint would be silently ignored.
    """
    import configparser

    from awsv import paths

    try:
        cfg = ctx.config
        if "default" in cfg:
            own = [key for key in _OWN_CREDENTIALS if cfg.raw("default").get(key)]
            if own:
                return f"[default] in {cfg.path} sets {own[0]}"
    except AwsvError:
        return None  # the config is reported elsewhere; this is only a warning
    path = paths.aws_credentials_file(ctx.env)
    parser = configparser.RawConfigParser(default_section="\0none\0", interpolation=None)
    try:
        with open(path, encoding="utf-8") as fh:
            parser.read_file(fh)
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    if parser.has_option("default", "aws_access_key_id"):
        return f"[default] in {path} holds a key"
    return None


def serve_profile(
    ctx: Context,
    profile: str,
    opts: SessionOptions,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    policy: Policy | None = None,
    say: Callable[[str], None] | None = None,
) -> Served:
    """Resolve `profile`, start renewing its credentials and an endpoint serving them.

    Raises what `get_credentials` raises for the first credentials (nothing
    listens yet then), or AwsvError when the address cannot be bound.
    """
    report = say or ctx.warn
    policy = policy or Policy.from_env(ctx.env)

    def on_failure(exc: AwsvError) -> None:
        if needs_input(exc):
            report(f"cannot renew the credentials of {profile!r} for the endpoint: {exc.message}")
            report(
                f"in a terminal, run `awsv exec {profile} -- true` (it asks, and refreshes the "
                f"shared session cache) or `awsv unlock`; the endpoint retries every "
                f"{policy.retry:g}s and picks it up; meanwhile it answers 503 once the current "
                "credentials run out"
            )
        else:
            report(
                f"cannot renew the credentials of {profile!r} for the endpoint: {exc.message} "
                f"(retrying every {policy.retry:g}s)"
            )

    def on_recovery(creds: Credentials) -> None:
        report(f"renewed the credentials of {profile!r} for the endpoint")

    shadow = shadowing_default(ctx)
    if shadow:
        report(
            f"{shadow}: the AWS SDKs and CLI use it before the credential endpoint, so they "
            "will not see the endpoint's credentials; remove those credentials from [default] "
            "(awsv import moves keys into the vault)"
        )
    fetch = _SessionFetch(ctx, profile, opts)
    renewing = Renewing(fetch, policy, on_failure=on_failure, on_recovery=on_recovery)
    renewing.start()
    assert fetch.first is not None  # noqa: S101 - narrows the type; start() fetched once or raised

    def provide() -> Credentials:
        try:
            return renewing.current()
        except RenewalFailed as exc:
            if exc.needs_input:
                raise Unavailable(
                    "RenewalNeedsInput",
                    f"awsv needs input to renew the credentials of profile {profile!r} "
                    f"and cannot ask for it: {exc.message}. See the terminal where "
                    "awsv runs.",
                ) from None
            raise Unavailable(
                "RenewalFailed", f"awsv could not renew the credentials of profile {profile!r}: {exc.message}"
            ) from None

    try:
        endpoint = Endpoint(provide, host=host, port=port)
    except AwsvError:
        renewing.stop()
        raise
    endpoint.start()
    client_host = LOOPBACK if host == "0.0.0.0" else "::1" if host == "::" else host
    return Served(profile, endpoint, renewing, fetch.first, client_host)

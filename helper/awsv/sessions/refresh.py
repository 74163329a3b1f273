"""Getting a profile's credentials: walk its plan, reuse what is cached, call STS for the rest.

`get_credentials` resolves the profile (`awsv.chain`), plans its steps
(`awsv.sessions.plan`), then `_ChainWalk` goes from the last step back to
the first usable one: a cached step ends the walk; a missing or nearly
expired one is fetched signed with the step before it. This is the only
module of the package that talks to STS (and so, lazily, botocore).

Refreshing is single-flight: a per-step lock file under the data directory
(`awsv.locking`) is held across "read the cache, call STS, store the
result", and the cache is read again once the lock is held, so ten shells
opening at once make one STS call and ask for one MFA code. Nothing is
stored unless every step of the chain succeeded; a failure leaves the
existing cache items as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from awsv import paths, recursion, sts
from awsv.chain import Chain, resolve
from awsv.clock import utcnow
from awsv.context import Context
from awsv.credential_process import run_credential_process
from awsv.credentials import Credentials, check_values
from awsv.durations import MIN_DURATION, Ttls
from awsv.errors import AwsvError, ConfigError, UsageError
from awsv.locking import LockBusy, exclusive_lock
from awsv.mfa import MfaCodes
from awsv.sessions.cache import CacheMiss, lookup, to_item
from awsv.sessions.plan import SessionOptions, Step, checked_region, plan, source_origin
from awsv.vault.base import Vault
from awsv.vault.items import LongTermKey, key_item_name, session_item_name

StsFactory = sts.StsFactory

#: Nothing asked on the command line (a frozen dataclass: one shared default is safe).
_NO_OPTIONS = SessionOptions()

#: How long to wait for another awsv process refreshing the same session.
LOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class ProfileCredentials:
    """A profile's credentials as delivery needs them: the credentials, their chain and region."""

    #: Expiration is timezone-aware UTC (None only for a long-term key); account_id is filled.
    credentials: Credentials
    chain: Chain
    #: --region, else the profile's (or its source's) region.
    region: str | None
    #: True when the final credentials came from the cache (no STS call for them).
    from_cache: bool


# -- the public API ----------------------------------------------------------


def get_credentials(
    ctx: Context,
    profile: str,
    opts: SessionOptions = _NO_OPTIONS,
    *,
    now: Callable[[], datetime] = utcnow,
    sts_factory: StsFactory | None = None,
    mfa: MfaCodes | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    cache_only: bool = False,
    final_min_ttl: int | None = None,
) -> ProfileCredentials:
    """Temporary credentials for `profile`, from the cache or from STS.

    With `cache_only`, anything but a usable cached session raises CacheMiss
    before any STS call, command or prompt: the agent answers the hot path
    this way and leaves every other case to the full command.

    `final_min_ttl` raises the bar for the last step only: a cached result
    with this many seconds left or fewer is fetched again (the local endpoint
    renews ahead of its clients' refresh window; `exec --min-ttl` wants the
    longest lifetime it can get). Earlier steps keep the usual AWSV_MIN_TTL,
    so renewing a role does not ask for a new MFA session before its time.

    Raises ConfigError (profile, chain), UsageError (durations, --mfa-token),
    VaultError, MfaUnavailable, CredentialProcessError or an `sts.StsError`
    subclass, each with one line naming the profile or role.
    """
    ttls = Ttls.from_env(ctx.env)
    if opts.duration is not None and opts.duration < MIN_DURATION:
        raise UsageError(f"--duration {opts.duration} is shorter than AWS allows ({MIN_DURATION}s)")
    codes = mfa or MfaCodes(ctx.env, opts.mfa_token)
    # Stop at once when a parent awsv is resolving this profile (see awsv.recursion),
    # and mark every process started from here on (passphrase command included).
    recursion.check_not_marked(ctx.env, [profile])
    with recursion.resolving([profile]):
        chain = resolve(
            ctx.config, profile, in_vault=lambda n: ctx.vault.get(key_item_name(n)) is not None, env=ctx.env
        )
        recursion.check_not_marked(ctx.env, chain.trail)
        with recursion.resolving(chain.trail):
            return _get_resolved(
                ctx,
                chain,
                opts,
                ttls,
                codes,
                now=now,
                sts_factory=sts_factory,
                lock_timeout=lock_timeout,
                cache_only=cache_only,
                final_min_ttl=final_min_ttl,
            )


def _get_resolved(
    ctx: Context,
    chain: Chain,
    opts: SessionOptions,
    ttls: Ttls,
    codes: MfaCodes,
    *,
    now: Callable[[], datetime],
    sts_factory: StsFactory | None,
    lock_timeout: float,
    cache_only: bool,
    final_min_ttl: int | None,
) -> ProfileCredentials:
    """get_credentials once the chain is known and marked."""
    vault = ctx.vault
    region = checked_region(opts.region, "--region") or checked_region(
        chain.region, f"the region of profile {chain.target.name!r}"
    )
    key = _long_term_key(vault, chain.source.profile) if chain.source.kind == "vault" else None
    sso = _sso_role(ctx, chain)
    steps = plan(
        chain,
        opts,
        ttls,
        key,
        sts.endpoint_url(ctx.env, chain.target),
        sso,
        ctx.env.get("AWS_ENDPOINT_URL_SSO") or ctx.env.get("AWS_ENDPOINT_URL"),
        source_origin(ctx.env, chain),
    )
    run = _ChainWalk(
        ctx=ctx,
        vault=vault,
        chain=chain,
        now=now,
        min_ttl=ttls.min,
        region=region,
        key=key,
        codes=codes,
        factory=sts_factory,
        lock_timeout=lock_timeout,
        cache_only=cache_only,
        final_min_ttl=final_min_ttl,
        sso=sso,
    )
    credentials, from_cache = run.final(steps)
    return ProfileCredentials(credentials=credentials, chain=chain, region=region, from_cache=from_cache)


# -- doing it ----------------------------------------------------------------


def _sso_role(ctx: Context, chain: Chain) -> Any:
    """The SSO role of an "sso" source (awsv.sso.settings.SsoRole), else None."""
    if chain.source.kind != "sso":
        return None
    from awsv.sso.settings import role_of

    return role_of(ctx.config, ctx.config.profile(chain.source.profile))


def _long_term_key(vault: Vault, profile: str) -> LongTermKey:
    item = vault.get(key_item_name(profile))
    if item is None:
        raise AwsvError(f"no key stored for {profile!r}", hint=f"awsv add {profile}")
    key = LongTermKey.from_item(item)
    check_values(key, f"the key stored for {profile!r}")
    return key


@dataclass
class _ChainWalk:
    """One get_credentials call: walks the plan from the last step back to a usable one."""

    ctx: Context
    vault: Vault
    chain: Chain
    now: Callable[[], datetime]
    min_ttl: int
    region: str | None
    key: LongTermKey | None
    codes: MfaCodes
    factory: StsFactory | None
    lock_timeout: float
    cache_only: bool = False
    final_min_ttl: int | None = None
    #: The SSO role of an "sso" source (awsv.sso.settings.SsoRole).
    sso: Any = None
    pending: list[tuple[Step, Credentials]] = field(default_factory=list)

    def final(self, steps: tuple[Step, ...]) -> tuple[Credentials, bool]:
        """The last step's credentials; stores what was fetched, then releases the locks."""
        with contextlib.ExitStack() as locks:
            if not steps and self.cache_only:
                raise CacheMiss("no session to cache: this profile hands out its key or process output")
            if not steps:
                return (self._key_itself() if self.key is not None else self._base()), False
            creds, from_cache = self._obtain(steps, len(steps) - 1, locks)
            for step, new in self.pending:  # only now that every step succeeded
                self.vault.set(
                    session_item_name(step.cache_id), to_item(step, new, self.chain.source.profile, self.now())
                )
            return creds, from_cache

    def _obtain(self, steps: tuple[Step, ...], i: int, locks: contextlib.ExitStack) -> tuple[Credentials, bool]:
        """Step i's credentials: cached, or fetched with step i-1's under step i's lock.

        Locks are taken from the last step towards the first and held until
        the results are stored, so the order is the same in every process.
        """
        step = steps[i]
        min_ttl = self.min_ttl
        if i == len(steps) - 1 and self.final_min_ttl is not None:
            min_ttl = max(min_ttl, self.final_min_ttl)
        cached = self._cached(step, min_ttl)
        if cached is not None:
            return cached, True
        if self.cache_only:
            raise CacheMiss(f"no usable cached session for profile {step.profile!r}")
        if step.kind == "sso":
            from awsv.sso import flight

            # Before the step lock: a sign-in has its own single-flight lock, whose
            # waiters say on their terminal what they wait for.
            flight.ensure_token(self.ctx, self.sso.session, now=self.now)
        locks.enter_context(_step_lock(self.ctx.env, step.cache_id, self.lock_timeout, step.profile))
        cached = self._cached(step, min_ttl)  # another process may have refreshed it meanwhile
        if cached is not None:
            return cached, True
        if step.kind in ("sso", "web_identity"):
            new = (
                flight.role_credentials(self.ctx, self.sso, now=self.now)
                if step.kind == "sso"
                else self._web_identity(step)
            )
            self.pending.append((step, new))
            return new, False
        if i > 0:
            parent = self._obtain(steps, i - 1, locks)[0]
            signer = f"the temporary credentials of profile {steps[i - 1].profile!r}"
        else:
            parent, signer = self._base(), self._base_signer()
        new = self._fetch(step, parent, signer)
        check_values(new, f"the credentials STS returned for profile {step.profile!r}")
        self.pending.append((step, new))
        return new, False

    def _cached(self, step: Step, min_ttl: int) -> Credentials | None:
        return lookup(self.vault, step, self.now(), min_ttl)

    def _web_identity(self, step: Step) -> Credentials:
        """AssumeRoleWithWebIdentity for a web identity source (awsv.other_sources)."""
        from awsv import other_sources

        source, env = self.chain.source, self.ctx.env
        role_arn = source.role_arn or env.get("AWS_ROLE_ARN")
        if not role_arn:
            raise ConfigError(
                f"profile {source.profile!r} has a web identity token but no role_arn",
                hint="add `role_arn = …` to the profile (or set AWS_ROLE_ARN)",
            )
        token = other_sources.web_identity_token(
            source.profile, source.web_identity_token_file, source.web_identity_token_process, env
        )
        name = source.role_session_name or env.get("AWS_ROLE_SESSION_NAME") or f"awsv-{int(self.now().timestamp())}"
        return other_sources.assume_role_with_web_identity(
            env,
            self.chain.target,
            role_arn=role_arn,
            token=token,
            session_name=name,
            duration=step.duration,
            region=self.region,
        )

    def _base(self) -> Credentials:
        """The source's own credentials: the long-term key, or the credential_process output."""
        source = self.chain.source
        if source.kind == "credential_source":
            from awsv.other_sources import credential_source

            assert source.credential_source is not None  # noqa: S101 - narrows the type; the kind says so
            return credential_source(source.profile, source.credential_source, self.ctx.env, self.now)
        if self.key is not None:
            return Credentials(self.key.access_key_id, self.key.secret_access_key)
        assert source.credential_process is not None  # noqa: S101 - narrows the type; no key means a process
        return run_credential_process(source.profile, source.credential_process, self.ctx.env, now=self.now)

    def _key_itself(self) -> Credentials:
        """--no-session on a plain profile: the long-term key, with whose it is."""
        creds = self._base()
        profile = self.chain.source.profile
        account, arn = sts.get_caller_identity(
            self._client(creds),
            what=f"GetCallerIdentity for profile {profile!r}",
            signer=f"the key stored for {profile!r}",
        )
        return Credentials(creds.access_key_id, creds.secret_access_key, account_id=account, arn=arn)

    def _client(self, creds: Credentials | LongTermKey) -> Any:
        if self.factory is None:
            self.factory = sts.make_factory(sts.ClientSettings.from_env(self.ctx.env, self.chain.target))
        return self.factory(creds, self.region)

    def _base_signer(self) -> str:
        source = self.chain.source
        if source.kind == "sso":
            return f"the SSO role credentials of {source.profile!r}"
        if source.kind == "credential_source":
            return f"the {source.credential_source} credentials (credential_source of {source.profile!r})"
        if self.key is not None:
            return f"the key stored for {source.profile!r}"
        return f"the credentials from the credential_process of {source.profile!r}"

    def _fetch(self, step: Step, parent: Credentials, signer: str) -> Credentials:
        """Call STS for `step` signing with `parent` (described by `signer` in errors)."""
        code = None
        if step.mfa_serial:
            code = self.codes.code(step.mfa_serial, profile=step.profile, mfa_process=step.mfa_process)
        client = self._client(parent)
        if step.kind == "session":
            what = f"GetSessionToken for profile {step.profile!r}"
            new = sts.get_session_token(
                client, what=what, duration=step.duration, serial=step.mfa_serial, code=code, signer=signer
            )
            account, arn = sts.get_caller_identity(
                self._client(new),
                what=f"GetCallerIdentity for profile {step.profile!r}",
                signer="the new session credentials",
            )
            return Credentials(
                new.access_key_id, new.secret_access_key, new.session_token, new.expiration, account_id=account, arn=arn
            )
        hop = step.hop
        assert hop is not None  # noqa: S101 - narrows the type; a step past the source is a hop
        return sts.assume_role(
            client,
            what=f"AssumeRole {hop.role_arn} for profile {step.profile!r}",
            role_arn=hop.role_arn,
            session_name=hop.role_session_name or f"awsv-{int(self.now().timestamp())}",
            duration=step.duration,
            external_id=hop.external_id,
            serial=step.mfa_serial,
            code=code,
            signer=signer,
            extra=hop.tags.assume_role_params(),
        )


# -- the single-flight lock --------------------------------------------------


def _step_lock(
    env: Mapping[str, str], cache_id: str, timeout: float, profile: str
) -> contextlib.AbstractContextManager[None]:
    """An exclusive flock on `<data dir>/locks/<cache id>.lock` (dir 0700, file 0600)."""
    path = paths.data_dir(env) / "locks" / f"{cache_id}.lock"
    return exclusive_lock(
        path,
        timeout,
        private_dir=True,
        max_delay=0.1,
        timed_out=lambda seconds: LockBusy(
            f"another awsv process has been refreshing the session of {profile!r} for over {seconds:g}s",
            hint=f"is it waiting for an MFA code in another terminal? the lock is {path}",
        ),
    )

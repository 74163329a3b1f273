"""Temporary credentials for a profile: the STS steps, the session cache, its policy.

A resolved profile (`awsv.chain.Chain`) becomes a list of STS steps: an
optional GetSessionToken on the source key, then one AssumeRole per role hop.
Every step's result is cached, encrypted, in the vault, under an id that is a
hash of everything that determines it, so the next command — or another
profile sharing the same source — reuses it without a new MFA code.

When awsv skips GetSessionToken
-------------------------------
awsv follows aws-vault's rules. It calls GetSessionToken first (with the MFA
device of the source profile, if it has `mfa_serial`) and assumes roles with
the session credentials, so one MFA code unlocks every role hanging off the
same source until the session expires. It skips GetSessionToken when:

1. `--no-session` is given. With no role to assume, awsv then hands out the
   long-term key itself (and `awsv use` warns loudly about it).
2. The source is a `credential_process`: its credentials are already
   temporary, and GetSessionToken refuses temporary credentials.
3. The profile assumes a role whose duration is over one hour: AWS caps a
   role assumed with session credentials ("role chaining") at one hour, so
   the role is assumed with the long-term key directly.
4. The profile assumes a role and its source has no `mfa_serial`: a session
   would add a call and nothing else.

When the session is skipped but the source has an `mfa_serial`, the first
AssumeRole carries that device and code instead.

Durations: GetSessionToken lasts `AWSV_SESSION_TTL` (or aws-vault's
`AWS_SESSION_TOKEN_TTL`), AssumeRole `AWSV_ASSUME_ROLE_TTL` (or
`AWS_ASSUME_ROLE_TTL`); both default to 1h and accept `3600`, `1h`, `45m`,
`1h30m`. A profile's `duration_seconds` applies to its own role; `--duration`
to the last step. A cached step is reused until it is within `AWSV_MIN_TTL`
(or `AWS_MIN_TTL`, default 5m) of its expiry.

Refreshing is single-flight: a per-step lock file under the data directory
is held across "read the cache, call STS, store the result", and the cache is
read again once the lock is held, so ten shells opening at once make one
STS call and ask for one MFA code. Nothing is stored unless every step of the
chain succeeded; a failure leaves the existing cache items as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from awsv import paths, recursion, sts
from awsv.chain import Chain, Resolver, RoleHop, resolve
from awsv.clock import utcnow
from awsv.context import Context
from awsv.credential_process import run_credential_process
from awsv.credentials import Credentials, check_values
from awsv.durations import MIN_DURATION, ROLE_CHAINING_LIMIT, Ttls
from awsv.errors import AwsvError, ConfigError, UsageError, VaultCorrupted
from awsv.locking import exclusive_lock
from awsv.mfa import MfaCodes
from awsv.vault.base import Vault
from awsv.vault.items import (
    SESSION_PREFIX,
    LongTermKey,
    key_item_name,
    session_item_name,
)

StsFactory = sts.StsFactory

#: How long to wait for another awsv process refreshing the same session.
LOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class SessionOptions:
    """What the user asked for on the command line."""

    #: --duration: seconds for the final credentials.
    duration: int | None = None
    #: --no-session: skip GetSessionToken.
    no_session: bool = False
    #: --region.
    region: str | None = None
    #: --mfa-token.
    mfa_token: str | None = None


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


@dataclass(frozen=True)
class CachedSession:
    """One cached STS result, as `awsv list` shows it (no secret in here)."""

    cache_id: str
    #: The profile whose step produced it: the source profile for a session, the role profile for a role.
    profile: str
    #: "session" (GetSessionToken) or "role" (AssumeRole).
    kind: str
    expiration: datetime
    seconds_left: float
    source_profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None

    @property
    def expired(self) -> bool:
        return self.seconds_left <= 0


# -- the plan ----------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One STS call to make (or to find in the cache)."""

    kind: str  # "session" or "role"
    profile: str
    cache_id: str
    duration: int
    mfa_serial: str | None = None
    mfa_process: str | None = None
    hop: RoleHop | None = None


def _digest(description: Mapping[str, Any]) -> str:
    """The cache id: sha256 of a canonical JSON description."""
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _use_session(chain: Chain, opts: SessionOptions, first_role_duration: int | None) -> bool:
    """Whether GetSessionToken comes first (the rules in the module docstring)."""
    if opts.no_session or chain.source.kind != "vault":
        return False
    if chain.hops and first_role_duration is not None and first_role_duration > ROLE_CHAINING_LIMIT:
        return False
    # A session before a role only carries the source's MFA; without one it adds nothing.
    return not (chain.hops and chain.source.mfa_serial is None)


def _plan(
    chain: Chain,
    opts: SessionOptions,
    ttls: Ttls,
    key: LongTermKey | None,
    endpoint: str | None,
    sso: Any = None,
    sso_endpoint: str | None = None,
    source_origin: str | None = None,
) -> tuple[_Step, ...]:
    """The STS steps for `chain`, first to last, each with its cache id."""
    source, hops = chain.source, chain.hops
    last = len(hops) - 1

    def role_duration(i: int) -> int:
        if i == last and opts.duration:
            return opts.duration
        return hops[i].duration_seconds or ttls.role

    steps: list[_Step] = []
    if source.kind == "sso" and sso is not None:
        # The SSO role's credentials are the first cached step (GetRoleCredentials).
        base_id = _digest(
            {
                "kind": "sso",
                "profile": source.profile,
                "start_url": sso.session.start_url,
                "account": sso.account_id,
                "role": sso.role_name,
                "endpoint": sso_endpoint,
            }
        )
        steps.append(_Step("sso", source.profile, base_id, 0))
    elif source.kind == "web_identity":
        # AssumeRoleWithWebIdentity is the first cached step; the token is not part of the
        # id (it rotates), the file or command that supplies it is.
        duration = (opts.duration if not hops and opts.duration else None) or source.duration_seconds or ttls.role
        base_id = _digest(
            {
                "kind": "web_identity",
                "profile": source.profile,
                "role_arn": source.role_arn,
                "file": source.web_identity_token_file,
                "process": source.web_identity_token_process,
                "session_name": source.role_session_name,
                "duration": duration,
                "endpoint": endpoint,
                "origin": source_origin,
            }
        )
        steps.append(_Step("web_identity", source.profile, base_id, duration))
    elif source.kind == "credential_source":
        base_id = _digest(
            {
                "kind": "credential_source",
                "profile": source.profile,
                "source": source.credential_source,
                "origin": source_origin,
                "endpoint": endpoint,
            }
        )
    elif key is not None:
        base_id = _digest(
            {"kind": "key", "profile": source.profile, "access_key_id": key.access_key_id, "endpoint": endpoint}
        )
    else:
        base_id = _digest(
            {
                "kind": "credential_process",
                "profile": source.profile,
                "command": source.credential_process,
                "endpoint": endpoint,
            }
        )
    parent = base_id
    session = _use_session(chain, opts, role_duration(0) if hops else None)
    if session:
        duration = (opts.duration if not hops and opts.duration else None) or source.duration_seconds or ttls.session
        parent = _digest({"kind": "session", "parent": base_id, "mfa_serial": source.mfa_serial, "duration": duration})
        steps.append(_Step("session", source.profile, parent, duration, source.mfa_serial, source.mfa_process))
    for i, hop in enumerate(hops):
        serial, process = hop.mfa_serial, hop.mfa_process
        if i == 0 and not session and serial is None and source.mfa_serial:
            serial, process = source.mfa_serial, source.mfa_process
        duration = role_duration(i)
        parent = _digest(
            {
                "kind": "role",
                "parent": parent,
                "role_arn": hop.role_arn,
                "external_id": hop.external_id,
                # Only a configured name: the generated one changes every time.
                "session_name": hop.role_session_name,
                "duration": duration,
                "mfa_serial": serial,
                **({"tags": hop.tags.cache_description()} if hop.tags else {}),
            }
        )
        steps.append(_Step("role", hop.profile, parent, duration, serial, process, hop))
    return tuple(steps)


# -- the public API ----------------------------------------------------------


def get_credentials(
    ctx: Context,
    profile: str,
    opts: SessionOptions = SessionOptions(),
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
    region = _checked_region(opts.region, "--region") or _checked_region(
        chain.region, f"the region of profile {chain.target.name!r}"
    )
    key = _long_term_key(vault, chain.source.profile) if chain.source.kind == "vault" else None
    sso = _sso_role(ctx, chain)
    steps = _plan(
        chain,
        opts,
        ttls,
        key,
        sts.endpoint_url(ctx.env, chain.target),
        sso,
        ctx.env.get("AWS_ENDPOINT_URL_SSO") or ctx.env.get("AWS_ENDPOINT_URL"),
        _source_origin(ctx.env, chain),
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


#: botocore's rule for a region name: one DNS label.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\Z")


def _checked_region(region: str | None, origin: str) -> str | None:
    """Refuse a malformed region before it reaches STS or, from the cache, a shell."""
    if region is not None and not _REGION.match(region):
        error = UsageError if origin.startswith("--") else ConfigError
        raise error(
            f"{region!r} is not a valid AWS region name (from {origin})", hint="check --region and the profile's region"
        )
    return region


def cached_sessions(ctx: Context, *, now: Callable[[], datetime] = utcnow) -> list[CachedSession]:
    """Every cached session and role in the vault, expired ones included, soonest expiry first.

    One bulk read (`Vault.items`): one decryption and one agent round trip
    however many sessions are cached.
    """
    found: list[CachedSession] = []
    current = now()
    for name, item in ctx.vault.items(SESSION_PREFIX).items():
        creds = _from_item(item, name)
        meta = _meta(item)
        assert creds.expiration is not None  # noqa: S101 - narrows the type; _from_item guarantees it
        found.append(
            CachedSession(
                cache_id=name[len(SESSION_PREFIX) :],
                profile=str(meta.get("profile") or "?"),
                kind=str(meta.get("kind") or "?"),
                expiration=creds.expiration,
                seconds_left=(creds.expiration - current).total_seconds(),
                source_profile=meta.get("source_profile"),
                role_arn=meta.get("role_arn"),
                account_id=creds.account_id,
            )
        )
    return sorted(found, key=lambda s: (s.expiration, s.cache_id))


def clear_sessions(ctx: Context, profile: str | None = None, *, resolver: Resolver | None = None) -> int:
    """Delete cached sessions: all of them, or those of `profile`'s chain. Returns how many.

    A profile's chain is the profile and every profile it gets credentials
    through, so clearing a role also drops its source's session (which other
    roles may share). A profile that no longer resolves clears its own items.
    One bulk read and one bulk delete (`Vault.delete_many`): one durable
    write per command, however many sessions go. A caller clearing many
    profiles passes one `resolver` (made with `in_vault=lambda n: True`), so
    the chains are walked once in all.
    """
    vault = ctx.vault
    if profile is None:
        names = [n for n in vault.list() if n.startswith(SESSION_PREFIX)]
    else:
        try:
            walker = resolver or Resolver(ctx.config, in_vault=lambda n: True)
            members = set(walker.resolve(profile).trail)
        except ConfigError:
            members = {profile}
        names = [name for name, item in vault.items(SESSION_PREFIX).items() if _meta(item).get("profile") in members]
    return len(vault.delete_many(names)) if names else 0


# -- doing it ----------------------------------------------------------------


def _source_origin(env: Mapping[str, str], chain: Chain) -> str | None:
    """What outside awsv decides a web identity or credential_source result (for the cache id)."""
    if chain.source.kind == "web_identity":
        return "|".join((env.get("AWS_ROLE_ARN") or "", env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or ""))
    if chain.source.kind == "credential_source":
        if chain.source.credential_source == "Environment":
            return env.get("AWS_ACCESS_KEY_ID")
        return "|".join(
            env.get(v) or "" for v in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        )
    return None


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


def _meta(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a cached item says about itself (profile, kind…); {} when absent."""
    meta = item.get("cache")
    return meta if isinstance(meta, dict) else {}


def _from_item(item: Mapping[str, Any], name: str) -> Credentials:
    """A cached step's credentials; anything malformed is a hard error with a way out."""
    try:
        creds = Credentials.from_item(dict(item))
        if item.get("type") != "session" or creds.expiration is None or creds.expiration.tzinfo is None:
            raise VaultCorrupted("a cached session in the vault is malformed")
    except VaultCorrupted:
        raise VaultCorrupted(
            f"the cached session {name} in the vault is malformed", hint="`awsv clear` removes cached sessions"
        ) from None
    owner = _meta(item).get("profile")
    check_values(
        creds,
        f"the cached session of profile {owner!r}"
        if isinstance(owner, str)
        else f"the cached session {name} in the vault",
    )
    return creds


class CacheMiss(AwsvError):
    """A cache-only request found no usable cached session (the caller falls back)."""


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
    pending: list[tuple[_Step, Credentials]] = field(default_factory=list)

    def final(self, steps: tuple[_Step, ...]) -> tuple[Credentials, bool]:
        """The last step's credentials; stores what was fetched, then releases the locks."""
        with contextlib.ExitStack() as locks:
            if not steps and self.cache_only:
                raise CacheMiss("no session to cache: this profile hands out its key or process output")
            if not steps:
                return (self._key_itself() if self.key is not None else self._base()), False
            creds, from_cache = self._obtain(steps, len(steps) - 1, locks)
            for step, new in self.pending:  # only now that every step succeeded
                self.vault.set(session_item_name(step.cache_id), self._item(step, new))
            return creds, from_cache

    def _obtain(self, steps: tuple[_Step, ...], i: int, locks: contextlib.ExitStack) -> tuple[Credentials, bool]:
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

    def _cached(self, step: _Step, min_ttl: int) -> Credentials | None:
        name = session_item_name(step.cache_id)
        item = self.vault.get(name)
        if item is None:
            return None
        creds = _from_item(item, name)
        left = creds.seconds_left(self.now())
        return creds if left is not None and left > min_ttl else None

    def _web_identity(self, step: _Step) -> Credentials:
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

    def _fetch(self, step: _Step, parent: Credentials, signer: str) -> Credentials:
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

    def _item(self, step: _Step, creds: Credentials) -> dict[str, Any]:
        item = creds.to_item()
        item["cache"] = {
            "profile": step.profile,
            "kind": step.kind,
            "source_profile": self.chain.source.profile,
            "role_arn": step.hop.role_arn if step.hop else None,
            "created": self.now().astimezone(UTC).isoformat(),
        }
        return item


# -- the single-flight lock --------------------------------------------------


@contextlib.contextmanager
def _step_lock(env: Mapping[str, str], cache_id: str, timeout: float, profile: str) -> Iterator[None]:
    """An exclusive flock on `<data dir>/locks/<cache id>.lock` (dir 0700, file 0600)."""
    directory = paths.data_dir(env) / "locks"
    path = directory / f"{cache_id}.lock"
    try:
        directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        os.chmod(directory, 0o700)
    except OSError as exc:
        raise AwsvError(f"cannot create the lock file {path}: {exc.strerror}") from None
    with exclusive_lock(
        path,
        timeout,
        max_delay=0.1,
        timed_out=lambda: AwsvError(
            f"another awsv process has been refreshing the session of {profile!r} for over {timeout:g}s",
            hint=f"is it waiting for an MFA code in another terminal? the lock is {path}",
        ),
        cannot_lock=lambda exc: AwsvError(f"cannot create the lock file {path}: {exc.strerror}"),
    ):
        yield

"""Which STS steps give a profile its credentials, and the cache id of each: pure, no I/O.

A resolved profile (`awsv.chain.Chain`) becomes a list of steps: the
source's own step when it has one (an SSO role, a web identity), an optional
GetSessionToken on the source key, then one AssumeRole per role hop. Every
step's result is cached under an id that is a hash of everything that
determines it, so the next command — or another profile sharing the same
source — reuses it without a new MFA code, and a change of any input (a key
rotated, a duration, an endpoint) misses the cache instead of serving stale
credentials. Kept apart from the cache and the STS calls so the rules below
are read, and tested, in one place; the region every step is sent to is
checked here too, before anything is fetched.

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
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from awsv.chain import Chain, RoleHop
from awsv.durations import ROLE_CHAINING_LIMIT, Ttls
from awsv.errors import ConfigError, UsageError
from awsv.vault.items import LongTermKey


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
class Step:
    """One STS call to make (or to find in the cache)."""

    kind: str  # "sso", "web_identity", "session" or "role"
    profile: str
    cache_id: str
    duration: int
    mfa_serial: str | None = None
    mfa_process: str | None = None
    hop: RoleHop | None = None


def digest(description: Mapping[str, Any]) -> str:
    """The cache id: sha256 of a canonical JSON description."""
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def use_session(chain: Chain, opts: SessionOptions, first_role_duration: int | None) -> bool:
    """Whether GetSessionToken comes first (the rules in the module docstring)."""
    if opts.no_session or chain.source.kind != "vault":
        return False
    if chain.hops and first_role_duration is not None and first_role_duration > ROLE_CHAINING_LIMIT:
        return False
    # A session before a role only carries the source's MFA; without one it adds nothing.
    return not (chain.hops and chain.source.mfa_serial is None)


def source_origin(env: Mapping[str, str], chain: Chain) -> str | None:
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


def plan(
    chain: Chain,
    opts: SessionOptions,
    ttls: Ttls,
    key: LongTermKey | None,
    endpoint: str | None,
    sso: Any = None,
    sso_endpoint: str | None = None,
    source_origin: str | None = None,
) -> tuple[Step, ...]:
    """The STS steps for `chain`, first to last, each with its cache id."""
    source, hops = chain.source, chain.hops
    last = len(hops) - 1

    def role_duration(i: int) -> int:
        if i == last and opts.duration:
            return opts.duration
        return hops[i].duration_seconds or ttls.role

    steps: list[Step] = []
    if source.kind == "sso" and sso is not None:
        # The SSO role's credentials are the first cached step (GetRoleCredentials).
        base_id = digest(
            {
                "kind": "sso",
                "profile": source.profile,
                "start_url": sso.session.start_url,
                "account": sso.account_id,
                "role": sso.role_name,
                "endpoint": sso_endpoint,
            }
        )
        steps.append(Step("sso", source.profile, base_id, 0))
    elif source.kind == "web_identity":
        # AssumeRoleWithWebIdentity is the first cached step; the token is not part of the
        # id (it rotates), the file or command that supplies it is.
        duration = (opts.duration if not hops and opts.duration else None) or source.duration_seconds or ttls.role
        base_id = digest(
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
        steps.append(Step("web_identity", source.profile, base_id, duration))
    elif source.kind == "credential_source":
        base_id = digest(
            {
                "kind": "credential_source",
                "profile": source.profile,
                "source": source.credential_source,
                "origin": source_origin,
                "endpoint": endpoint,
            }
        )
    elif key is not None:
        base_id = digest(
            {"kind": "key", "profile": source.profile, "access_key_id": key.access_key_id, "endpoint": endpoint}
        )
    else:
        base_id = digest(
            {
                "kind": "credential_process",
                "profile": source.profile,
                "command": source.credential_process,
                "endpoint": endpoint,
            }
        )
    parent = base_id
    session = use_session(chain, opts, role_duration(0) if hops else None)
    if session:
        duration = (opts.duration if not hops and opts.duration else None) or source.duration_seconds or ttls.session
        parent = digest({"kind": "session", "parent": base_id, "mfa_serial": source.mfa_serial, "duration": duration})
        steps.append(Step("session", source.profile, parent, duration, source.mfa_serial, source.mfa_process))
    for i, hop in enumerate(hops):
        serial, process = hop.mfa_serial, hop.mfa_process
        if i == 0 and not session and serial is None and source.mfa_serial:
            serial, process = source.mfa_serial, source.mfa_process
        duration = role_duration(i)
        parent = digest(
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
        steps.append(Step("role", hop.profile, parent, duration, serial, process, hop))
    return tuple(steps)


#: botocore's rule for a region name: one DNS label.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\Z")


def checked_region(region: str | None, origin: str) -> str | None:
    """Refuse a malformed region before it reaches STS or, from the cache, a shell."""
    if region is not None and not _REGION.match(region):
        error = UsageError if origin.startswith("--") else ConfigError
        raise error(
            f"{region!r} is not a valid AWS region name (from {origin})", hint="check --region and the profile's region"
        )
    return region

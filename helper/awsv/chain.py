"""Resolving a profile into the steps that produce its credentials.

A chain is: one *source* (a long-term key in the vault, or a
`credential_process`), then zero or more *role hops* (AssumeRole), applied in
order. The sessions layer turns a chain into STS calls; keeping the
resolution pure (no vault, no network) lets `doctor`, `list` and the tests
reason about chains without unlocking anything.

MFA rule (written down in the README): a source with `mfa_serial` gets one
MFA-authenticated session (GetSessionToken) and every role hanging off it is
assumed from that session, so the code is asked once per source session. A
role's own `mfa_serial`, when it differs from the source's, is sent with that
role's AssumeRole, as botocore does.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import field, replace

from awsv import session_tags
from awsv.config import AwsConfig, Profile
from awsv.errors import AwsvError, ConfigError, SourceProfileLoop
from awsv.names import validate_profile_name
from awsv.records import record
from awsv.recursion import awsv_profile_of, runs_awsv_back
from awsv.session_tags import RoleSessionTags

#: Any of these makes a profile's source an IAM Identity Center role (awsv.sso.settings).
SSO_KEYS = ("sso_session", "sso_start_url", "sso_account_id", "sso_role_name")
_SSO_KEY_SET = frozenset(SSO_KEYS)
#: botocore's credential_source values (awsv.other_sources fetches them).
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")


class SelfReference(ConfigError):
    """A credential_process would run awsv back into the resolution that starts it."""


@record
class Source:
    """Where the first credentials of a chain come from."""

    #: "vault" (a long-term key stored under this profile), "credential_process",
    #: "sso" (an IAM Identity Center role: the profile's sso_* settings), "web_identity"
    #: (AssumeRoleWithWebIdentity), or "credential_source" (the environment's credentials).
    kind: str
    #: The profile that owns the key or the command.
    profile: str
    mfa_serial: str | None = None
    mfa_process: str | None = None
    credential_process: str | None = None
    duration_seconds: int | None = None
    #: kind "web_identity": the role to assume with the token (None: AWS_ROLE_ARN).
    role_arn: str | None = None
    role_session_name: str | None = None
    web_identity_token_file: str | None = None
    web_identity_token_process: str | None = None
    #: kind "credential_source": Environment, Ec2InstanceMetadata or EcsContainer.
    credential_source: str | None = None


@record
class RoleHop:
    """One AssumeRole step."""

    profile: str
    role_arn: str
    external_id: str | None = None
    role_session_name: str | None = None
    duration_seconds: int | None = None
    #: The role's own mfa_serial, only when the source session does not already carry it.
    mfa_serial: str | None = None
    mfa_process: str | None = None
    #: session_tags, transitive_session_tags, source_identity (sent with AssumeRole).
    tags: RoleSessionTags = field(default_factory=RoleSessionTags)


@record
class Chain:
    """A resolved profile: its source, its role hops (first to last), its settings."""

    target: Profile
    source: Source
    hops: tuple[RoleHop, ...] = ()
    #: Every profile visited, target first; useful in error messages and `doctor`.
    trail: tuple[str, ...] = ()
    #: The target's region, else the nearest one set along its source_profile chain.
    region: str | None = None

    def describe(self) -> str:
        """A short human description, e.g. `vault key 'base' -> role 'admin'`."""
        kinds = {
            "vault": "vault key",
            "sso": "SSO role",
            "web_identity": "web identity",
            "credential_source": f"credential_source {self.source.credential_source}",
        }
        parts = [f"{kinds.get(self.source.kind, self.source.kind)} {self.source.profile!r}"]
        parts += [f"role {hop.profile!r}" for hop in self.hops]
        return " -> ".join(parts)


#: The longest source_profile chain awsv follows, in profiles (README, "Limits").
#: Real chains are two or three long; the limit keeps a hostile config cheap.
MAX_CHAIN_DEPTH = 50


@record
class _Node:
    """One profile's own step in its chain, as Resolver remembers it."""

    hop: RoleHop | None  # None for a profile that is only a source
    region: str | None  # the profile's own region
    next: str | None  # its source_profile; None when the profile is the source itself
    source: Source | None  # set exactly when `next` is None
    depth: int  # profiles from this one to the source, both included


class Resolver:
    """Resolves many profiles of one config, each profile's settings read once.

    `list` and `doctor` resolve every profile; walking a chain of n profiles
    from each of its members would cost n² steps. A Resolver remembers each
    profile's step (and every failure), so the walks together are linear and
    assembling one chain costs at most MAX_CHAIN_DEPTH steps.
    """

    def __init__(
        self,
        config: AwsConfig,
        *,
        in_vault: Callable[[str], bool] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.in_vault = in_vault
        self.env = env
        self.nodes: dict[str, _Node | AwsvError] = {}

    def resolve(self, name: str) -> Chain:
        """Like the module's `resolve`, with this resolver's memory."""
        return resolve(self.config, name, in_vault=self.in_vault, resolver=self, env=self.env)


def resolve(
    config: AwsConfig,
    name: str,
    *,
    in_vault: Callable[[str], bool] | None = None,
    resolver: Resolver | None = None,
    env: Mapping[str, str] | None = None,
) -> Chain:
    """Resolve profile `name` into a Chain, or raise a ConfigError naming the culprits.

    `in_vault(name)` says whether a profile missing from the config has a key
    in the vault (aws-vault allows such vault-only profiles); it is consulted
    only for names absent from the config, so the common case unlocks nothing.
    A chain longer than MAX_CHAIN_DEPTH profiles is a ConfigError. With a
    `resolver`, what it already walked is reused (see Resolver). `env` is
    consulted for botocore's web identity variables only (AWS_WEB_IDENTITY_TOKEN_FILE,
    AWS_ROLE_ARN): without it, the config alone decides.
    """
    shared: dict[str, _Node | AwsvError] = resolver.nodes if resolver is not None else {}
    nodes: Mapping[str, _Node | AwsvError] = shared
    if name not in shared:
        walked, keep = _walk(config, name, in_vault, shared, env)
        if keep:
            shared.update(walked)
        else:
            nodes = ChainMap(walked, shared)  # type: ignore[arg-type]
    first = nodes[name]
    if isinstance(first, AwsvError):
        raise first
    if first.depth > MAX_CHAIN_DEPTH:
        raise ConfigError(
            f"profile {name!r}: its source_profile chain is longer than {MAX_CHAIN_DEPTH} profiles",
            hint=f"awsv follows at most {MAX_CHAIN_DEPTH}; shorten the chain",
        )
    hops: list[RoleHop] = []
    trail: list[str] = []
    current, node = name, first
    while True:
        trail.append(current)
        if node.hop is not None:
            hops.append(node.hop)
        if node.next is None:
            break
        current = node.next
        node = nodes[current]  # type: ignore[assignment]  # walked, and not an error
    assert node.source is not None  # noqa: S101 - narrows the type; the walk ends at a source
    hops.reverse()
    source, hops = _apply_mfa_rule(node.source, hops)
    region = next((r for r in (nodes[p].region for p in trail) if r), None)  # type: ignore[union-attr]
    target = config.profile(name, allow_missing=name not in config)
    return Chain(target=target, source=source, hops=tuple(hops), trail=tuple(trail), region=region)


def _walk(
    config: AwsConfig,
    name: str,
    in_vault: Callable[[str], bool] | None,
    nodes: dict[str, _Node | AwsvError],
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, _Node], bool]:
    """Follow source_profile from `name` until a source or a profile already in `nodes`.

    Returns a _Node for every profile walked, and whether they may be shared
    with other walks; an error is recorded in `nodes` for every profile walked.
    """
    trail: list[str] = []
    seen: set[str] = set()
    steps: list[tuple[str, RoleHop | None, str | None, str | None, Source | None]] = []
    depth = 0
    try:
        validate_profile_name(name)
        current = _profile(config, name, None, in_vault, env)
        while True:
            if current.name in seen:
                raise SourceProfileLoop(
                    "source_profile loop: " + " -> ".join([*trail, current.name]),
                    hint="one of these profiles must get its credentials from the vault or a credential_process",
                )
            trail.append(current.name)
            seen.add(current.name)
            if current.role_arn is None:
                steps.append(
                    (current.name, None, current.region, None, _source(config, current, trail, in_vault, env=env))
                )
                break
            source_name = current.source_profile
            if source_name is None:
                special = _special_source(current, env)
                if special is not None:
                    # credential_source: the role is assumed with the environment's credentials;
                    # web identity: the role is the source itself (AssumeRoleWithWebIdentity).
                    hop = _hop(current) if special.kind == "credential_source" else None
                    steps.append((current.name, hop, current.region, None, special))
                    break
                if in_vault is None or not in_vault(current.name):
                    raise ConfigError(
                        f"profile {current.name!r} has role_arn but no source_profile, "
                        "and no key of its own in the vault",
                        hint=f"add `source_profile = NAME` to [profile {current.name}], "
                        f"or store its own key: `awsv add {current.name}`",
                    )
                # aws-vault's rule: a role profile without source_profile assumes the
                # role with its own key (its "work" example).
                steps.append(
                    (
                        current.name,
                        _hop(current),
                        current.region,
                        None,
                        _source(config, current, trail, in_vault, own_key=True, env=env),
                    )
                )
                break
            if current.get("credential_source"):
                raise ConfigError(
                    f"profile {current.name!r} has both source_profile and credential_source",
                    hint="keep one of them (botocore refuses both)",
                )
            validate_profile_name(source_name)
            if source_name == current.name:
                # botocore allows a role profile to be its own source when it holds a key.
                steps.append(
                    (
                        current.name,
                        _hop(current),
                        current.region,
                        None,
                        _source(config, current, trail, in_vault, env=env),
                    )
                )
                break
            steps.append((current.name, _hop(current), current.region, source_name, None))
            known = nodes.get(source_name)
            if isinstance(known, AwsvError):
                raise known
            if known is not None:  # walked before: join it
                depth = known.depth
                break
            current = _profile(config, source_name, current.name, in_vault)
    except SelfReference as exc:
        nodes[name] = exc  # it depends on where the walk started: only the target's answer
        raise
    except AwsvError as exc:
        for profile in trail or [name]:
            nodes[profile] = exc
        raise
    walked: dict[str, _Node] = {}
    for profile, hop, region, nxt, source in reversed(steps):
        depth += 1
        walked[profile] = _Node(hop, region, nxt, source, depth)
    return walked, not _depends_on_trail(config, steps[-1][4])


def _depends_on_trail(config: AwsConfig, source: Source | None) -> bool:
    """Whether a walk's source was chosen by what was being resolved.

    A source profile whose credential_process runs awsv is taken or skipped
    depending on the profiles being resolved (`recursion.runs_awsv_back`), so
    its walk is not shared with walks from other profiles. None means the walk
    joined a shared one, which did not depend on its trail.
    """
    if (
        source is None
        or source.profile not in config
        or (source.kind != "credential_process" and source.kind != "vault")
    ):
        return False
    command = config.profile(source.profile).credential_process
    return command is not None and awsv_profile_of(command) is not None


def _profile(
    config: AwsConfig,
    name: str,
    needed_by: str | None,
    in_vault: Callable[[str], bool] | None,
    env: Mapping[str, str] | None = None,
) -> Profile:
    if name in config:
        return config.profile(name)
    if needed_by is None and _env_web_identity(env, None) is not None:
        # botocore: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN need no config at all (a pod, a CI job).
        return config.profile(name, allow_missing=True)
    if in_vault is not None and in_vault(name):
        return config.profile(name, allow_missing=True)
    if needed_by is None:
        raise config.not_found(name)
    raise config.not_found(name, needed_by=needed_by)


def _special_source(profile: Profile, env: Mapping[str, str] | None = None) -> Source | None:
    """A role profile's web identity or credential_source (botocore's rules), else None."""
    web = _web_identity(profile, env)
    if web is not None:
        return web
    kind = profile.get("credential_source")
    if kind is None:
        return None
    if kind not in CREDENTIAL_SOURCES:
        raise ConfigError(
            f"profile {profile.name!r}: credential_source = {kind!r} is not one of " + ", ".join(CREDENTIAL_SOURCES)
        )
    return Source(kind="credential_source", profile=profile.name, credential_source=kind)


def _env_web_identity(env: Mapping[str, str] | None, role_arn: str | None) -> str | None:
    """AWS_WEB_IDENTITY_TOKEN_FILE when the environment alone makes a web identity source.

    botocore's rule: the variable serves a profile that names no token of its
    own, with the profile's role_arn, else AWS_ROLE_ARN; without either role
    there is no web identity.
    """
    if not env:
        return None
    token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or None
    return token_file if token_file and (role_arn or env.get("AWS_ROLE_ARN")) else None


def _web_identity(profile: Profile, env: Mapping[str, str] | None = None) -> Source | None:
    token_file = profile.get("web_identity_token_file")
    token_process = profile.get("web_identity_token_process")
    if token_file is None and token_process is None:
        token_file = _env_web_identity(env, profile.role_arn)
    if token_file is None and token_process is None:
        return None
    return Source(
        kind="web_identity",
        profile=profile.name,
        role_arn=profile.role_arn,
        role_session_name=profile.get("role_session_name"),
        duration_seconds=profile.duration_seconds(),
        web_identity_token_file=token_file,
        web_identity_token_process=token_process,
    )


def _source(
    config: AwsConfig,
    profile: Profile,
    trail: list[str],
    in_vault: Callable[[str], bool] | None,
    *,
    own_key: bool = False,
    env: Mapping[str, str] | None = None,
) -> Source:
    """The chain's source: SSO, web identity, the profile's credential_process, else its key.

    A stored key wins over a `credential_process` that runs awsv back into
    this resolution (aws-vault's recipe `credential_process = awsv exec -j P`
    on P itself): that command is for other programs. Without a stored key
    such a profile is an error here, before anything is started. Other
    commands are taken as they are, without opening the vault.
    """
    if not own_key:
        # botocore's order: SSO, then web identity, then credential_process. An SSO
        # profile's credential_process (often `awsv export … P` for other tools) is
        # never run by awsv, so it cannot loop.
        if not _SSO_KEY_SET.isdisjoint(profile.settings) and any(profile.get(k) for k in SSO_KEYS):
            from awsv.sso.settings import role_of

            role_of(config, profile)  # a missing sso_* key is an error naming it, already here
            return Source(
                kind="sso", profile=profile.name, mfa_serial=profile.mfa_serial, mfa_process=profile.get("mfa_process")
            )
        web = _web_identity(profile, env)  # without role_arn, the role comes from AWS_ROLE_ARN
        if web is not None:
            return web
    command = None if own_key else profile.credential_process
    if command is not None:
        loop = runs_awsv_back(config, command, trail)
        if loop is not None:
            if in_vault is not None and not in_vault(profile.name):
                raise SelfReference(_self_reference_message(profile.name, loop, trail))
            command = None  # the stored key wins
    return Source(
        kind="credential_process" if command else "vault",
        profile=profile.name,
        mfa_serial=profile.mfa_serial,
        mfa_process=profile.get("mfa_process"),
        credential_process=command,
        duration_seconds=profile.duration_seconds() if not profile.role_arn else None,
    )


def _self_reference_message(profile: str, loop: str, trail: list[str]) -> str:
    """One line: which profile's command runs awsv for which, and the way out."""
    via = f" (resolving {trail[0]!r})" if trail and trail[0] != profile else ""
    again = "itself" if loop == profile else f"{loop!r}, which needs {profile!r} again"
    return (
        f"profile {profile!r}{via}: its credential_process runs awsv for {again}, "
        f"and no key for {profile!r} is in the vault; store one with `awsv add {profile}` "
        "(a stored key wins, and the credential_process line stays for other programs)"
    )


def _hop(profile: Profile) -> RoleHop:
    return RoleHop(
        profile=profile.name,
        role_arn=profile.role_arn or "",
        external_id=profile.get("external_id"),
        role_session_name=profile.get("role_session_name"),
        duration_seconds=profile.duration_seconds(),
        mfa_serial=profile.mfa_serial,
        mfa_process=profile.get("mfa_process"),
        tags=session_tags.parse(
            profile.name,
            profile.get("session_tags"),
            profile.get("transitive_session_tags"),
            profile.get("source_identity"),
        ),
    )


def _apply_mfa_rule(source: Source, hops: list[RoleHop]) -> tuple[Source, list[RoleHop]]:
    """Apply the MFA rule: the source's MFA session covers roles naming the same device.

    When the source has no mfa_serial of its own but the first role names
    one, that device is also what GetSessionToken would use (aws-vault's
    behaviour), so it moves to the source and the code is cached with it.
    """
    if source.mfa_serial is None and hops and hops[0].mfa_serial and source.kind == "vault":
        first = hops[0]
        source = replace(source, mfa_serial=first.mfa_serial, mfa_process=source.mfa_process or first.mfa_process)
    kept: list[RoleHop] = []
    for hop in hops:
        if hop.mfa_serial is not None and hop.mfa_serial == source.mfa_serial:
            hop = replace(hop, mfa_serial=None, mfa_process=None)
        kept.append(hop)
    return source, kept

"""Following source_profile from a profile to its source: `resolve`, and `Resolver` for many.

The walk is pure (no vault, no network): `in_vault` is asked only about
names missing from the config. Each profile's step is remembered, with
every failure, so resolving all the profiles of a config (`list`,
`doctor`) costs linear time, and a chain is bounded by MAX_CHAIN_DEPTH so a
hostile config stays cheap.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import replace

from awsv.chain.model import MAX_CHAIN_DEPTH, Chain, RoleHop, SelfReference, Source
from awsv.chain.sources import env_web_identity, hop_of, source_of, special_source
from awsv.config import AwsConfig, Profile
from awsv.errors import AwsvError, ConfigError, SourceProfileLoop
from awsv.names import validate_profile_name
from awsv.records import record
from awsv.recursion import awsv_profile_of


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
                    (current.name, None, current.region, None, source_of(config, current, trail, in_vault, env=env))
                )
                break
            source_name = current.source_profile
            if source_name is None:
                special = special_source(current, env)
                if special is not None:
                    # credential_source: the role is assumed with the environment's credentials;
                    # web identity: the role is the source itself (AssumeRoleWithWebIdentity).
                    hop = hop_of(current) if special.kind == "credential_source" else None
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
                        hop_of(current),
                        current.region,
                        None,
                        source_of(config, current, trail, in_vault, own_key=True, env=env),
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
                        hop_of(current),
                        current.region,
                        None,
                        source_of(config, current, trail, in_vault, env=env),
                    )
                )
                break
            steps.append((current.name, hop_of(current), current.region, source_name, None))
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
    if needed_by is None and env_web_identity(env, None) is not None:
        # botocore: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN need no config at all (a pod, a CI job).
        return config.profile(name, allow_missing=True)
    if in_vault is not None and in_vault(name):
        return config.profile(name, allow_missing=True)
    if needed_by is None:
        raise config.not_found(name)
    raise config.not_found(name, needed_by=needed_by)


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

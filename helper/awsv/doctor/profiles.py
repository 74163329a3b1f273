"""Checks on ~/.aws/config: every profile resolves, MFA settings agree, self-references explained.

Resolution is pure (`awsv.chain`), so these run without the vault; whether
a key is stored is asked of a running agent only, and "unknown" is said as
such when none holds the vault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from awsv.doctor.findings import FAIL, INFO, PASS, WARN, Finding, plural
from awsv.errors import AwsvError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from awsv.config import AwsConfig


def config(env: Mapping[str, str]) -> Iterator[Finding]:
    """Every profile in the AWS config resolves; MFA settings are consistent; self-references explained."""
    from awsv.chain import Resolver
    from awsv.config import AwsConfig
    from awsv.names import is_valid_profile_name
    from awsv.paths import aws_config_file

    path = aws_config_file(env)
    if not path.exists() and not path.is_symlink():
        # A vault-only setup is valid (`awsv add prod` + `awsv use prod`): a warning, not a fail.
        yield Finding(
            "config",
            WARN,
            f"the AWS config file {path} does not exist",
            "fine for keys used as they are (`awsv add NAME`, `awsv use NAME`); for "
            "regions, roles or MFA create it with [profile NAME] sections "
            "(AWS_CONFIG_FILE points elsewhere)",
        )
        return
    try:
        cfg = AwsConfig.load(env)
    except AwsvError as exc:
        yield Finding("config", FAIL, exc.message, exc.hint)
        return
    problems = 0
    resolver = Resolver(cfg, in_vault=lambda _name: True, env=env)  # shared chain tails: linear time
    for name in cfg.names():
        if not is_valid_profile_name(name):
            problems += 1
            yield Finding(
                "config",
                WARN,
                f"profile {name!r}: awsv refuses this name",
                "rename it to letters, digits and _ . @ + = , -",
            )
            continue
        try:
            chain = resolver.resolve(name)
        except AwsvError as exc:
            problems += 1
            yield Finding("config", FAIL, exc.message, exc.hint)
            continue
        profile = cfg.profile(name)
        source_profile = cfg.profile(chain.source.profile, allow_missing=True)
        if chain.hops and source_profile.mfa_serial and not profile.mfa_serial:
            problems += 1
            yield Finding(
                "config",
                WARN,
                f"role {name!r} has no mfa_serial but its source {chain.source.profile!r} has one: "
                "awsv assumes it from the MFA session, the AWS CLI and SDKs would not use MFA",
                f"add `mfa_serial = {source_profile.mfa_serial}` to [profile {name}]",
            )
    for finding in _needing_a_stored_key(env, cfg):
        problems += finding.status in (FAIL, WARN)
        yield finding
    if not problems:
        count = len(cfg.names())
        yield Finding(
            "config",
            PASS,
            f"{plural(count, 'profile')} in {cfg.path} {'resolves' if count == 1 else 'resolve'} cleanly",
        )


def _needing_a_stored_key(env: Mapping[str, str], cfg: AwsConfig) -> Iterator[Finding]:
    """Explain the two patterns that work only with a key stored for the profile itself.

    aws-vault's recipe `credential_process = awsv exec -j P` on P itself, and
    a role with no source_profile (aws-vault's `work`): fine with a key for P
    in the vault (the key wins), an error without one.
    Whether the key is there is asked of the agent only: doctor never asks
    for the passphrase, so a locked vault gets the explanation, not a verdict.
    """
    from awsv.names import is_valid_profile_name
    from awsv.recursion import runs_awsv_back

    stored: Callable[[str], bool | None] | None = None
    for name in cfg.names():
        if not is_valid_profile_name(name):
            continue
        try:
            profile = cfg.profile(name)
        except AwsvError:
            continue  # reported by the resolution check above
        command = profile.credential_process
        if stored is None and (command or (profile.role_arn and not profile.source_profile)):
            stored = _key_lookup(env)
        if profile.role_arn and not profile.source_profile and stored is not None:
            yield from _own_key_role(
                name, stored(name), bool(profile.get("credential_source") or profile.get("web_identity_token_file"))
            )
            continue
        if not command or runs_awsv_back(cfg, command, [name]) is None or stored is None:
            continue
        pattern = f"profile {name!r}: its credential_process runs awsv for itself"
        has_key = stored(name)
        if has_key:
            yield Finding(
                "config",
                PASS,
                f"{pattern}; awsv uses the key stored for it, and the "
                "line serves the AWS CLI and SDKs (aws-vault's recipe)",
            )
        elif has_key is False:
            yield Finding(
                "config",
                FAIL,
                f"{pattern} and no key for it is in the vault: awsv refuses it, and the AWS CLI gets that error",
                f"awsv add {name}",
            )
        else:
            yield Finding(
                "config",
                INFO,
                f"{pattern}: fine when a key for it is in the vault "
                "(the key wins), an error without one; the vault is locked, so not checked",
                f"`awsv unlock`, then run doctor again (or `awsv add {name}`)",
            )


def _own_key_role(name: str, has_key: bool | None, other_source: bool) -> Iterator[Finding]:
    """A role with no source_profile assumes itself with its own stored key (aws-vault's `work`)."""
    if other_source or has_key:
        return  # the resolution check reports the unsupported sources; with a key all is well
    pattern = (
        f"profile {name!r} has role_arn but no source_profile: it assumes the role with "
        "its own key in the vault (aws-vault's rule)"
    )
    if has_key is False:
        yield Finding(
            "config",
            FAIL,
            f"{pattern}, and there is none",
            f"awsv add {name}, or add `source_profile = NAME` to [profile {name}]",
        )
    else:
        yield Finding(
            "config",
            WARN,
            f"{pattern}; the vault is locked, so not checked",
            f"`awsv unlock`, then run doctor again (or `awsv add {name}`)",
        )


def _key_lookup(env: Mapping[str, str]) -> Callable[[str], bool | None]:
    """name -> key stored? through a running agent; None (unknown) when none holds the vault."""
    try:
        from awsv.agent.client import connect
        from awsv.settings import choose_backend
        from awsv.vault.items import key_item_name

        vault = connect(env, choose_backend(None, env))
    except AwsvError:
        vault = None
    if vault is None:
        return lambda _name: None

    def lookup(name: str) -> bool | None:
        try:
            return vault.get(key_item_name(name)) is not None
        except AwsvError:
            return None

    return lookup

"""Where a chain starts: a profile's source (SSO, web identity, credential_source, process, key).

botocore's order and aws-vault's rules, one function each, so the walk
(`awsv.chain.walk`) only follows source_profile and asks here what each
profile contributes. A stored key wins over a credential_process that would
run awsv back into the resolution that starts it (`SelfReference` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from awsv import session_tags
from awsv.chain.model import CREDENTIAL_SOURCES, SSO_KEYS, RoleHop, SelfReference, Source
from awsv.config import AwsConfig, Profile
from awsv.errors import ConfigError
from awsv.recursion import runs_awsv_back

_SSO_KEY_SET = frozenset(SSO_KEYS)


def special_source(profile: Profile, env: Mapping[str, str] | None = None) -> Source | None:
    """A role profile's web identity or credential_source (botocore's rules), else None."""
    web = web_identity(profile, env)
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


def env_web_identity(env: Mapping[str, str] | None, role_arn: str | None) -> str | None:
    """AWS_WEB_IDENTITY_TOKEN_FILE when the environment alone makes a web identity source.

    botocore's rule: the variable serves a profile that names no token of its
    own, with the profile's role_arn, else AWS_ROLE_ARN; without either role
    there is no web identity.
    """
    if not env:
        return None
    token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or None
    return token_file if token_file and (role_arn or env.get("AWS_ROLE_ARN")) else None


def web_identity(profile: Profile, env: Mapping[str, str] | None = None) -> Source | None:
    token_file = profile.get("web_identity_token_file")
    token_process = profile.get("web_identity_token_process")
    if token_file is None and token_process is None:
        token_file = env_web_identity(env, profile.role_arn)
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


def source_of(
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
        web = web_identity(profile, env)  # without role_arn, the role comes from AWS_ROLE_ARN
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


def hop_of(profile: Profile) -> RoleHop:
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

"""What a resolved profile is: one source, then role hops, with the settings each step needs.

Immutable values (`awsv.records.record`: built per profile, so cheap to build)
with no behaviour beyond describing themselves, so every layer above
(sessions, delivery, commands) can hold a chain without importing how it was
resolved.
"""

from __future__ import annotations

from dataclasses import field

from awsv.config import Profile
from awsv.errors import ConfigError
from awsv.records import record
from awsv.session_tags import RoleSessionTags

#: Any of these makes a profile's source an IAM Identity Center role (awsv.sso.settings).
SSO_KEYS = ("sso_session", "sso_start_url", "sso_account_id", "sso_role_name")
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

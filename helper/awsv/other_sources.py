"""The sources botocore knows besides keys, processes and SSO: web identity, credential_source.

Web identity (`web_identity_token_file` or aws-vault's
`web_identity_token_process`, with `role_arn`): the token (an OIDC JWT from
Kubernetes, GitHub Actions, …) is read from the file or from the command's
stdout, and AssumeRoleWithWebIdentity exchanges it for role credentials.
The call is unsigned, as the STS model says. As in botocore,
`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` fill in what the profile
leaves out (`AWS_ROLE_SESSION_NAME` too).

`credential_source` (on a role profile, instead of `source_profile`): the
role is assumed with credentials from the environment awsv runs in:

- `Environment`: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`;
- `EcsContainer`: the container credentials endpoint
  (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `_FULL_URI`, with
  `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `_TOKEN_FILE`), through botocore's
  own provider, so the same hosts are allowed (https, or http on loopback and
  the ECS/EKS link-local addresses only);
- `Ec2InstanceMetadata`: IMDS, through botocore's provider (IMDSv2 first);
  `AWS_EC2_METADATA_SERVICE_ENDPOINT` (and `_MODE`) move it, as in botocore,
  `AWS_EC2_METADATA_DISABLED=true` turns it off.

Tokens are bearer secrets: never in argv, messages or on disk; a token over
64 KiB is refused (bounded memory).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from awsv import sts
from awsv.aws.clients import create_client
from awsv.credentials import Credentials, account_from_arn
from awsv.errors import AwsvError, ConfigError

CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")
MAX_TOKEN = 64 * 1024
TOKEN_PROCESS_TIMEOUT = 60.0


class SourceError(AwsvError):
    """A web identity token or a credential_source could not supply credentials."""


def web_identity_token(profile: str, token_file: str | None, token_process: str | None, env: Mapping[str, str]) -> str:
    """The web identity token from the profile's file or command, else AWS_WEB_IDENTITY_TOKEN_FILE."""
    if token_process:
        from awsv.user_command import run_user_command

        raw = run_user_command(
            token_process,
            where=f"web_identity_token_process of profile {profile!r}",
            env=env,
            timeout=TOKEN_PROCESS_TIMEOUT,
            error=SourceError,
        )
        where = f"the output of web_identity_token_process of profile {profile!r}"
    else:
        path = token_file or env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
        if not path:
            raise ConfigError(f"profile {profile!r} has no web_identity_token_file")
        where = f"the web identity token file {path} (profile {profile!r})"
        try:
            with open(Path(path).expanduser(), "rb") as handle:
                raw = handle.read(MAX_TOKEN + 1)
        except OSError as exc:
            raise SourceError(f"cannot read {where}: {exc.strerror}") from None
    if len(raw) > MAX_TOKEN:
        raise SourceError(f"{where} is over {MAX_TOKEN // 1024} KiB: not a token")
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SourceError(f"{where} is not a token (not ASCII)") from None
    if not token or any(ch.isspace() for ch in token):
        raise SourceError(f"{where} is empty or not a single token")
    return token


def assume_role_with_web_identity(
    env: Mapping[str, str],
    profile: Any,
    *,
    role_arn: str,
    token: str,
    session_name: str,
    duration: int | None,
    region: str | None,
) -> Credentials:
    """AssumeRoleWithWebIdentity, unsigned, through the same endpoint rules as every STS call."""
    settings = sts.ClientSettings.from_env(env, profile)
    client = create_client(
        "sts", settings, None, region, error=sts.StsError, bad_region=sts.StsInvalidRequest
    )  # unsigned: the token is the proof
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name, "WebIdentityToken": token}
    if duration:
        params["DurationSeconds"] = duration
    what = f"AssumeRoleWithWebIdentity {role_arn} for profile {profile.name!r}"
    with sts.sts_errors(client, what, "the web identity token"):
        response = client.assume_role_with_web_identity(**params)
        creds = sts.parse_credentials(response)
        arn = response.get("AssumedRoleUser", {}).get("Arn")
        return Credentials(
            creds.access_key_id,
            creds.secret_access_key,
            creds.session_token,
            creds.expiration,
            account_id=account_from_arn(arn),
            arn=arn,
        )


def credential_source(profile: str, kind: str, env: Mapping[str, str], now: Callable[[], datetime]) -> Credentials:
    """Credentials from the environment awsv runs in, as `credential_source = kind` names it."""
    if kind == "Environment":
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            raise SourceError(
                f"profile {profile!r}: credential_source = Environment, but "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
            )
        return Credentials(key, secret, env.get("AWS_SESSION_TOKEN") or None)
    if kind not in CREDENTIAL_SOURCES:
        raise ConfigError(
            f"profile {profile!r}: credential_source = {kind!r} is not one of " + ", ".join(CREDENTIAL_SOURCES)
        )
    from botocore import credentials as bc
    from botocore.utils import InstanceMetadataFetcher

    if kind == "EcsContainer":
        provider: Any = bc.ContainerProvider(environ=dict(env))
    else:
        if (env.get("AWS_EC2_METADATA_DISABLED") or "").lower() == "true":
            raise SourceError(
                f"profile {profile!r}: credential_source = Ec2InstanceMetadata, but AWS_EC2_METADATA_DISABLED is true"
            )
        config = {
            "ec2_metadata_service_endpoint": env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
            "ec2_metadata_service_endpoint_mode": env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
        }
        fetcher = InstanceMetadataFetcher(
            timeout=2, num_attempts=2, env=dict(env), config={k: v for k, v in config.items() if v}
        )
        provider = bc.InstanceMetadataProvider(iam_role_fetcher=fetcher)
    try:
        found = provider.load()
    except Exception as exc:  # noqa: BLE001 — botocore raises many kinds here; one line each
        raise SourceError(
            f"profile {profile!r}: credential_source = {kind} failed ({type(exc).__name__})",
            hint="check the container/instance credentials endpoint",
        ) from None
    if found is None:
        raise SourceError(
            f"profile {profile!r}: credential_source = {kind} found no credentials here",
            hint="is awsv running in an ECS task / on an EC2 instance with a role?",
        )
    frozen = found.get_frozen_credentials()
    expiry = getattr(found, "_expiry_time", None)
    return Credentials(
        frozen.access_key,
        frozen.secret_key,
        frozen.token or None,
        expiry.replace(microsecond=0) if isinstance(expiry, datetime) else None,
    )

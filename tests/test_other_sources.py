"""Web identity and credential_source, against moto's STS and loopback stand-ins.

moto serves AssumeRoleWithWebIdentity (it accepts any token string, so these
tests prove the request is made and signed-off correctly, not that AWS would
accept a given JWT). The ECS container endpoint and EC2's IMDS cannot run
here, so small loopback stand-ins serve their documented formats, reached
the way botocore reaches them (AWS_CONTAINER_CREDENTIALS_FULL_URI,
AWS_EC2_METADATA_SERVICE_ENDPOINT). What was not tested: a real EKS/GitHub
OIDC token against real STS, and a real instance profile.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import AwsvRunner
from tests.support.loopback_http import LoopbackServer
from tests.support.moto_server import caller_arn, moto, moto_url  # noqa: F401

ROLE = "arn:aws:iam::123456789012:role"


def _creds_body() -> dict[str, str]:
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "AccessKeyId": "ASIACONTAINER0000001",
        "SecretAccessKey": "container-secret",
        "Token": "container-token",
        "Expiration": expiry,
    }


class MetadataStandIn:
    """ECS's container endpoint (Authorization checked) and IMDSv2, on one loopback server."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._http = LoopbackServer(self._handle)
        self.url = self._http.base_url

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        self.hits.append(f"{h.command} {h.path}")
        status, body = 404, b""
        if h.path == "/ecs/creds" and h.headers.get("Authorization") == "ecs-auth-token":
            status, body = 200, json.dumps(_creds_body()).encode()
        elif h.command == "PUT" and h.path == "/latest/api/token":
            status, body = 200, b"imds-session-token"
        elif h.headers.get("x-aws-ec2-metadata-token") == "imds-session-token":
            if h.path == "/latest/meta-data/iam/security-credentials/":
                status, body = 200, b"instance-role"
            elif h.path == "/latest/meta-data/iam/security-credentials/instance-role":
                status, body = 200, json.dumps({**_creds_body(), "Code": "Success"}).encode()
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def __enter__(self) -> MetadataStandIn:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()


@pytest.fixture
def metadata() -> Iterator[MetadataStandIn]:
    with MetadataStandIn() as server:
        yield server


@pytest.fixture
def configured(home: Path, env: dict[str, str], moto: str) -> Path:
    token = home / "token.jwt"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl\n")
    (home / ".aws" / "config").write_text(f"""
[profile wi]
role_arn = {ROLE}/web
web_identity_token_file = {token}
role_session_name = ci-run
[profile wi-proc]
role_arn = {ROLE}/webproc
web_identity_token_process = {sys.executable} -c "print('token-from-a-process')"
[profile wi-env]
web_identity_token_file = {token}
[profile after-wi]
role_arn = {ROLE}/second
source_profile = wi
[profile from-env]
role_arn = {ROLE}/fromenv
credential_source = Environment
[profile from-ecs]
role_arn = {ROLE}/fromecs
credential_source = EcsContainer
[profile from-ec2]
role_arn = {ROLE}/fromec2
credential_source = Ec2InstanceMetadata
[profile bad-source]
role_arn = {ROLE}/x
credential_source = Laptop
""")
    env["AWS_ENDPOINT_URL_STS"] = moto
    return token


def arn_of(awsv: AwsvRunner, moto: str, profile: str, **env: str) -> str:
    out = awsv("export", "--format", "credential-process", profile, env=env or None, check=True)
    creds = json.loads(out.stdout)
    return caller_arn(moto, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def test_web_identity_token_file_file_process_and_env(
    configured: Path, awsv: AwsvRunner, moto: str, home: Path
) -> None:
    assert arn_of(awsv, moto, "wi").endswith(":assumed-role/web/ci-run")
    assert ":assumed-role/webproc/" in arn_of(awsv, moto, "wi-proc")
    assert ":assumed-role/fromvar/" in arn_of(awsv, moto, "wi-env", AWS_ROLE_ARN=f"{ROLE}/fromvar")
    # A role hop on top of the web identity role.
    assert ":assumed-role/second/" in arn_of(awsv, moto, "after-wi")
    # The token never lands on disk outside its own file, nor in a message.
    assert "web identity" in awsv("list", check=True).stdout
    configured.write_text("")
    awsv("clear", check=True)
    failed = awsv("export", "--format", "json", "wi")
    assert failed.returncode == 1 and "empty or not a single token" in failed.stderr


def test_web_identity_from_the_environment_alone(configured: Path, awsv: AwsvRunner, moto: str, home: Path) -> None:
    """botocore's pod/CI shape: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN and no profile settings."""
    both = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(configured), "AWS_ROLE_ARN": f"{ROLE}/pod"}
    # No [default] in the config and no key in the vault: the variables are the whole source.
    assert ":assumed-role/pod/" in arn_of(awsv, moto, "default", **both)
    # A role profile without source_profile takes the variable's token with its own role.
    with (home / ".aws" / "config").open("a") as config:
        config.write(f"[profile role-only]\nrole_arn = {ROLE}/own\n")
    token_only = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(configured)}
    assert ":assumed-role/own/" in arn_of(awsv, moto, "role-only", **token_only)
    # A token file without any role is not web identity: the usual error, naming the profile.
    r = awsv("export", "--format", "json", "default", env=token_only)
    assert r.returncode == 1 and "'default'" in r.stderr and "Traceback" not in r.stderr


def test_credential_source_environment(configured: Path, awsv: AwsvRunner, moto: str) -> None:
    arn = arn_of(awsv, moto, "from-env", AWS_ACCESS_KEY_ID="AKIAENVEXAMPLE000001", AWS_SECRET_ACCESS_KEY="env-secret")
    assert ":assumed-role/fromenv/" in arn
    missing = awsv("export", "--format", "json", "from-env")
    assert missing.returncode == 1 and "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in missing.stderr


def test_credential_source_ecs_container(
    configured: Path,
    awsv: AwsvRunner,
    moto: str,
    metadata: MetadataStandIn,
) -> None:
    arn = arn_of(
        awsv,
        moto,
        "from-ecs",
        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{metadata.url}/ecs/creds",
        AWS_CONTAINER_AUTHORIZATION_TOKEN="ecs-auth-token",
    )
    assert ":assumed-role/fromecs/" in arn and "GET /ecs/creds" in metadata.hits
    awsv("clear", check=True)  # else the cached role answers without asking the endpoint
    wrong = awsv(
        "export",
        "--format",
        "json",
        "from-ecs",
        env={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{metadata.url}/ecs/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong",
        },
    )
    assert wrong.returncode == 1 and "credential_source = EcsContainer" in wrong.stderr


def test_credential_source_ec2_instance_metadata(
    configured: Path,
    awsv: AwsvRunner,
    moto: str,
    metadata: MetadataStandIn,
) -> None:
    arn = arn_of(
        awsv, moto, "from-ec2", AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=metadata.url
    )
    assert ":assumed-role/fromec2/" in arn and "PUT /latest/api/token" in metadata.hits
    awsv("clear", check=True)
    off = awsv("export", "--format", "json", "from-ec2")  # the tests' env disables IMDS
    assert off.returncode == 1 and "AWS_EC2_METADATA_DISABLED" in off.stderr


def test_bad_credential_source_names_the_profile(configured: Path, awsv: AwsvRunner) -> None:
    failed = awsv("export", "--format", "json", "bad-source")
    assert failed.returncode == 1
    assert "profile 'bad-source': credential_source = 'Laptop' is not one of" in failed.stderr

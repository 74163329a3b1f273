"""IAM Identity Center with `--backend keyring`: tokens live in the real Secret Service.

The same sign-in as tests/test_sso.py (the SSO stand-in, moto for STS, a
scripted browser), with the vault in gnome-keyring on a private D-Bus
session (tests/support/secret_service.py). What differs from the file
vault is where tokens, client registrations and role credentials rest:
here as keyring items, and nowhere under HOME in plaintext.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import AwsvRunner
from tests.support import secret_service as secret_service_support
from tests.support.moto_server import caller_arn, moto, moto_url  # noqa: F401
from tests.support.secret_service import SecretService
from tests.support.sso_server import SsoServer, sso, sso_server  # noqa: F401
from tests.support.sso_world import world  # noqa: F401

secret_service = secret_service_support.secret_service


@pytest.fixture
def keyring_world(world: dict[str, str], secret_service: SecretService) -> dict[str, str | None]:
    """tests/support/sso_world.py's world, with the vault in the Secret Service."""
    return {**secret_service.extra, "AWSV_FILE_PASSPHRASE": None, "AWSV_BACKEND": "keyring"}


def _keyring_items(secret_service: SecretService) -> list[str]:
    """The usernames (awsv's item names) of awsv's entries in the Secret Service."""
    found = secret_service.secret_tool("search", "--all", "service", "awsv")
    return sorted(
        line.split(" = ", 1)[1]
        for line in (found.stdout + found.stderr).splitlines()
        if line.startswith("attribute.username = ")
    )


def test_sso_sign_in_refresh_and_role_chain_on_the_keyring(
    keyring_world: dict[str, str | None],
    awsv: AwsvRunner,
    sso: SsoServer,
    moto: str,
    home: Path,
    secret_service: SecretService,
) -> None:
    env = keyring_world
    sso.role_credentials_lifetime = 120  # below awsv's minimum TTL: every call fetches anew
    signed = awsv("sso", "login", "--backend", "keyring", "prod", env=env, check=True)
    assert "signed in" in signed.stderr
    assert sso.approvals == 1

    # One token and one client registration (the browser flow's), keyed by the session's hash.
    items = _keyring_items(secret_service)
    assert [re.sub(r"/[0-9a-f]{40}", "/KEY", i) for i in items] == [
        "__awsv_index__",
        "sso-client/KEY/code",
        "sso-token/KEY",
    ], items

    first = json.loads(awsv("export", "--format", "credential-process", "prod", env=env, check=True).stdout)
    sso.expire_access_tokens()  # the next day: refreshed from the keyring's refresh token, no browser
    second = json.loads(awsv("export", "--format", "credential-process", "prod", env=env, check=True).stdout)
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert (sso.grants["refresh_token"], sso.approvals) == (1, 1)

    deploy = json.loads(awsv("export", "--format", "credential-process", "deploy", env=env, check=True).stdout)
    arn = caller_arn(moto, str(deploy["AccessKeyId"]), str(deploy["SecretAccessKey"]), str(deploy["SessionToken"]))
    assert ":assumed-role/deploy/" in arn

    secrets_ = sso.issued_secrets() | {str(c["SecretAccessKey"]) for c in (first, second, deploy)}
    leaks = [
        str(p)
        for p in home.rglob("*")
        if p.is_file() and not p.is_symlink() and any(s.encode() in p.read_bytes() for s in secrets_)
    ]
    assert leaks == []
    assert not (home / ".local" / "share" / "awsv" / "vault.awsv").exists()  # the file vault was never made

    out = awsv("sso", "logout", env=env, check=True)
    assert "signed out" in out.stderr
    assert [i for i in _keyring_items(secret_service) if i.startswith("sso-token/")] == []

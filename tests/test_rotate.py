"""`awsv rotate`: a new key is stored and verified before the old one is deleted.

Real components: the CLI as a subprocess (or `rotate_key` in-process where a
test needs the injected clock), the file vault, and a dedicated moto server
process in auth mode (`INITIAL_NO_AUTH_ACTION_COUNT=0`), so an unknown or
deleted key is really rejected: after a rotation the old key stops working.
Each test bootstraps its user with a few unauthenticated calls
(`/moto-api/reset-auth`). moto never fails on its own, so failures come from
fault-injecting proxies (tests/support/fault_proxy.py) in front of it: one
for STS and IAM as awsv is configured, and one that only the new key's
verification is sent to (through rotate_key's STS client factory), to make
"the new key does not work" happen after CreateAccessKey.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from awsv import sts
from awsv.commands.rotate import RotationFailed, rotate_key
from awsv.errors import AwsvError
from awsv.vault.items import LongTermKey, key_item_name
from tests.conftest import AwsvRunner
from tests.support import fault_proxy as _proxy
from tests.support import moto_server as _moto
from tests.support.fault_proxy import AwsvWorld, FaultProxy
from tests.support.moto_server import ACCOUNT_ID, REGION

if TYPE_CHECKING:
    import boto3

# pytest fixtures used by this module (the default-mode ones, for the MFA test)
moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world

USER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/alice"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": USER_ARN}, "Action": "sts:AssumeRole"}],
    }
)


# -- an auth-mode moto of our own ----------------------------------------------


def _post(url: str, body: bytes = b"") -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def auth_moto() -> Iterator[str]:
    """moto_server in its own process with authentication on from the first request."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AWSV_"))}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("moto_server (auth mode) did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def proxies(auth_moto: str) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    """(awsv's STS and IAM endpoint, the endpoint only the new key's verification uses)."""
    pair = (FaultProxy(auth_moto), FaultProxy(auth_moto))
    for proxy in pair:
        proxy.start()
    try:
        yield pair
    finally:
        for proxy in pair:
            proxy.stop()


def _session(key_id: str, secret: str) -> boto3.session.Session:
    import boto3

    return boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION)


def caller(url: str, key: LongTermKey) -> str:
    """Whose `key` is, per moto in auth mode; an unknown or deleted key raises ClientError."""
    client = _session(key.access_key_id, key.secret_access_key).client("sts", endpoint_url=url)
    return client.get_caller_identity()["Arn"]


def rejected(url: str, key: LongTermKey) -> bool:
    from botocore.exceptions import ClientError

    try:
        caller(url, key)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "InvalidClientTokenId"
    return False


def iam_keys(url: str, key: LongTermKey) -> list[str]:
    """alice's access key ids, asked with `key` (which must work)."""
    iam = _session(key.access_key_id, key.secret_access_key).client("iam", endpoint_url=url)
    return sorted(k["AccessKeyId"] for k in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"])


class RotateWorld(AwsvWorld):
    """An AwsvWorld on the auth-mode moto: alice (allowed everything) with her key in the vault."""

    def __init__(self, home: Path, env: dict[str, str], proxy: FaultProxy, verify_proxy: FaultProxy, moto: str) -> None:
        super().__init__(home, env, proxy, moto)
        self.verify_proxy = verify_proxy
        env.update(AWS_ENDPOINT_URL_IAM=proxy.url, AWSV_STS_MAX_ATTEMPTS="1")
        _post(f"{moto}/moto-api/reset")
        _post(f"{moto}/moto-api/reset-auth", b"4")  # the four bootstrap calls below
        admin = _session("bootstrap", "bootstrap").client("iam", endpoint_url=moto)
        admin.create_user(UserName="alice")
        admin.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=ALLOW_ALL)
        block = admin.create_access_key(UserName="alice")["AccessKey"]
        admin.create_role(RoleName="Reader", AssumeRolePolicyDocument=TRUST)
        self.old = LongTermKey(block["AccessKeyId"], block["SecretAccessKey"])
        self.ctx.vault.set(key_item_name("alice"), self.old.to_item())
        self.config(f"""
            [profile alice]
            region = {REGION}
            [profile reader]
            role_arn = arn:aws:iam::{ACCOUNT_ID}:role/Reader
            source_profile = alice
            [profile unrelated]
            role_arn = arn:aws:iam::{ACCOUNT_ID}:role/Other
            source_profile = nowhere
        """)
        for p in (proxy, verify_proxy):
            p.reset()

    def stored(self) -> LongTermKey:
        """The key in the vault now, read as a new process would."""
        self.new_process()
        item = self.ctx.vault.get(key_item_name("alice"))
        assert item is not None
        return LongTermKey.from_item(item)

    def verify_factory(self) -> sts.StsFactory:
        """STS clients as awsv makes them, sending only the new key's calls to verify_proxy."""
        normal = sts.make_factory(sts.ClientSettings(endpoint_url=self.proxy.url, max_attempts=1))
        verify = sts.make_factory(sts.ClientSettings(endpoint_url=self.verify_proxy.url, max_attempts=1))
        old_id = self.old.access_key_id
        return lambda creds, region: (normal if creds.access_key_id == old_id else verify)(creds, region)


@pytest.fixture
def rw(home: Path, env: dict[str, str], proxies: tuple[FaultProxy, FaultProxy], auth_moto: str) -> RotateWorld:
    return RotateWorld(home, env, proxies[0], proxies[1], auth_moto)


class FakeClock:
    """monotonic() and sleep() for the verification backoff, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    lines = proc.stderr.splitlines()
    assert all(line.startswith("awsv: ") for line in lines), proc.stderr
    return lines


# -- the happy path --------------------------------------------------------------------


def test_rotation_retires_the_old_key(rw: RotateWorld, awsv: AwsvRunner) -> None:
    old = rw.old
    cached = rw.get("reader")  # a role session made from the old key
    assert cached.credentials.session_token and len(rw.session_items()) == 1
    rw.proxy.reset()
    proc = awsv("rotate", "alice")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    new = rw.stored()
    assert new.access_key_id != old.access_key_id
    (line,) = _stderr_lines(proc)
    assert line == (
        f"awsv: rotated the key of 'alice' (user alice): {new.access_key_id} is stored "
        f"and works; {old.access_key_id} is deleted; 1 cached session(s) cleared"
    )
    assert caller(rw.moto_url, new) == USER_ARN
    assert rejected(rw.moto_url, old)  # auth mode: the deleted key really stops working
    assert iam_keys(rw.moto_url, new) == [new.access_key_id]
    assert rw.session_items() == {}
    assert [r.action for r in rw.proxy.requests] == [
        "GetCallerIdentity",
        "ListAccessKeys",
        "CreateAccessKey",
        "GetCallerIdentity",
        "DeleteAccessKey",
    ]
    assert rw.proxy.params("DeleteAccessKey")[0]["AccessKeyId"] == old.access_key_id
    for secret in (old.secret_access_key, new.secret_access_key):
        assert secret not in proc.stderr
    # The new key is what awsv now uses.
    assert awsv("whoami", "alice", "--no-session").returncode == 0


def test_verification_retries_while_iam_propagates(rw: RotateWorld) -> None:
    rw.verify_proxy.fail(
        "GetCallerIdentity",
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        status=403,
        times=2,
    )
    clock = FakeClock()
    result = rotate_key(
        rw.ctx, "alice", timeout=30, sleep=clock.sleep, monotonic=clock.monotonic, sts_factory=rw.verify_factory()
    )
    assert rw.verify_proxy.count("GetCallerIdentity") == 3
    assert clock.sleeps == [0.5, 1.0]
    assert result.old_key_id == rw.old.access_key_id and result.user == "alice"
    assert rejected(rw.moto_url, rw.old)
    assert rw.stored().access_key_id == result.new_key_id


# -- failures: the vault always holds a key that works ---------------------------------------


def test_two_key_limit_names_both_keys_and_changes_nothing(rw: RotateWorld, awsv: AwsvRunner) -> None:
    iam = _session(rw.old.access_key_id, rw.old.secret_access_key).client("iam", endpoint_url=rw.moto_url)
    extra = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    rw.proxy.reset()
    proc = awsv("rotate", "alice")
    assert proc.returncode == 1 and proc.stdout == ""
    error, hint = _stderr_lines(proc)
    assert error == (
        f"awsv: error: user alice already has two access keys, IAM's limit: "
        f"{rw.old.access_key_id} (stored in awsv for 'alice'), {extra}; nothing changed"
    )
    assert f"aws iam delete-access-key --user-name alice --access-key-id {extra}" in hint
    assert rw.proxy.count("CreateAccessKey") == 0
    assert rw.stored() == rw.old
    assert iam_keys(rw.moto_url, rw.old) == sorted([rw.old.access_key_id, extra])


def test_new_key_that_never_works_leaves_the_old_one_and_says_two_keys_exist(rw: RotateWorld) -> None:
    rw.verify_proxy.fail(
        "GetCallerIdentity",
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        status=403,
    )
    rw.proxy.fail("DeleteAccessKey", "ServiceUnavailable", "try later", status=503)
    clock = FakeClock()
    with pytest.raises(RotationFailed) as caught:
        rotate_key(
            rw.ctx, "alice", timeout=10, sleep=clock.sleep, monotonic=clock.monotonic, sts_factory=rw.verify_factory()
        )
    err = caught.value
    (new_id,) = set(iam_keys(rw.moto_url, rw.old)) - {rw.old.access_key_id}
    assert err.message == (
        f"the new key {new_id} did not work within 10s (GetCallerIdentity with the new key: AWS "
        "does not recognise the new key (InvalidClientTokenId)); the vault still holds the old key "
        f"{rw.old.access_key_id}, which works"
    )
    assert err.hint == (
        f"IAM now has two keys for user alice: {rw.old.access_key_id} (stored in awsv) and {new_id} "
        "(not stored, its secret is gone): delete the second with "
        f"`aws iam delete-access-key --user-name alice --access-key-id {new_id}`"
    )
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 2.5]  # bounded backoff, cut at the deadline
    assert rw.stored() == rw.old and caller(rw.moto_url, rw.old) == USER_ARN
    assert "\n" not in err.message and "\n" not in (err.hint or "")


def test_new_key_that_never_works_is_deleted_again(rw: RotateWorld) -> None:
    rw.verify_proxy.fail("GetCallerIdentity", "InvalidClientTokenId", "invalid", status=403)
    clock = FakeClock()
    with pytest.raises(RotationFailed) as caught:
        rotate_key(
            rw.ctx, "alice", timeout=1, sleep=clock.sleep, monotonic=clock.monotonic, sts_factory=rw.verify_factory()
        )
    (deleted,) = rw.proxy.params("DeleteAccessKey")
    assert deleted["AccessKeyId"] != rw.old.access_key_id
    assert caught.value.hint == (
        f"the new key {deleted['AccessKeyId']} was deleted again: IAM holds only {rw.old.access_key_id}, as before"
    )
    assert rw.stored() == rw.old
    assert iam_keys(rw.moto_url, rw.old) == [rw.old.access_key_id]


def test_failed_delete_of_the_old_key_keeps_the_new_one(rw: RotateWorld, awsv: AwsvRunner) -> None:
    rw.get("reader")
    rw.proxy.fail("DeleteAccessKey", "AccessDenied", "not allowed to delete keys", status=403)
    proc = awsv("rotate", "reader")  # a role profile rotates its source's key
    assert proc.returncode == 1 and proc.stdout == ""
    new = rw.stored()
    old_id = rw.old.access_key_id
    error, hint = _stderr_lines(proc)
    assert error.startswith(
        f"awsv: error: the new key {new.access_key_id} is stored for 'alice' "
        f"and works, but deleting the old key {old_id} failed (DeleteAccessKey"
    )
    assert hint == (
        f"awsv: hint: the old key still exists in IAM and still works: delete it with "
        f"`aws iam delete-access-key --user-name alice --access-key-id {old_id}`"
    )
    assert caller(rw.moto_url, new) == USER_ARN and caller(rw.moto_url, rw.old) == USER_ARN
    assert iam_keys(rw.moto_url, new) == sorted([old_id, new.access_key_id])
    assert rw.session_items() == {}  # sessions made from the old key are dropped anyway


def test_nothing_to_rotate_for_a_credential_process(rw: RotateWorld) -> None:
    rw.config("[profile ext]\ncredential_process = /bin/false\n")
    with pytest.raises(AwsvError, match="credential_process: awsv stores no key to rotate"):
        rotate_key(rw.ctx, "ext")
    assert rw.proxy.requests == []


# -- MFA (moto's default mode: its GetSessionToken credentials are refused in auth mode) ------


def test_mfa_profile_signs_the_iam_calls_with_an_mfa_session(world: AwsvWorld, awsv: AwsvRunner) -> None:
    world.env["AWS_ENDPOINT_URL_IAM"] = world.proxy.url
    mfa = f"arn:aws:iam::{ACCOUNT_ID}:mfa/base"
    world.config(f"""
        [profile base]
        mfa_serial = {mfa}
        [profile admin]
        role_arn = arn:aws:iam::111111111111:role/Admin
        source_profile = base
    """)
    old_id, old_secret = world.add_key("base", user="carol")
    proc = awsv("rotate", "admin", "--mfa-token", "123456")
    assert proc.returncode == 0, proc.stderr
    assert "rotated the key of 'base' (user carol)" in proc.stderr
    assert [r.action for r in world.proxy.requests] == [
        "GetCallerIdentity",
        "GetSessionToken",
        "ListAccessKeys",
        "CreateAccessKey",
        "GetCallerIdentity",
        "DeleteAccessKey",
    ]
    (session,) = world.proxy.params("GetSessionToken")
    assert session["SerialNumber"] == mfa and session["TokenCode"] == "123456"
    assert session["DurationSeconds"] == "900"
    assert all(p["UserName"] == "carol" for p in world.proxy.params("CreateAccessKey"))
    world.new_process()
    item = world.ctx.vault.get(key_item_name("base"))
    assert item is not None and item["access_key_id"] != old_id
    assert old_secret not in proc.stderr

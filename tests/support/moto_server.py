"""moto's server as a real HTTP endpoint for STS and IAM.

moto runs in a thread of the test process (`ThreadedMotoServer`, port 0 so
parallel runs never collide); clients reach it over real HTTP exactly as they
would reach AWS. Import the fixtures into a test module:

    from tests.support.moto_server import moto_url, moto  # noqa: F401  (pytest fixtures)

`moto_url` (session-scoped) is the server's base URL; `moto` (per test)
resets moto's state first, so users, keys and assumed roles never leak
between tests, and yields the same URL.
"""

from __future__ import annotations

import functools
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

#: Region every helper here uses; moto accepts any.
REGION = "us-east-1"
#: moto's default account id.
ACCOUNT_ID = "123456789012"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """Start moto's threaded server on a free port of 127.0.0.1 for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(url: str) -> None:
    """Forget every user, key and role (moto answers 500 without Content-Type text/plain)."""
    request = urllib.request.Request(
        f"{url}/moto-api/reset", data=b"", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status


@pytest.fixture
def moto(moto_url: str) -> str:
    """moto's URL, with its state reset before the test."""
    reset_moto(moto_url)
    return moto_url


@functools.cache
def admin_iam(url: str) -> IAMClient:
    """A boto3 IAM client on moto, with throwaway credentials (moto's default mode accepts any).

    Made once per URL: building one costs ~0.2 s.
    """
    import boto3

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client("iam", endpoint_url=url)


def create_user_with_key(url: str, name: str) -> tuple[str, str]:
    """Create IAM user `name` with an access key over real HTTP; returns (key id, secret)."""
    iam = admin_iam(url)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def caller_arn(url: str, access_key_id: str, secret: str, token: str | None) -> str:
    """GetCallerIdentity on moto with the given credentials: whose they are."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=access_key_id, aws_secret_access_key=secret, aws_session_token=token, region_name=REGION
    )
    return session.client("sts", endpoint_url=url).get_caller_identity()["Arn"]

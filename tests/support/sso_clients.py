"""boto3's own sso-oidc and sso clients, pointed at the stand-in: what the AWS tools would send.

Unsigned (these APIs take no AWS signature) and without retries, so an
error the stand-in sends reaches the test at once.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config


def clients(url: str) -> tuple[Any, Any]:
    session = boto3.session.Session(region_name="eu-west-1")
    config = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
    return (
        session.client("sso-oidc", endpoint_url=url, config=config),
        session.client("sso", endpoint_url=url, config=config),
    )


def register(oidc: Any, **extra: Any) -> dict[str, Any]:
    return oidc.register_client(clientName="test", clientType="public", scopes=["sso:account:access"], **extra)

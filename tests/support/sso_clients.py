"""boto3's own sso-oidc and sso clients, pointed at the stand-in: what the AWS tools would send.

Unsigned (these APIs take no AWS signature) and without retries, so an
error the stand-in sends reaches the test at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

if TYPE_CHECKING:
    from tests.support.sso_server import SsoServer


def clients(url: str) -> tuple[Any, Any]:
    session = boto3.session.Session(region_name="eu-west-1")
    config = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})
    return (
        session.client("sso-oidc", endpoint_url=url, config=config),
        session.client("sso", endpoint_url=url, config=config),
    )


def register(oidc: Any, **extra: Any) -> dict[str, Any]:
    registered: dict[str, Any] = oidc.register_client(
        clientName="test", clientType="public", scopes=["sso:account:access"], **extra
    )
    return registered


def device_token(sso: SsoServer, oidc: Any, reg: dict[str, Any], start_url: str) -> dict[str, Any]:
    """A token as the AWS tools get one by the device code, the user approving at once."""
    from tests.support.sso_server import DEVICE_GRANT

    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=start_url
    )
    sso.approve_device(auth["userCode"])
    token: dict[str, Any] = oidc.create_token(
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        grantType=DEVICE_GRANT,
        deviceCode=auth["deviceCode"],
    )
    return token

"""The world of the SSO tests: a config with an sso-session, its SSO profile and a role on top.

`world` points awsv at the IAM Identity Center stand-in (tests/support/sso_server.py)
for sign-in and at moto for STS, and makes the scripted browser of
tests/support/sso_browser.py the user's `$BROWSER`, logging each launch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.sso_server import SsoServer

BROWSER_SCRIPT = Path(__file__).parent / "sso_browser.py"


START_URL = "https://example.awsapps.com/start"


CONFIG = f"""# my own comment
[sso-session corp]
sso_start_url = {START_URL}
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile prod]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin
region = eu-west-1

[profile deploy]
role_arn = arn:aws:iam::111111111111:role/deploy
source_profile = prod
"""


@pytest.fixture
def world(home: Path, env: dict[str, str], sso: SsoServer, moto: str) -> dict[str, str]:
    (home / ".aws" / "config").write_text(CONFIG)
    env.update(
        AWS_ENDPOINT_URL_SSO_OIDC=sso.url,
        AWS_ENDPOINT_URL_SSO=sso.url,
        AWS_ENDPOINT_URL_STS=moto,
        BROWSER=f"{sys.executable} {BROWSER_SCRIPT}",
        SSO_BROWSER_LOG=str(home / "browser.log"),
        AWSV_SSO_SIGNIN_TIMEOUT="60",
    )
    return env

"""The world of `awsv use`: one HOME, one file vault, one moto user, and real shells to eval in.

`make_world` resets moto's server, creates IAM user alice with a key and
stores it as profile `base` through `awsv add --env`; `World.shell` runs a
script in a real bash, zsh or fish without rc files. Creating the vault costs
an Argon2 derivation per process, so each test module makes one world
(the module-scoped `world` fixture) and its tests share it.

Also here: the README's contract of what `awsv use` sets and unsets, and
`assert_session_contract`, which checks every variable of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE, AwsvRunner, base_env
from tests.support.moto_server import ACCOUNT_ID, create_user_with_key, reset_moto

#: The contract (the README's "Using the credentials": what `awsv use PROFILE` changes in the shell),
#: written out here independently of awsv.environment so the test checks the
#: design, not the implementation's own list.
SET_BY_USE = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWSV_PROFILE",
    "AWSV_ACCOUNT",
    "AWSV_EXPIRES",
    "AWS_VAULT",
)

UNSET_BY_USE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN")

CONTRACT = SET_BY_USE + UNSET_BY_USE

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"

#: Values full of shell syntax: they must arrive in the environment byte for
#: byte. (They come from a credential_process: region and profile names cannot
#: carry them, botocore and awsv refuse those. Newlines, spaces and non-ASCII
#: text are refused in credentials since issue 12, see tests/hardening; the
#: shells layer itself is fuzzed with them in tests/hardening/test_shell_fuzz.py.)
NASTY_SECRET = "$(touch${IFS}pwned)'\";`touch${IFS}pwned2`\\!x%s{a,b}~*"

NASTY_TOKEN = "line1\\nline2'$HOME\"$(id)"

NASTY_SCRIPT = """\
import json
print(json.dumps({"Version": 1, "AccessKeyId": "ASIANASTYNASTYNASTY1", "SecretAccessKey": %r,
                  "SessionToken": %r, "Expiration": "2999-01-01T00:00:00Z"}))
""" % (NASTY_SECRET, NASTY_TOKEN)  # noqa: UP031 - the script's own braces make % the readable choice

CONFIG = f"""\
[profile base]
region = eu-west-1

[profile admin]
role_arn = {ROLE_ARN}
source_profile = base
region = us-east-2

[profile nasty]
credential_process = {{python}} {{home}}/nasty_creds.py
region = eu-north-1
"""

#: Python that writes its environment as JSON to the file named by argv[1].
DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"

#: Shell prelude: `awsv` and `dump` (the shell's environment -> JSON file).
POSIX_PRELUDE = """\
awsv() { command "$AWSV_TEST_PY" -m awsv "$@"; }
dump() { command "$AWSV_TEST_PY" -c "$AWSV_TEST_DUMP" "$1"; }
"""

FISH_PRELUDE = """\
function awsv; command $AWSV_TEST_PY -m awsv $argv; end
function dump; command $AWSV_TEST_PY -c $AWSV_TEST_DUMP $argv[1]; end
"""


@dataclass
class World:
    """One temporary HOME with a vault holding the key of moto user `alice` as profile `base`."""

    home: Path
    env: dict[str, str]
    awsv: AwsvRunner
    moto: str
    key_id: str
    secret: str

    def shell(
        self, shell: str, script: str, *, extra_env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `script` in a real bash, zsh or fish (no rc files, no terminal)."""
        argv = {
            "bash": ["bash", "--noprofile", "--norc", "-c"],
            "zsh": ["zsh", "-f", "-c"],
            "fish": ["fish", "--no-config", "-c"],
        }[shell]
        prelude = FISH_PRELUDE if shell == "fish" else POSIX_PRELUDE
        env = {**self.env, "AWSV_TEST_PY": sys.executable, "AWSV_TEST_DUMP": DUMP_ENV, **(extra_env or {})}
        return subprocess.run(
            [*argv, prelude + script],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd or self.home,
            timeout=60,
            start_new_session=True,
        )


def make_world(tmp_path_factory: pytest.TempPathFactory, moto: str, config: str = CONFIG) -> World:
    """Reset moto, create user alice with a key, store it as `base` with `awsv add --env`."""
    reset_moto(moto)
    home = tmp_path_factory.mktemp("world") / "home"
    (home / ".aws").mkdir(parents=True)
    (home / "run").mkdir(mode=0o700)
    (home / ".aws" / "config").write_text(config.format(python=sys.executable, home=home))
    (home / "nasty_creds.py").write_text(NASTY_SCRIPT)
    env = base_env(home)
    env.update(AWSV_FILE_PASSPHRASE=TEST_PASSPHRASE, AWS_ENDPOINT_URL=moto)
    runner = AwsvRunner(env)
    key_id, secret = create_user_with_key(moto, "alice")
    r = runner("add", "--env", "base", env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
    assert r.returncode == 0, r.stderr
    return World(home, env, runner, moto, key_id, secret)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> World:
    return make_world(tmp_path_factory, moto_url)


def load(path: Path) -> dict[str, str]:
    return json.loads(path.read_text())


def assert_session_contract(env: dict[str, str], profile: str, region: str) -> None:
    """Every variable of the contract has the value the README promises."""
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert len(env["AWS_SECRET_ACCESS_KEY"]) >= 16
    assert len(env["AWS_SESSION_TOKEN"]) > 20 and env["AWS_SESSION_TOKEN"] != "stale-token"
    expiration = env["AWS_CREDENTIAL_EXPIRATION"]
    assert expiration.endswith("+00:00")
    assert env["AWS_SESSION_EXPIRATION"] == expiration
    assert env["AWSV_EXPIRES"].isdigit()
    assert int(env["AWSV_EXPIRES"]) == int(datetime.fromisoformat(expiration).timestamp())
    assert time.time() + 3000 < int(env["AWSV_EXPIRES"]) <= time.time() + 3600 + 5
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == region
    assert env["AWSV_PROFILE"] == env["AWS_VAULT"] == profile
    assert env["AWSV_ACCOUNT"] == ACCOUNT_ID
    for name in UNSET_BY_USE:
        assert name not in env, name


BEFORE = (
    "export AWS_ACCESS_KEY_ID=AKIABEFOREBEFORE1234 AWS_SECRET_ACCESS_KEY=before-secret "
    "AWS_SESSION_TOKEN=before-token AWS_PROFILE=keep-me AWSV_PROFILE=earlier AWS_REGION=sa-east-1\n"
)

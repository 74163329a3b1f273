"""Running awsv's hot paths under `-X importtime` and reading back what they loaded.

`Hot.run` starts `python -X importtime -m awsv ARGS` in a world made by
`setup_world` (a HOME whose vault holds moto user's key as `base`, with the
role profile `admin` on top) and returns its stdout and the set of modules it
imported. `forbidden_in` names the heavy modules among them (boto3, keyring,
cryptography, ...), `not_on_fast_path` those the fast path must not need
(argparse, the config parser, the full CLI).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import AwsvRunner, base_env
from tests.support.moto_server import create_user_with_key

FORBIDDEN = (
    "boto3",
    "botocore",
    "keyring",
    "jeepney",
    "secretstorage",
    "rich",
    "cryptography",
    "importlib.metadata",
    "importlib_metadata",
    "pkg_resources",
    "shellingham",
    "awsv.vault.file",
    "awsv.vault.file_format",
    "awsv.vault.keyring_store",
)


CONFIG = """\
[profile base]
region = eu-west-1

[profile admin]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = base
region = us-east-2
"""


def imported_modules(stderr: str) -> set[str]:
    """Module names from `-X importtime` lines: `import time: self | cumulative | name`."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name)
    return names


#: What the fast path (awsv.fastpath, the agent answering from its cache) never loads.
FULL_CLI_ONLY = (
    "argparse",
    "configparser",
    "awsv.cli",
    "awsv.config",
    "awsv.sessions",
    "awsv.commands",
    "awsv.context",
)


def not_on_fast_path(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FULL_CLI_ONLY))


def forbidden_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


class Hot:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.awsv = AwsvRunner(env)

    def run(self, args: list[str], extra: dict[str, str] | None = None) -> tuple[str, set[str]]:
        import subprocess

        r = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "awsv", *args],
            capture_output=True,
            text=True,
            env={**self.env, **(extra or {})},
            timeout=60,
            start_new_session=True,
            check=False,
        )
        assert r.returncode == 0, r.stderr[-3000:]
        modules = imported_modules(r.stderr)
        assert "awsv.entry" in modules  # the parse really saw awsv's imports
        return r.stdout, modules


def setup_world(home: Path, moto_url: str, extra: dict[str, str]) -> Hot:
    (home / ".aws" / "config").write_text(CONFIG)
    env = base_env(home)
    env.update(AWS_ENDPOINT_URL=moto_url, AWSV_AGENT="auto", **extra)
    hot = Hot(home, env)
    key_id, secret = create_user_with_key(moto_url, f"hot-{home.parent.name}")
    r = hot.awsv("add", "base", input=f"{key_id}\n{secret}\n")
    assert r.returncode == 0, r.stderr
    return hot

"""A HOME where `awsv` is a program on PATH, as a user has it, with STS on moto.

For the tests where another program (the AWS CLI, a credential_process
line in the config) runs awsv by name. `QUICK` bounds each command: a hang
or a growing chain of processes ends in TimeoutExpired instead of a stuck
test, far from any timing assertion.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_PASSPHRASE, AwsvRunner, base_env
from tests.support.moto_server import create_user_with_key

#: Well under what a growing process chain would take, and far from a timing assertion:
#: a hang or a chain of processes ends in TimeoutExpired.
QUICK = 20


class Home:
    """A HOME with the config, an `awsv` program on PATH, and STS on moto."""

    def __init__(self, home: Path, moto_url: str, config: str) -> None:
        self.home = home
        (home / ".aws" / "config").write_text(config)
        bin_dir = home / "bin"
        bin_dir.mkdir()
        program = bin_dir / "awsv"
        program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m awsv "$@"\n')
        program.chmod(0o755)
        self.env = base_env(home)
        self.env.update(
            AWSV_FILE_PASSPHRASE=TEST_PASSPHRASE,
            AWS_ENDPOINT_URL=moto_url,
            PATH=f"{bin_dir}{os.pathsep}{self.env.get('PATH', '')}",
        )
        self.awsv = AwsvRunner(self.env)
        self.moto = moto_url

    def add_key(self, profile: str, user: str) -> str:
        key_id, secret = create_user_with_key(self.moto, user)
        r = self.awsv("add", "--env", profile, env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
        assert r.returncode == 0, r.stderr
        return key_id

    def aws(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The AWS CLI; the roles of the verbatim config set no region, so the CLI gets one here."""
        return subprocess.run(
            ["aws", *args, "--output", "json"],
            capture_output=True,
            text=True,
            env={**self.env, "AWS_DEFAULT_REGION": "us-east-1", **(env or {})},
            timeout=QUICK,
            start_new_session=True,
        )

"""Fixtures every test can use: an isolated HOME and a way to run the real CLI.

Each test gets its own HOME, XDG directories and AWS config paths, so nothing
on the developer's machine is read or written. The CLI runs as a real
subprocess (`python -m awsv`) so tests see exactly what a user sees: exit codes,
stdout as a protocol, stderr messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

import pytest

REPO = Path(__file__).resolve().parent.parent
HELPER = REPO / "helper"

TEST_PASSPHRASE = "correct horse battery staple"

# Variables from the developer's own environment that would leak into tests.
_SCRUB_PREFIXES = (
    "AWS_",
    "AWSV_",
    "PYTHON_KEYRING",
    "XDG_",
    "DBUS_SESSION",
    "DISPLAY",
    "WAYLAND_DISPLAY",
)  # no test may open a dialog on a real desktop


def base_env(home: Path) -> dict[str, str]:
    """A clean environment rooted at `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES)}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_RUNTIME_DIR=str(home / "run"),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(HELPER),
        LC_ALL="C.UTF-8",
        # No vault agent unless a test asks for one: agents outlive the command
        # that started them, and would make later commands skip the passphrase.
        AWSV_AGENT="off",
    )
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh HOME with ~/.aws and a private runtime dir."""
    h = tmp_path / "home"
    (h / ".aws").mkdir(parents=True)
    (h / "run").mkdir(mode=0o700)
    return h


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """Environment for the CLI, with the file vault's passphrase from the environment."""
    e = base_env(home)
    e["AWSV_FILE_PASSPHRASE"] = TEST_PASSPHRASE
    return e


class RunOptions(TypedDict, total=False):
    """The keyword arguments of `AwsvRunner.__call__`, for helpers that pass them on."""

    input: str | None
    env: Mapping[str, str | None] | None
    check: bool | None
    timeout: float


class AwsvRunner:
    """Runs `python -m awsv` as a user would, capturing everything."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        check: bool | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """`env` adds to the runner's environment; a None value unsets that variable."""
        run_env = dict(self.env)
        for key, value in (env or {}).items():
            if value is None:
                run_env.pop(key, None)
            else:
                run_env[key] = value
        proc = subprocess.run(
            [sys.executable, "-m", "awsv", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=run_env,
            timeout=timeout,
            start_new_session=True,  # no controlling terminal: /dev/tty is unavailable
        )
        if check is True and proc.returncode != 0:
            raise AssertionError(f"awsv {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc


@pytest.fixture
def awsv(env: dict[str, str]) -> AwsvRunner:
    """Call as `awsv("list", "--json")`; returns a CompletedProcess."""
    return AwsvRunner(env)

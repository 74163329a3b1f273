"""Where awsv keeps its files, with the environment injected for tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The file vault's directory: AWSV_FILE_DIR, else $XDG_DATA_HOME/awsv."""
    if env.get("AWSV_FILE_DIR"):
        return Path(env["AWSV_FILE_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(_home(env) / ".local" / "share")
    return Path(base) / "awsv"


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """awsv's own settings: $XDG_CONFIG_HOME/awsv (default ~/.config/awsv)."""
    base = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return Path(base) / "awsv"


def aws_config_file(env: Mapping[str, str] = os.environ) -> Path:
    """The AWS config file, as botocore finds it."""
    return Path(env.get("AWS_CONFIG_FILE") or str(_home(env) / ".aws" / "config")).expanduser()


def aws_credentials_file(env: Mapping[str, str] = os.environ) -> Path:
    """The plaintext AWS credentials file, as botocore finds it."""
    raw = env.get("AWS_SHARED_CREDENTIALS_FILE") or str(_home(env) / ".aws" / "credentials")
    return Path(raw).expanduser()

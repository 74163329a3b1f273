"""awsv's own settings: which backend, read from flags, environment, then a file.

The file is `~/.config/awsv/config` (INI, section `[awsv]`), so a user can
choose the keyring once instead of exporting a variable in every shell.
"""

from __future__ import annotations

from collections.abc import Mapping

from awsv.errors import ConfigError, UsageError
from awsv.paths import config_dir
from awsv.safe_read import read_text_file
from awsv.vault import BACKENDS, find_backend

DEFAULT_BACKEND = "file"
#: The settings file holds a handful of lines; anything larger is refused (README, "Limits").
MAX_SETTINGS_BYTES = 64 * 1024


def settings_file_values(env: Mapping[str, str]) -> Mapping[str, str]:
    """The `[awsv]` section of the settings file, or {} when there is no file."""
    path = config_dir(env) / "config"
    try:
        text = read_text_file(path, what="awsv settings", max_bytes=MAX_SETTINGS_BYTES)
    except FileNotFoundError:
        return {}
    import configparser  # only when there is a settings file (most users have none)

    parser = configparser.RawConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(f"cannot read awsv settings {path}: {str(exc).splitlines()[0]}") from None
    return dict(parser.items("awsv")) if parser.has_section("awsv") else {}


def choose_backend(flag: str | None, env: Mapping[str, str]) -> str:
    """--backend, else AWSV_BACKEND, else AWS_VAULT_BACKEND, else the settings file, else file."""
    origin = "--backend"
    value = flag
    for var in ("AWSV_BACKEND", "AWS_VAULT_BACKEND"):
        if not value and env.get(var):
            value, origin = env[var], var
    if not value:
        value = settings_file_values(env).get("backend")
        origin = f"backend in {config_dir(env) / 'config'}"
    value = (value or DEFAULT_BACKEND).strip().lower()
    backend = find_backend(value)  # also aws-vault's names for the OS keyring
    if backend is None:
        raise UsageError(f"unknown backend {value!r} (from {origin})", hint=f"choose one of: {', '.join(BACKENDS)}")
    return backend.name

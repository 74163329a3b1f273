"""The key commands end to end with `--backend keyring` on a real Secret Service.

gnome-keyring runs unlocked in a private D-Bus session (tests/support/secret_service.py);
the CLI is the real `python -m awsv` process.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import AwsvRunner
from tests.support import secret_service as secret_service_support
from tests.support.keys import CREDENTIALS, KEY_ID, SECRET, SECRET2
from tests.support.secret_service import SecretService

secret_service = secret_service_support.secret_service


def test_add_list_import_remove_with_keyring(awsv: AwsvRunner, home: Path, secret_service: SecretService) -> None:
    env = {**secret_service.extra, "AWSV_FILE_PASSPHRASE": None, "AWSV_BACKEND": "keyring"}
    r = awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env=env)
    assert r.returncode == 0, r.stderr
    assert "keyring vault" in r.stderr
    stored = secret_service.secret_tool("lookup", "service", "awsv", "username", "key/prod")
    assert json.loads(stored.stdout)["secret_access_key"] == SECRET

    creds = home / ".aws" / "credentials"
    creds.write_text(CREDENTIALS.split("[temp]")[0].replace("[default]", "[dev]"))
    r = awsv("import", "--delete-plaintext", env=env)
    assert r.returncode == 0, r.stderr
    assert SECRET2 not in creds.read_text()

    rows = {row["profile"]: row for row in json.loads(awsv("list", "--json", env=env, check=True).stdout)}
    assert rows["prod"]["key_stored"] and rows["dev"]["key_stored"] and rows["work"]["key_stored"]

    # --backend on the command line wins over the environment
    r = awsv("--backend", "file", "list", "--json", env={**env, "AWSV_FILE_PASSPHRASE": "pw"})
    assert r.returncode == 0 and json.loads(r.stdout) == []

    assert awsv("remove", "prod", "--force", env=env).returncode == 0
    gone = secret_service.secret_tool("lookup", "service", "awsv", "username", "key/prod")
    assert gone.stdout == ""
    # no file awsv wrote holds a secret (the keyring's own file is encrypted by gnome-keyring)
    leaks = [
        p
        for p in home.rglob("*")
        if p.is_file() and (SECRET.encode() in p.read_bytes() or SECRET2.encode() in p.read_bytes())
    ]
    assert leaks == []


def test_settings_file_chooses_keyring(awsv: AwsvRunner, home: Path, secret_service: SecretService) -> None:
    (home / ".config" / "awsv").mkdir(parents=True)
    (home / ".config" / "awsv" / "config").write_text("[awsv]\nbackend = keyring\n")
    env = {**secret_service.extra, "AWSV_FILE_PASSPHRASE": None}
    assert awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env=env).returncode == 0
    assert secret_service.secret_tool("lookup", "service", "awsv", "username", "key/prod").stdout


def test_aws_vault_backend_name_maps_to_keyring(awsv: AwsvRunner, secret_service: SecretService) -> None:
    env = {**secret_service.extra, "AWSV_FILE_PASSPHRASE": None, "AWS_VAULT_BACKEND": "secret-service"}
    assert awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env=env).returncode == 0
    assert secret_service.secret_tool("lookup", "service", "awsv", "username", "key/prod").stdout


def test_plaintext_keyring_refused(awsv: AwsvRunner) -> None:
    r = awsv("--backend", "keyring", "list", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert r.returncode == 1
    assert r.stderr.startswith("awsv: error: ") and "Traceback" not in r.stderr
    assert "--backend file" in r.stderr

"""Every failure a user can cause: one line on stderr, the right exit code, nothing changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import AwsvRunner
from tests.support.keys import KEY_ID, SECRET, add


def vault_file(home: Path) -> Path:
    return home / ".local" / "share" / "awsv" / "vault.awsv"


def assert_one_clean_error(stderr: str) -> None:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("awsv: error: "), stderr
    assert all(ln.startswith(("awsv: error: ", "awsv: hint: ")) for ln in lines), stderr
    assert len([ln for ln in lines if ln.startswith("awsv: error: ")]) == 1
    assert "Traceback" not in stderr and SECRET not in stderr


def test_wrong_passphrase(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    before = vault_file(home).read_bytes()
    r = awsv("add", "prod2", input=f"{KEY_ID}\n{SECRET}\n", env={"AWSV_FILE_PASSPHRASE": "wrong"})
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert "passphrase" in r.stderr
    assert vault_file(home).read_bytes() == before


def test_flipped_byte(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    data = bytearray(vault_file(home).read_bytes())
    data[len(data) // 2] ^= 0x01
    vault_file(home).write_bytes(bytes(data))
    r = awsv("list")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert "failed its integrity check" in r.stderr or "modified or damaged" in r.stderr
    assert vault_file(home).read_bytes() == bytes(data)


@pytest.mark.parametrize("keep", [0, 3, 20, 90])
def test_truncated_vault(awsv: AwsvRunner, home: Path, keep: int) -> None:
    add(awsv, "prod")
    data = vault_file(home).read_bytes()[:keep]
    vault_file(home).write_bytes(data)
    r = awsv("add", "other", input=f"{KEY_ID}\n{SECRET}\n")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert vault_file(home).read_bytes() == data


def test_vault_directory_too_open(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    os.chmod(vault_file(home).parent, 0o755)
    r = awsv("list")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert "chmod" in r.stderr


def test_vault_file_too_open(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    os.chmod(vault_file(home), 0o644)
    r = awsv("list")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)


def test_unwritable_directory(awsv: AwsvRunner, home: Path) -> None:
    """A data directory awsv cannot create (a file in its way) is one clear error."""
    (home / ".local").mkdir()
    (home / ".local" / "share").write_text("not a directory")
    r = add(awsv, "prod")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)


def test_broken_config(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text("[profile a]\nregion = x\nregion = y\n")
    r = awsv("list", "--names")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert str(home / ".aws" / "config") in r.stderr


def test_source_profile_loop_in_list(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text(
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
    )
    r = awsv("list")
    assert r.returncode == 0
    assert "source_profile loop: a -> b -> a" in r.stdout


def test_no_passphrase_source(awsv: AwsvRunner) -> None:
    r = awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env={"AWSV_FILE_PASSPHRASE": None})
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert "AWSV_PASSPHRASE_COMMAND" in r.stderr


def test_usage_error_exit_code(awsv: AwsvRunner) -> None:
    r = awsv("frobnicate")
    assert r.returncode == 2
    r = awsv("add")
    assert r.returncode == 2


def test_unknown_backend(awsv: AwsvRunner) -> None:
    r = awsv("list", env={"AWSV_BACKEND": "plaintext"})
    assert r.returncode == 2
    assert "unknown backend 'plaintext' (from AWSV_BACKEND)" in r.stderr


def test_debug_shows_traceback(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text("garbage\n")
    r = awsv("list", "--names", env={"AWSV_DEBUG": "1"})
    assert r.returncode == 1 and "Traceback" in r.stderr

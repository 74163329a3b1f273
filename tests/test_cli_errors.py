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
    assert r.stderr == (
        f"awsv: error: wrong passphrase (from AWSV_FILE_PASSPHRASE) for the vault {vault_file(home)}\n"
        "awsv: hint: check AWSV_FILE_PASSPHRASE: it holds an old or another vault's passphrase? unset it to be"
        " asked on the terminal; a damaged salt or header also shows up this way\n"
    )
    assert vault_file(home).read_bytes() == before


def test_flipped_byte(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    data = bytearray(vault_file(home).read_bytes())
    data[len(data) // 2] ^= 0x01
    vault_file(home).write_bytes(bytes(data))
    r = awsv("list")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert r.stderr == (
        f"awsv: error: the vault {vault_file(home)} failed its integrity check:"
        " the vault failed authentication (modified or damaged)\n"
        "awsv: hint: restore it from a backup; awsv will not overwrite it\n"
    )
    assert vault_file(home).read_bytes() == bytes(data)


@pytest.mark.parametrize(
    ("keep", "why"),
    [
        (0, "the vault file is empty"),
        (3, "the vault file is truncated"),
        (20, "the vault file is truncated or has a wrong length"),
        (90, "the vault file is truncated or has a wrong length"),
    ],
)
def test_truncated_vault(awsv: AwsvRunner, home: Path, keep: int, why: str) -> None:
    add(awsv, "prod")
    data = vault_file(home).read_bytes()[:keep]
    vault_file(home).write_bytes(data)
    r = awsv("add", "other", input=f"{KEY_ID}\n{SECRET}\n")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert r.stderr == (
        f"awsv: error: the vault {vault_file(home)} failed its integrity check: {why}\n"
        "awsv: hint: restore it from a backup; awsv will not overwrite it\n"
    )
    assert vault_file(home).read_bytes() == data


def test_vault_directory_too_open(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    os.chmod(vault_file(home).parent, 0o755)
    r = awsv("list")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    directory = vault_file(home).parent
    assert r.stderr == (
        f"awsv: error: the vault directory {directory} is accessible by other users (mode 0755)\n"
        f"awsv: hint: chmod 700 {directory}\n"
    )


def test_vault_file_too_open(awsv: AwsvRunner, home: Path) -> None:
    add(awsv, "prod")
    os.chmod(vault_file(home), 0o644)
    r = awsv("list")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert r.stderr == (
        f"awsv: error: the vault file {vault_file(home)} is accessible by other users (mode 0644)\n"
        f"awsv: hint: chmod 600 {vault_file(home)}\n"
    )


def test_unwritable_directory(awsv: AwsvRunner, home: Path) -> None:
    """A data directory awsv cannot create (a file in its way) is one clear error."""
    (home / ".local").mkdir()
    (home / ".local" / "share").write_text("not a directory")
    r = add(awsv, "prod")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert r.stderr == f"awsv: error: cannot read the vault {vault_file(home)}: Not a directory\n"


def test_broken_config(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text("[profile a]\nregion = x\nregion = y\n")
    r = awsv("list", "--names")
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    config = home / ".aws" / "config"
    # The rest of the line is configparser's own wording (it names the line).
    assert r.stderr.startswith(f"awsv: error: {config}: While reading from '{config}' [line  3]: ")
    assert r.stderr.endswith(": option 'region' in section 'profile a' already exists\n")


def test_source_profile_loop_in_list(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text(
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
    )
    r = awsv("list")
    assert r.returncode == 0 and r.stderr == ""
    rows = [line.split(None, 1) for line in r.stdout.splitlines()[1:]]
    assert [name for name, _ in rows] == ["a", "b"]
    assert all(rest.startswith("error (source_profile loop: a -> b -> a)") for _, rest in rows), r.stdout


def test_no_passphrase_source(awsv: AwsvRunner) -> None:
    r = awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env={"AWSV_FILE_PASSPHRASE": None})
    assert r.returncode == 1
    assert_one_clean_error(r.stderr)
    assert r.stderr == (
        "awsv: error: the vault passphrase is needed but there is no terminal to ask on\n"
        "awsv: hint: set AWSV_PASSPHRASE_COMMAND (e.g. a password manager lookup), run in a terminal,"
        " or install zenity or kdialog for a dialog on the desktop\n"
    )


def test_usage_error_exit_code(awsv: AwsvRunner) -> None:
    r = awsv("frobnicate")
    assert r.returncode == 2 and r.stdout == ""
    first, hint = r.stderr.splitlines()
    assert first.startswith("awsv: error: argument COMMAND: invalid choice: 'frobnicate' (choose from 'add', ")
    assert hint == "awsv: hint: `awsv --help` shows the usage"
    r = awsv("add")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (
        "awsv: error: add: the following arguments are required: profile\n"
        "awsv: hint: `awsv add --help` shows the usage\n"
    )


def test_unknown_backend(awsv: AwsvRunner) -> None:
    r = awsv("list", env={"AWSV_BACKEND": "plaintext"})
    assert r.returncode == 2
    assert r.stderr == (
        "awsv: error: unknown backend 'plaintext' (from AWSV_BACKEND)\nawsv: hint: choose one of: file, keyring\n"
    )


def test_debug_shows_traceback(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text("garbage\n")
    r = awsv("list", "--names", env={"AWSV_DEBUG": "1"})
    assert r.returncode == 1 and "Traceback" in r.stderr

"""`awsv add`, `list`, `remove`, `import` against the real file vault, as a user runs them.

Every call is a real `python -m awsv` process with an isolated HOME; the
vault is the real encrypted file under it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import AwsvRunner
from tests.support.keys import CREDENTIALS, KEY_ID, KEY_ID2, SECRET, SECRET2, add


def all_bytes_under(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_add_then_list(awsv: AwsvRunner, home: Path) -> None:
    (home / ".aws" / "config").write_text("[profile prod]\nregion = eu-west-1\n[profile other]\n")
    r = add(awsv, "prod")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""  # stdout is a protocol: messages go to stderr
    assert "stored the key for 'prod'" in r.stderr
    r = awsv("list", "--json", check=True)
    rows = {row["profile"]: row for row in json.loads(r.stdout)}
    assert rows["prod"]["key_stored"] is True and rows["prod"]["region"] == "eu-west-1"
    assert rows["other"]["key_stored"] is False
    table = awsv("list", check=True).stdout
    assert "prod" in table and "vault key" in table and "eu-west-1" in table
    assert awsv("list", "--names", check=True).stdout.split() == ["other", "prod"]  # alphabetical


def test_secret_never_written_in_plaintext(awsv: AwsvRunner, home: Path) -> None:
    assert add(awsv, "prod", "--add-config").returncode == 0
    awsv("list", check=True)
    found = [p for p, data in all_bytes_under(home) if SECRET.encode() in data or KEY_ID.encode() in data]
    assert found == []
    vault_dir = home / ".local" / "share" / "awsv"
    vault_files = list(vault_dir.iterdir())
    assert vault_files, "the vault was created"
    assert stat.S_IMODE(vault_dir.stat().st_mode) == 0o700
    for f in vault_files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert b"prod" not in f.read_bytes()  # not even the profile name


def test_add_from_env_and_add_config(awsv: AwsvRunner, home: Path) -> None:
    r = awsv("add", "--env", "dev", "--add-config", env={"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert r.returncode == 0, r.stderr
    config = (home / ".aws" / "config").read_text()
    assert "[profile dev]" in config
    # a second --add-config does not duplicate the section
    r = awsv(
        "add",
        "--env",
        "dev",
        "--add-config",
        "--force",
        env={"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET},
    )
    assert r.returncode == 0, r.stderr
    assert (home / ".aws" / "config").read_text().count("[profile dev]") == 1


def test_overwrite_needs_force(awsv: AwsvRunner) -> None:
    add(awsv, "prod")
    r = add(awsv, "prod", key_id=KEY_ID2, secret=SECRET2)
    assert r.returncode == 1
    assert "already stored" in r.stderr and "--force" in r.stderr
    r = add(awsv, "prod", "--force", key_id=KEY_ID2, secret=SECRET2)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("lines", "status", "stderr"),
    [
        (
            "",
            2,
            (
                "awsv: error: expected the Access Key ID and the Secret Access Key on two lines of stdin\n"
                "awsv: hint: or run `awsv add` in a terminal to be prompted, or use --env\n"
            ),
        ),
        (
            f"not-a-key\n{SECRET}\n",
            1,
            "awsv: error: the Access Key ID does not look like one (16-128 capital letters and digits)\n",
        ),
        (
            f"ASIAIOSFODNN7EXAMPLE\n{SECRET}\n",
            1,
            (
                "awsv: error: this is a temporary key (ASIA…); awsv stores long-term keys (AKIA…)\n"
                "awsv: hint: temporary credentials come from `awsv use` / `awsv exec`\n"
            ),
        ),
        (
            f"{KEY_ID}\nshort\n",
            1,
            "awsv: error: the Secret Access Key does not look like one (16-128 non-space characters)\n",
        ),
    ],
    ids=["empty", "bad-key-id", "temporary-key", "short-secret"],
)
def test_bad_key_input(awsv: AwsvRunner, lines: str, status: int, stderr: str) -> None:
    r = awsv("add", "prod", input=lines)
    assert (r.returncode, r.stderr) == (status, stderr)  # the secret is never echoed


def test_secret_is_not_accepted_from_argv(awsv: AwsvRunner) -> None:
    r = awsv("add", "prod", KEY_ID, SECRET)
    assert r.returncode == 2
    assert SECRET not in r.stderr  # argparse must not echo it back


@pytest.mark.parametrize("name", ["$(touch pwned)", "a;b", "../../etc", "-x"])
def test_hostile_profile_names_refused(awsv: AwsvRunner, home: Path, name: str) -> None:
    r = awsv("add", "--", name, input=f"{KEY_ID}\n{SECRET}\n")
    assert r.returncode == 1
    assert "is not allowed" in r.stderr
    assert not (home / ".local" / "share" / "awsv").exists()


def test_remove(awsv: AwsvRunner) -> None:
    add(awsv, "prod")
    r = awsv("remove", "prod")
    assert r.returncode == 1 and "without confirmation" in r.stderr
    assert awsv("remove", "prod", "--force").returncode == 0
    rows = json.loads(awsv("list", "--json", check=True).stdout)
    assert rows == []
    r = awsv("remove", "prod", "--force")
    assert r.returncode == 1 and "no key stored for 'prod'" in r.stderr


def test_import_keeps_plaintext_unless_asked(awsv: AwsvRunner, home: Path) -> None:
    creds = home / ".aws" / "credentials"
    creds.write_text(CREDENTIALS)
    r = awsv("import", "--json", check=True)
    report = json.loads(r.stdout)
    assert report["stored"] == ["default", "work"]
    assert "temp" in report["skipped"]
    assert creds.read_text() == CREDENTIALS
    assert "--delete-plaintext" in r.stderr
    # importing again changes nothing
    report = json.loads(awsv("import", "--json", check=True).stdout)
    assert report["unchanged"] == ["default", "work"] and report["stored"] == []


def test_import_delete_plaintext_refuses_when_something_was_skipped(awsv: AwsvRunner, home: Path) -> None:
    creds = home / ".aws" / "credentials"
    creds.write_text(CREDENTIALS)
    r = awsv("import", "--delete-plaintext")
    assert r.returncode == 1 and "not removing secrets" in r.stderr
    assert creds.read_text() == CREDENTIALS


def test_import_delete_plaintext(awsv: AwsvRunner, home: Path) -> None:
    creds = home / ".aws" / "credentials"
    creds.write_text(CREDENTIALS.split("[temp]")[0])
    os.chmod(creds, 0o640)
    r = awsv("import", "--delete-plaintext")
    assert r.returncode == 0, r.stderr
    left = creds.read_text()
    assert SECRET not in left and SECRET2 not in left and KEY_ID not in left
    assert "# my keys" in left and "[default]" in left and "region = us-east-1" in left
    assert "[work]" not in left  # nothing but secrets was in it
    assert stat.S_IMODE(creds.stat().st_mode) == 0o640
    rows = {row["profile"]: row for row in json.loads(awsv("list", "--json", check=True).stdout)}
    assert rows["default"]["key_stored"] and rows["work"]["key_stored"]
    assert not [p for p, data in all_bytes_under(home) if SECRET.encode() in data]


def test_import_hides_secrets_in_parse_errors(awsv: AwsvRunner, home: Path) -> None:
    creds = home / ".aws" / "credentials"
    creds.write_text(f"[a]\naws_access_key_id = {KEY_ID}\n{SECRET}\n")
    r = awsv("import")
    assert r.returncode == 1
    assert "cannot parse" in r.stderr and SECRET not in r.stderr

"""`awsv doctor` on real files, a real vault and a real HTTP server for the clock check.

The clock check talks to a tiny local HTTP server (pointed at through
AWS_ENDPOINT_URL_STS) whose Date header we control: AWS itself is out of reach
here, and moto's server always sends the true time.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import AwsvRunner
from tests.support.doctor_report import DateServer, date_server, run_doctor, statuses  # noqa: F401  (fixture)
from tests.support.keys import CREDENTIALS, KEY_ID, SECRET, add


def test_clean_setup_passes(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    (home / ".aws" / "config").write_text("[profile prod]\nregion = eu-west-1\n")
    assert add(awsv, "prod").returncode == 0
    rc, found = run_doctor(awsv, date_server)
    assert rc == 0, found
    assert statuses(found, "plaintext-keys") == {"pass"}
    assert statuses(found, "vault-permissions") == {"pass"}
    assert statuses(found, "vault-format") == {"pass"}
    assert statuses(found, "backend") == {"pass"}
    assert statuses(found, "config") == {"pass"}
    assert statuses(found, "clock") == {"pass"}


def test_plaintext_keys_fail_with_the_fix(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    creds = home / ".aws" / "credentials"
    creds.write_text(CREDENTIALS)
    os.chmod(creds, 0o600)
    rc, found = run_doctor(awsv, date_server)
    assert rc == 1
    fail = [f for f in found["plaintext-keys"] if f["status"] == "fail"]
    assert fail and "default, work" in fail[0]["message"]
    assert fail[0]["fix"] == "awsv import --delete-plaintext"
    assert SECRET not in json.dumps(found) and KEY_ID not in json.dumps(found)
    # after the import the same check passes
    assert awsv("import", "--delete-plaintext", "--file", str(creds)).returncode == 1  # temp section
    creds.write_text(CREDENTIALS.split("[temp]")[0])
    assert awsv("import", "--delete-plaintext").returncode == 0
    rc, found = run_doctor(awsv, date_server)
    assert statuses(found, "plaintext-keys") == {"pass"}


def test_open_vault_permissions_fail(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    assert add(awsv, "prod").returncode == 0
    vault_dir = home / ".local" / "share" / "awsv"
    os.chmod(vault_dir, 0o755)
    rc, found = run_doctor(awsv, date_server)
    assert rc == 1
    assert any(f["status"] == "fail" and f["fix"] == f"chmod 700 {vault_dir}" for f in found["vault-permissions"])


def test_config_problems(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    (home / ".aws" / "config").write_text(
        "[profile base]\nmfa_serial = arn:aws:iam::1:mfa/me\n"
        "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
        "[profile orphan]\nrole_arn = arn:aws:iam::1:role/o\n"
    )
    rc, found = run_doctor(awsv, date_server)
    assert rc == 1
    messages = " | ".join(f["message"] for f in found["config"])
    assert "source_profile loop: a -> b -> a" in messages
    assert "'orphan' has role_arn but no source_profile" in messages
    assert "role 'role' has no mfa_serial but its source 'base' has one" in messages


def test_broken_config_is_a_fail_not_a_crash(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    (home / ".aws" / "config").write_text("[profile a\n")
    rc, found = run_doctor(awsv, date_server)
    assert rc == 1 and statuses(found, "config") == {"fail"}


@pytest.mark.parametrize("minutes, status", [(0, "pass"), (2, "warn"), (-2, "warn"), (10, "fail")])
def test_clock_skew(awsv: AwsvRunner, date_server: DateServer, minutes: int, status: str) -> None:
    date_server.offset = timedelta(minutes=minutes)
    rc, found = run_doctor(awsv, date_server)
    assert statuses(found, "clock") == {status}
    if status == "fail":
        assert rc == 1


def test_unreachable_sts_is_a_warning(awsv: AwsvRunner) -> None:
    r = awsv("doctor", env={"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9/"})
    assert "WARN  clock" in r.stdout and "could not reach" in r.stdout


def test_keyring_backend_refused_is_a_fail(awsv: AwsvRunner, date_server: DateServer) -> None:
    rc, found = run_doctor(
        awsv, date_server, AWSV_BACKEND="keyring", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )
    assert rc == 1 and statuses(found, "backend") == {"fail"}


def test_agent_state(awsv: AwsvRunner, date_server: DateServer) -> None:
    rc, found = run_doctor(awsv, date_server)
    assert statuses(found, "agent") == {"info"}  # AWSV_AGENT=off in the tests' environment
    on = {"AWSV_AGENT": "on"}
    assert add(awsv, "prod").returncode == 0
    rc, found = run_doctor(awsv, date_server, **on)
    assert "no agent running" in found["agent"][0]["message"]
    try:
        r = awsv("unlock", env=on)
        assert r.returncode == 0, r.stderr
        rc, found = run_doctor(awsv, date_server, **on)
        assert rc == 0
        assert found["agent"][0]["status"] == "pass" and "holds the file vault" in found["agent"][0]["message"]
    finally:
        assert awsv("lock", env=on).returncode == 0


def test_missing_config_is_a_warning_that_says_so(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    """No ~/.aws/config: a vault-only setup is valid, but the file's absence is named."""
    assert not (home / ".aws" / "config").exists()
    assert add(awsv, "prod").returncode == 0
    rc, found = run_doctor(awsv, date_server)
    assert rc == 0, found
    (finding,) = found["config"]
    assert finding["status"] == "warn"
    assert finding["message"] == f"the AWS config file {home / '.aws' / 'config'} does not exist"
    assert "awsv add" in finding["fix"]
    url = f"http://127.0.0.1:{date_server.server_address[1]}/"
    text = awsv("doctor", env={"AWS_ENDPOINT_URL_STS": url}).stdout
    assert "resolve cleanly" not in text
    summary = text.strip().splitlines()[-1]
    warnings = sum(line.startswith("WARN") for line in text.splitlines())
    assert warnings >= 1
    assert f", {warnings} warning{'' if warnings == 1 else 's'}, 0 failed" in summary, summary


def test_counts_are_singular_and_plural(awsv: AwsvRunner, home: Path, date_server: DateServer) -> None:
    (home / ".aws" / "config").write_text("[profile prod]\nregion = eu-west-1\n")
    assert add(awsv, "prod").returncode == 0
    url = f"http://127.0.0.1:{date_server.server_address[1]}/"
    text = awsv("doctor", env={"AWS_ENDPOINT_URL_STS": url}).stdout
    assert f"1 profile in {home / '.aws' / 'config'} resolves cleanly" in text
    assert "profile(s)" not in text

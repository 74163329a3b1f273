"""`awsv whoami` and `awsv clear`, as real processes against moto's server.

The session cache is checked through `awsv.sessions.cached_sessions` on the
real vault file of the test HOME, and through `awsv list`'s session column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awsv.context import Context
from awsv.sessions import cached_sessions
from tests.support.moto_server import ACCOUNT_ID, create_user_with_key, moto_url  # noqa: F401
from tests.support.use_world import CONFIG, World, make_world

WHOAMI_CONFIG = (
    CONFIG
    + """
[profile other]
region = eu-central-1
"""
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> World:
    w = make_world(tmp_path_factory, moto_url, WHOAMI_CONFIG)
    key_id, secret = create_user_with_key(moto_url, "bob")
    r = w.awsv("add", "--env", "other", env={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
    assert r.returncode == 0, r.stderr
    return w


def cached_profiles(world: World) -> list[str]:
    """Which profiles have a cached session in the real vault."""
    return sorted(s.profile for s in cached_sessions(Context(env=dict(world.env))))


def test_whoami_of_the_shell_after_use(world: World, tmp_path: Path) -> None:
    r = world.shell(
        "bash",
        'eval "$(awsv use admin)" || exit 99\n'
        f"awsv whoami --json > {tmp_path}/who.json || exit 98\n"
        f'printf %s "$AWS_CREDENTIAL_EXPIRATION" > {tmp_path}/exp\n',
    )
    assert r.returncode == 0, r.stderr
    who = json.loads((tmp_path / "who.json").read_text())
    assert who["Account"] == ACCOUNT_ID
    assert who["Arn"].startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/Admin/")
    assert who["Profile"] == "admin"
    assert who["Expiration"] == (tmp_path / "exp").read_text()


def test_whoami_of_a_profile(world: World) -> None:
    r = world.awsv("whoami", "other", "--json")
    assert r.returncode == 0, r.stderr
    who = json.loads(r.stdout)
    assert who["Account"] == ACCOUNT_ID and who["Profile"] == "other"
    text = world.awsv("whoami", "admin").stdout
    assert "Account:" in text and ":assumed-role/Admin/" in text and "Profile:    admin" in text


def test_whoami_without_credentials_says_what_to_do(world: World) -> None:
    r = world.awsv("whoami")
    assert r.returncode == 1 and r.stdout == ""
    assert "no AWS credentials" in r.stderr and "awsv use" in r.stderr


def test_clear_one_profile_then_all(world: World) -> None:
    first = json.loads(world.awsv("export", "admin", "--format", "env-json").stdout)
    assert world.awsv("export", "other").returncode == 0
    assert cached_profiles(world) == ["admin", "other"]
    rows = {row["profile"]: row for row in json.loads(world.awsv("list", "--json").stdout)}
    assert 3000 < rows["admin"]["session_seconds_left"] <= 3600
    assert rows["base"]["session_seconds_left"] is None
    table = world.awsv("list").stdout
    assert "SESSION" in table.splitlines()[0]
    assert any(line.startswith("admin ") and line.rstrip().endswith("m") for line in table.splitlines())

    r = world.awsv("clear", "admin")
    assert r.returncode == 0 and r.stdout == ""
    assert "cleared 1 cached session for 'admin'" in r.stderr
    assert cached_profiles(world) == ["other"]

    # The next use asks STS again: new temporary credentials.
    second = json.loads(world.awsv("export", "admin", "--format", "env-json").stdout)
    assert second["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]

    r = world.awsv("clear")
    assert r.returncode == 0 and "cleared 2 cached sessions for all profiles" in r.stderr
    assert cached_profiles(world) == []
    listing = world.awsv("list", "--json")
    assert listing.returncode == 0
    rows = {row["profile"]: row for row in json.loads(listing.stdout)}
    assert set(rows) >= {"admin", "base", "other"}
    assert all(row["session_seconds_left"] is None for row in rows.values())
    # The long-term keys stay.
    assert world.awsv("export", "other", "--no-session", "--format", "env-json").returncode == 0


def test_clear_unknown_profile(world: World) -> None:
    r = world.awsv("clear", "admn")
    assert r.returncode == 1 and "did you mean admin?" in r.stderr
    r = world.awsv("clear", "a;b")
    assert r.returncode == 1 and "is not allowed" in r.stderr

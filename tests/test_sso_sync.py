"""`awsv sso sync` against the SSO stand-in: real files, real awsv processes.

What would make these fail: a profile the user wrote being changed, comments
or order lost, a second run writing the file, a stale profile removed
without --prune (or kept with it), colliding names, a generated profile that
does not work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import AwsvRunner
from tests.support.moto_server import moto, moto_url  # noqa: F401
from tests.support.sso_server import Account, SsoServer, sso, sso_server  # noqa: F401
from tests.support.sso_world import CONFIG, world  # noqa: F401  (world: a fixture)

USER_OWN = """
; the user's own profile, with the name sync would choose
[profile Staging.Admin]
region = us-west-2  # mine
"""


@pytest.fixture
def signed_in(world: dict[str, str], home: Path, awsv: AwsvRunner) -> Path:
    config = home / ".aws" / "config"
    config.write_text(CONFIG + USER_OWN)
    awsv("sso", "login", "--sso-session", "corp", check=True)
    return config


def test_sync_writes_marked_profiles_keeping_everything_else(signed_in: Path, awsv: AwsvRunner) -> None:
    before = signed_in.read_text()
    out = awsv(
        "sso", "sync", "--sso-session", "corp", "--region", "eu-central-1", "--color", "*production*=red", check=True
    )
    assert "3 added, 0 updated, 0 removed" in out.stderr
    text = signed_in.read_text()
    assert text.startswith(before)  # comments, order and the user's profile as they were
    assert (
        "[profile Production.Admin]\nsso_session = corp\nsso_account_id = 111111111111\n"
        "sso_role_name = Admin\nregion = eu-central-1\nawsv_color = red\n"
        "awsv_generated = sso:corp\n" in text
    )
    assert "[profile Production.ReadOnly]" in text
    # The user owns Staging.Admin: the generated one gets the account id appended.
    assert "[profile Staging.Admin-222222222222]" in text
    assert text.count("[profile Staging.Admin]") == 1
    assert "awsv_color" not in text.split("[profile Staging.Admin-222222222222]")[1]
    assert oct(signed_in.stat().st_mode & 0o777) == "0o600" or signed_in.stat().st_mode

    # A second run changes nothing and writes nothing.
    inode = signed_in.stat().st_ino
    again = awsv(
        "sso", "sync", "--sso-session", "corp", "--region", "eu-central-1", "--color", "*production*=red", check=True
    )
    assert "no change" in again.stderr and signed_in.stat().st_ino == inode

    # A generated profile works as a source.
    creds = json.loads(awsv("export", "--format", "credential-process", "Production.ReadOnly", check=True).stdout)
    assert str(creds["AccessKeyId"]).startswith("ASIA")
    listed = {r["profile"]: r for r in json.loads(awsv("list", "--json", check=True).stdout)}
    assert listed["Production.Admin"]["sso"]["role_name"] == "Admin"


def test_prune_removes_only_generated_profiles_that_lost_access(
    signed_in: Path, awsv: AwsvRunner, sso: SsoServer
) -> None:
    awsv("sso", "sync", check=True)  # the only [sso-session] is the default
    sso.accounts = [
        Account("111111111111", "Production", "prod@example.com", ["Admin"]),
        Account("333333333333", "Sandbox", "sb@example.com", ["Dev"]),
    ]
    kept = awsv("sso", "sync", check=True)
    assert "1 added, 0 updated, 0 removed" in kept.stderr
    assert "no longer reachable, kept: Production.ReadOnly, Staging.Admin-222222222222" in kept.stderr
    assert "[profile Production.ReadOnly]" in signed_in.read_text()
    dry = awsv("sso", "sync", "--prune", "--dry-run", check=True)
    assert "-[profile Production.ReadOnly]" in dry.stdout and "dry run" in dry.stderr
    assert "[profile Production.ReadOnly]" in signed_in.read_text()
    pruned = awsv("sso", "sync", "--prune", check=True)
    assert "0 added, 0 updated, 2 removed" in pruned.stderr
    text = signed_in.read_text()
    assert "Production.ReadOnly" not in text and "Staging.Admin-222222222222" not in text
    assert "[profile Sandbox.Dev]" in text and "[profile Staging.Admin]\nregion = us-west-2  # mine" in text
    assert "\n\n\n" not in text


def test_template_prefix_and_name_rules(signed_in: Path, awsv: AwsvRunner, sso: SsoServer) -> None:
    sso.accounts = [Account("444444444444", "My Team / Dev!", "t@example.com", ["PowerUser"])]
    awsv("sso", "sync", "--template", "{account_id}-{role_name}", "--prefix", "sso-", check=True)
    assert "[profile sso-444444444444-PowerUser]" in signed_in.read_text()
    awsv("sso", "sync", check=True)
    assert "[profile My-Team-Dev.PowerUser]" in signed_in.read_text()
    bad = awsv("sso", "sync", "--template", "{nope}")
    assert bad.returncode == 2 and "{account_name}" in bad.stderr
    bad = awsv("sso", "sync", "--color", "*=notacolour")
    assert bad.returncode == 2 and "is not a colour" in bad.stderr
    awsv("sso", "sync", "--alias", "*team*=T {role_name}", "--alias", "*=other", check=True)
    assert (
        "[profile My-Team-Dev.PowerUser]\nsso_session = corp\nsso_account_id = 444444444444\n"
        "sso_role_name = PowerUser\nawsv_alias = T PowerUser\n" in signed_in.read_text()
    )


# -- the line-based rewrite, in process (pure function over text) --------------------------


def _gen(name: str, account: str = "111111111111", role: str = "Admin") -> object:
    from awsv.sso.sync import Generated

    return Generated(
        name,
        (("sso_session", "corp"), ("sso_account_id", account), ("sso_role_name", role), ("awsv_generated", "sso:corp")),
    )


def test_rewrite_keeps_foreign_text_byte_for_byte() -> None:
    from awsv.sso.settings import SsoSession
    from awsv.sso.sync import rewrite

    session = SsoSession("https://x.awsapps.com/start", "eu-west-1", "corp")
    other = SsoSession("https://y.awsapps.com/start", "eu-west-1", "other")
    text = (
        "; top comment\n[default]\nregion = eu-west-1\n\n"
        "[profile  gen]   # odd spacing, generated earlier\nsso_session = corp\n"
        "awsv_generated = sso:corp\n\n"
        "[profile theirs]\nsso_session = other\nawsv_generated = sso:other\n"
        "[profile mine]\nregion = us-east-1"
    )  # no final newline
    new, added, updated, removed, stale = rewrite(text, [_gen("gen"), _gen("fresh", role="Dev")], session, prune=True)
    assert (added, updated, removed, stale) == (["fresh"], ["gen"], [], [])
    assert new.startswith("; top comment\n[default]\nregion = eu-west-1\n\n[profile gen]\n")
    assert "[profile theirs]\nsso_session = other\nawsv_generated = sso:other\n" in new
    assert "[profile mine]\nregion = us-east-1\n\n[profile fresh]\n" in new
    # Pruning one session never touches another session's generated profiles.
    again, *_ = rewrite(new, [], session, prune=True)
    assert "[profile gen]" not in again and "[profile fresh]" not in again
    assert "[profile theirs]" in again and "[profile mine]" in again
    assert rewrite(again, [], other, prune=False)[0] == again
    # Idempotent: the same plan over its own output changes nothing.
    assert rewrite(new, [_gen("gen"), _gen("fresh", role="Dev")], session, prune=True)[0] == new


def test_reduce_name_and_collisions() -> None:
    from awsv.sso.settings import SsoSession
    from awsv.sso.sync import plan, reduce_name

    assert reduce_name("..Prod (EU) / Admin..") == "Prod-EU-Admin"
    assert reduce_name("ünïcode") == "ncode"
    session = SsoSession("https://x.awsapps.com/start", "eu-west-1", "corp")
    reach = [
        ({"accountId": "222222222222", "accountName": "Same"}, "Admin"),
        ({"accountId": "111111111111", "accountName": "Same"}, "Admin"),
        ({"accountId": "333333333333", "accountName": "!!!"}, "Admin"),
    ]
    names = [
        g.name
        for g in plan(
            session, reach, template="{account_name}", prefix="", region=None, colors=[], taken={"Same-222222222222"}
        )
    ]
    # (account id, role) order: 111… takes the plain name, 222… the suffixed one is the
    # user's, so it gets the next free spelling; a name with nothing left is the account id.
    assert names == ["Same", "Same-222222222222-2", "333333333333"]

"""The profile picker on a real terminal: filter, select, cancel, fzf and the built-in one.

An interactive bash with the integration loaded runs in a tmux pane (the
`Term` driver of tests/support/tmux_term.py): `awsv pick` and `awsv use` with no
profile draw the picker on that terminal while the wrapper captures the
helper's stdout, exactly as a user runs them; credentials come from moto's
server over HTTP through the real file vault. fzf is the real program
(apt `fzf`). The first-screen speed at 1,000 profiles is measured in
bench/ (bench/pick.py), not here: this file checks that it works at that size.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from awsv import picker
from tests.support.bash_term import PROMPT_MARK, open_bash
from tests.support.fish_term import PROMPT_MARK as FISH_MARK
from tests.support.fish_term import open_fish
from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.shell_integration import ShellWorld, make_shell_world
from tests.support.shell_integration import badge as _badge
from tests.support.tmux_term import Term, terms  # noqa: F401  (terms: a fixture)


def badge(profile: str, left: str = r"(\d+m|1h00m)") -> str:
    """The badge, with any minutes left: sessions cached by an earlier test of the
    module age while a loaded machine runs the tests."""
    return _badge(profile, left)


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> ShellWorld:
    return make_shell_world(tmp_path_factory, moto_url)


def usage_file(sw: ShellWorld) -> Path:
    return sw.home / ".local" / "state" / "awsv" / "usage.json"


def open_picker(term: Term, command: str = "awsv pick") -> None:
    term.enter(command)
    term.wait(r"awsv use> .*\d+/\d+")


# -- on a real terminal --------------------------------------------------------------


def test_builtin_picker_filters_and_enter_switches(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_bash(sw, terms, tmp_path, AWSV_PICKER="builtin")
    open_picker(term)
    screen = term.screen()
    # Every line: name, account, region, source, time left.
    assert re.search(rf"prod\s+{ACCOUNT_ID}\s+us-east-2\s+role via base\s+", screen), screen
    assert re.search(r"base\s+-\s+eu-west-1\s+vault\s+", screen), screen
    term.type("sndbx")  # fuzzy: the letters in order
    term.wait(r"awsv use> sndbx\s+1/\d+")
    assert "team-sandbox" in term.screen() and not re.search(r"^\s+prod\s", term.screen(), re.M)
    term.keys("Enter")
    term.wait(rf"^{badge('team-sandbox')} {PROMPT_MARK}")
    assert term.values("$AWSV_PROFILE", "$AWS_VAULT") == ["team-sandbox", "team-sandbox"]
    # The name in its awsv_color: prod is red.
    open_picker(term)
    assert "\x1b[31mprod" in term.screen(colors=True)
    term.keys("Escape")
    term.wait(r"no profile chosen; nothing was changed")
    term.sync()


def test_escape_changes_nothing_and_use_without_a_profile_opens_it(
    sw: ShellWorld, terms: list[Term], tmp_path: Path
) -> None:
    term = open_bash(sw, terms, tmp_path, AWSV_PICKER="builtin")
    term.enter("awsv use base")
    term.wait(rf"^{badge('base')} {PROMPT_MARK}")
    before = term.values("$AWSV_PROFILE", "$AWS_ACCESS_KEY_ID", "$AWSV_EXPIRES")
    open_picker(term, "awsv use; echo STATUS=$?")
    term.type("prod")
    term.keys("Escape")
    term.wait(r"^STATUS=130")
    assert term.values("$AWSV_PROFILE", "$AWS_ACCESS_KEY_ID", "$AWSV_EXPIRES") == before
    assert "no profile chosen; nothing was changed" in term.screen()
    # Ctrl-C leaves it too.
    open_picker(term, "awsv pick; echo STATUS2=$?")
    term.keys("C-c")
    term.wait(r"^STATUS2=130")
    assert term.value("$AWSV_PROFILE") == "base"


def test_arrows_move_and_most_used_come_first(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    usage_file(sw).unlink(missing_ok=True)
    term = open_bash(sw, terms, tmp_path, AWSV_PICKER="builtin")
    term.enter("awsv use prod && awsv use prod && awsv use team-sandbox && awsv use base")
    term.wait(rf"^{badge('base')} {PROMPT_MARK}")
    open_picker(term)
    lines = [line for line in term.screen().splitlines() if re.match(r"^(> |  )\S", line)]
    names = [line[2:].split()[0] for line in lines]
    # prod twice, then the most recent single uses; the never-used ones after.
    assert names[:3] == ["prod", "base", "team-sandbox"], names
    term.keys("Down", "Down")
    term.keys("Enter")
    term.wait(rf"^{badge('team-sandbox')} {PROMPT_MARK}")
    data = json.loads(usage_file(sw).read_text())
    assert set(data["profiles"]) == {"prod", "team-sandbox", "base"}
    assert data["profiles"]["prod"]["count"] == 2
    assert usage_file(sw).stat().st_mode & 0o777 == 0o600
    assert usage_file(sw).parent.stat().st_mode & 0o777 == 0o700
    # Names, counts and times only: nothing of the credentials.
    key = term.value("$AWS_ACCESS_KEY_ID")
    assert key and key not in usage_file(sw).read_text()


@pytest.mark.skipif(shutil.which("fzf") is None, reason="fzf is not installed (scripts/test installs it)")
def test_fzf_when_installed(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_bash(sw, terms, tmp_path)  # no AWSV_PICKER: fzf, as it is on PATH
    term.enter("awsv pick")
    term.wait(r"awsv use> ")
    term.wait(r"Enter: switch")
    term.type("prod")
    term.wait(r"1/\d+")
    term.keys("Enter")
    term.wait(rf"^{badge('PRODUCTION')} {PROMPT_MARK}")
    term.enter("awsv pick; echo STATUS3=$?")
    term.wait(r"Enter: switch")
    term.keys("Escape")
    term.wait(r"^STATUS3=130")
    assert term.value("$AWSV_PROFILE") == "prod"


def test_a_thousand_profiles(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    big = tmp_path / "big-config"
    big.write_text(
        (sw.home / ".aws" / "config").read_text()
        + "".join(
            f"\n[profile p{i:04d}]\nrole_arn = arn:aws:iam::{ACCOUNT_ID}:role/R{i}\nsource_profile = base\n"
            for i in range(1000)
        )
    )
    term = open_bash(sw, terms, tmp_path, AWSV_PICKER="builtin", AWS_CONFIG_FILE=str(big))
    open_picker(term)
    assert re.search(r"awsv use> \s+100\d/100\d", term.screen())
    term.type("p0999")
    term.wait(r"awsv use> p0999\s+1/100\d")
    term.keys("Enter")
    term.wait(rf"^{badge('p0999')} {PROMPT_MARK}")


def test_without_a_terminal_use_keeps_its_old_default(sw: ShellWorld) -> None:
    r = sw.world.awsv("use", "--shell", "bash", env={"AWS_PROFILE": "base"})
    assert r.returncode == 0, r.stderr
    assert "AWSV_PROFILE=base" in r.stdout
    r = sw.world.awsv("pick", "--shell", "bash")
    assert r.returncode == 2 and "needs a terminal" in r.stderr
    # Code that only fails, as for any failed use: `eval "$(awsv pick)" && …` stops.
    assert r.stdout == "(builtin exit 2)\n"


# -- the parts ------------------------------------------------------------------------


def test_fuzzy_filter_prefers_substrings_then_tight_matches() -> None:
    entries = [picker.Entry(n) for n in ("prod-eu", "staging", "sandbox-prod", "p-r-o-d", "dev")]
    assert [e.profile for e in picker.filter_entries(entries, "prod")] == ["prod-eu", "sandbox-prod", "p-r-o-d"]
    assert picker.fuzzy_score("xyz", "prod") is None
    assert [e.profile for e in picker.filter_entries(entries, "")] == [e.profile for e in entries]


def test_sources_accounts_and_hostile_names_on_screen() -> None:
    assert picker.source_of({"sso_session": "corp"}) == "SSO"
    assert picker.source_of({"credential_process": "x"}) == "process"
    assert picker.source_of({"web_identity_token_file": "/t"}) == "web identity"
    assert picker.source_of({"role_arn": "arn:aws:iam::111122223333:role/x", "source_profile": "b"}) == "role via b"
    assert picker.account_of({"role_arn": "arn:aws:iam::111122223333:role/x"}) == "111122223333"
    entry = picker.Entry("evil", region="eu\x1b[2J-west-1", source="vault", color="#ff0000")
    line = picker.format_line(entry, picker.column_widths([entry]), max_width=200)
    assert "\x1b[2J" not in line and line.startswith("\x1b[38;2;255;0;0mevil\x1b[39m")


def test_builtin_keys() -> None:
    out: list[str] = []
    p = picker.BuiltinPicker([picker.Entry(n) for n in ("a1", "a2", "b1")], rows=10, cols=80, write=out.append)
    assert p.feed("\x1b[B") == (False, None)
    assert p.feed("\r") == (True, "a2")
    p = picker.BuiltinPicker([picker.Entry(n) for n in ("a1", "a2", "b1")], rows=10, cols=80, write=out.append)
    assert p.feed("b") == (False, None) and [e.profile for e in p.matches] == ["b1"]
    assert p.feed("\x7f\x7fzz") == (False, None) and p.matches == []
    assert p.feed("\r") == (True, None)  # nothing matches: Enter chooses nothing
    assert p.feed("\x1b") == (True, None)


def test_the_picker_through_the_fish_function(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_fish(sw, terms, tmp_path, AWSV_PICKER="builtin")
    open_picker(term)
    term.type("team")
    term.wait(r"awsv use> team\s+1/\d+")
    term.keys("Enter")
    term.wait(rf"^{FISH_MARK} .*{badge('team-sandbox')}")
    assert term.value("$AWSV_PROFILE") == "team-sandbox"
    open_picker(term, "awsv use; echo FSTATUS=$status")
    term.keys("Escape")
    term.wait(r"^FSTATUS=130")
    assert term.value("$AWSV_PROFILE") == "team-sandbox"

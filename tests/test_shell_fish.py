"""The fish integration in a real interactive fish, driven through tmux.

Everything is real: fish 3 runs interactively in a detached tmux pane (the
`Term` driver of tests/support/tmux_term.py), so the right prompt, its colours
and the completion pager are read back with `capture-pane`; `awsv` is the
helper of this checkout on PATH, and credentials come from moto's server over
HTTP through the real file vault of a temporary HOME. fish reads its config
from `$XDG_CONFIG_HOME/fish`, which is inside that HOME.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.fish_term import PROMPT_MARK, open_fish
from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.shell_integration import (
    SGR_CYAN,
    SGR_MAGENTA,
    SGR_RED,
    SGR_YELLOW,
    ShellWorld,
    doctor_shell_checks,
    make_shell_world,
)
from tests.support.shell_integration import badge as _badge
from tests.support.tmux_term import (  # noqa: F401  (terms: a fixture)
    Term,
    count_processes,
    forks_of_a_command_and_of_prompts,
    terms,
)

HINT_MFA = "awsv: renewing 'mfa' needs your passphrase or MFA code: run awsv use mfa"

pytestmark = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (scripts/test installs it)")


def badge(profile: str, left: str = r"(\d+m|1h00m)") -> str:
    """The badge, with any minutes left: sessions cached by an earlier test of the
    module age while a loaded machine runs the tests."""
    return _badge(profile, left)


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> ShellWorld:
    return make_shell_world(tmp_path_factory, moto_url)


def right(term: Term, *, colors: bool = False) -> str:
    """The last prompt line (the right prompt is drawn on it, right-aligned)."""
    return term.last_prompt(PROMPT_MARK, colors=colors)


# -- in a real fish ----------------------------------------------------------------


@pytest.mark.parametrize("how", ["conf.d", "source", "shell-init"])
def test_loads_three_ways_and_use_shows_the_badge(sw: ShellWorld, terms: list[Term], tmp_path: Path, how: str) -> None:
    term = open_fish(sw, terms, tmp_path, how)
    assert term.value("$(functions -q awsv; and echo function)") == "function"

    term.enter("awsv use base")
    line = term.wait(rf"^{PROMPT_MARK} .*{badge('base')} RIGHT$").group(0)
    assert line
    assert term.values("$AWSV_PROFILE", "$AWS_VAULT", "$AWSV_ACCOUNT", "$AWS_REGION") == [
        "base",
        "base",
        ACCOUNT_ID,
        "eu-west-1",
    ]
    assert int(term.value("$USER_PROMPTS")) >= 3  # the user's own prompt handler still runs

    term.type("awsv us")
    term.keys("Tab")
    term.type("Z")
    term.wait(rf"^{PROMPT_MARK} awsv use Z")
    term.keys("C-u")

    term.enter("awsv off")
    term.sync()
    assert term.value("$(set -q AWSV_PROFILE; and echo set; or echo unset)") == "unset"
    assert right(term).endswith(" RIGHT") and "[base" not in right(term)


def test_the_pipe_form_with_and_without_the_integration(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    """`awsv use P | source` works through the function too (its stdout is then not a
    terminal, so it prints the code), and a failure stops `; and …`."""
    term = open_fish(sw, terms, tmp_path)
    term.enter("awsv use team-sandbox | source; and echo USED1")
    term.wait(r"^USED1")
    assert term.value("$AWSV_PROFILE") == "team-sandbox"
    term.enter("awsv use no-such-profile | source; and echo RAN; or echo FAILED1")
    term.wait(r"^FAILED1")
    assert not re.search(r"^RAN$", term.screen(), re.MULTILINE)
    assert term.value("$AWSV_PROFILE") == "team-sandbox"
    term.enter("awsv off | source; and echo OFF1")
    term.wait(r"^OFF1")
    assert term.value("$(set -q AWSV_PROFILE; and echo set; or echo unset)") == "unset"

    # Without the integration: plain `fish -c`, the helper's own code.
    r = subprocess.run(
        ["fish", "--no-config", "-c", "awsv use --shell fish base | source; or exit 9; printf '%s\\n' $AWSV_PROFILE"],
        env=sw.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "base\n"


def test_badge_colours_alias_and_expiry(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_fish(sw, terms, tmp_path)
    term.enter("awsv use prod")
    term.wait(badge("PRODUCTION"))
    assert term.values("$AWSV_COLOR", "$AWSV_ALIAS") == ["red", "PRODUCTION"]
    assert SGR_RED + f"PRODUCTION {ACCOUNT_ID} " in right(term, colors=True)

    term.enter("awsv use team-sandbox")  # a user pattern: *sandbox*=magenta
    term.wait(badge("team-sandbox"))
    assert SGR_MAGENTA + "team-sandbox" in right(term, colors=True)

    term.enter("awsv use base")  # no colour anywhere: the default, cyan
    term.wait(badge("base"))
    assert SGR_CYAN + "base" in right(term, colors=True)

    term.enter("set AWSV_REFRESH 0; set AWSV_EXPIRES (math (date +%s) + 290)")
    term.wait(badge("base", "4m"))
    assert re.search(re.escape(SGR_YELLOW) + "4m", right(term, colors=True))
    term.enter("set AWSV_EXPIRES (math (date +%s) + 7530)")
    term.wait(badge("base", "2h0[45]m"))
    term.enter("set AWSV_EXPIRES (math (date +%s) - 5)")
    term.wait(badge("base", "expired"))
    assert SGR_RED + "expired" in right(term, colors=True)
    term.enter("set -e AWSV_EXPIRES")  # a long-term key: no expiry, the key text
    term.wait(badge("base", "key"))
    assert SGR_YELLOW + "key" in right(term, colors=True)


def test_silent_refresh_and_refresh_that_needs_input(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    (sw.home / "mfa_process_ran").unlink(missing_ok=True)
    term = open_fish(sw, terms, tmp_path, extra="set -g AWSV_REFRESH_WINDOW 1000\n")
    term.enter("awsv use prod --duration 15m; printf '<<%s|%s>>\\n' K1 \"$AWS_ACCESS_KEY_ID\"")
    key1 = term.wait(r"<<K1\|(.*?)>>").group(1)
    key2, expires2 = term.values("$AWS_ACCESS_KEY_ID", "$AWSV_EXPIRES")
    assert key2.startswith("ASIA") and key2 != key1
    assert int(expires2) - time.time() > 3000
    assert "awsv: " not in term.screen().split("K1|", 1)[1]  # silent

    # An MFA profile whose cached session is gone: marked, one hint, no wait.
    term.enter("awsv use mfa --mfa-token 123456; and awsv clear mfa")
    term.wait(badge("mfa"))
    started = time.monotonic()
    term.enter("set AWSV_EXPIRES (math $AWSV_EXPIRES - 3500)")
    term.wait(rf"\[mfa {ACCOUNT_ID} 1m!\]")
    assert time.monotonic() - started < 15
    assert re.search(re.escape(SGR_YELLOW) + "1m" + re.escape(SGR_RED) + "!", right(term, colors=True))
    term.keys("Enter")
    term.keys("Enter")
    term.sync()
    assert term.screen().count(HINT_MFA) == 1
    assert term.value("$AWSV_PROFILE") == "mfa"
    assert not (sw.home / "mfa_process_ran").exists()
    assert sw.calls("use --no-prompt --quiet --shell fish --region us-west-2 -- mfa") >= 3


def test_completion_of_commands_options_and_profiles(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    big = tmp_path / "big-config"
    big.write_text(
        "[profile team-sandbox]\n" + "".join(f"[profile p{i:04d}]\nregion = eu-west-1\n\n" for i in range(1000))
    )
    term = open_fish(sw, terms, tmp_path, AWS_CONFIG_FILE=str(big))
    before = sw.calls("list --names")
    for typed, done in [
        ("awsv use team-s", "awsv use team-sandbox "),
        ("awsv use --no-p", "awsv use --no-prompt "),
        ("awsv exec base -- whoam", "awsv exec base -- whoami "),
        ("awsv --backend f", "awsv --backend file "),
        ("awsv shell-init fi", "awsv shell-init fish "),
    ]:
        term.type(typed)
        term.keys("Tab")
        term.type("Z")  # right after the completion's space
        term.wait(rf"^{PROMPT_MARK} {re.escape(done)}Z")
        term.keys("C-u")
    term.type("awsv use p099")
    term.keys("Tab")
    term.wait(r"p0990\s+p0992")
    # Ctrl-C closes the completion pager; whether the same key also empties the
    # command line depends on when fish reads it, so C-u empties it for sure.
    term.keys("C-c")
    term.keys("C-u")
    term.sync()
    assert sw.calls("list --names") == before + 1  # cached while the config is unchanged
    with big.open("a") as f:
        f.write("[profile q-new]\n")
    # `path mtime` has whole seconds: date the edit in a later one instead of sleeping.
    stamp = big.stat().st_mtime + 2
    os.utime(big, (stamp, stamp))
    term.type("awsv use q-")
    term.keys("Tab")
    term.type("Z")
    term.wait(rf"^{PROMPT_MARK} awsv use q-new Z")
    term.keys("C-u")
    assert sw.calls("list --names") == before + 2


def test_no_fork_per_prompt_with_an_active_session(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_fish(sw, terms, tmp_path)
    term.enter("awsv use base")
    term.wait(badge("base"))
    term.sync()

    control, per_prompts = forks_of_a_command_and_of_prompts(term, tmp_path, count_processes)
    assert control >= 1  # the counter works: one external command is at least one fork
    assert per_prompts == 0
    assert re.search(badge("base"), right(term))


def test_doctor_sees_the_integration_only_through_the_wrapper(
    sw: ShellWorld, terms: list[Term], tmp_path: Path
) -> None:
    through, bare = doctor_shell_checks(open_fish(sw, terms, tmp_path, SHELL="/usr/bin/fish"), tmp_path)
    assert through["status"] == "pass" and "fish" in through["message"]
    assert bare["status"] == "warn" and "shell-init fish | source" in bare["fix"]

"""The bash integration in a real interactive bash, and the helper's side of it.

bash runs interactively in a detached tmux pane (`Term` of
tests/support/tmux_term.py) with a temporary HOME, the helper of this checkout
on PATH and moto's server over HTTP behind the real file vault. The helper
parts the shells rely on — `awsv use --no-prompt` (exit status 3 instead of
a question), `awsv shell-init`, the awsv_color/awsv_alias variables — are
checked as real processes, with a real terminal where it matters (pexpect),
so "no prompt" is proven with a terminal present rather than by its absence.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

from tests.support.bash_term import PROMPT_MARK, open_bash
from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.shell_integration import (
    BASH_FILE,
    SGR_CYAN,
    SGR_MAGENTA,
    SGR_RED,
    SGR_YELLOW,
    ShellWorld,
    badge,
    check_ctrl_c_at_prompts,
    check_eval_forms,
    doctor_shell_checks,
    make_shell_world,
)
from tests.support.tmux_term import Term, forks_of_a_command_and_of_prompts, terms  # noqa: F401  (terms: a fixture)

HINT_MFA = "awsv: renewing 'mfa' needs your passphrase or MFA code: run awsv use mfa"


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> ShellWorld:
    return make_shell_world(tmp_path_factory, moto_url)


def prompt_line(term: Term, *, colors: bool = False) -> str:
    """The last prompt on the screen (the badge is in front of the marker)."""
    lines = [line for line in term.screen(colors).splitlines() if PROMPT_MARK in line]
    assert lines, term.screen()
    return lines[-1]


# -- in a real bash --------------------------------------------------------------


@pytest.mark.parametrize("how", ["source", "shell-init"])
def test_loads_two_ways_keeps_prompt_command_and_shows_the_badge(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
    how: str,
) -> None:
    term = open_bash(sw, terms, tmp_path, how)
    kind, hook = term.values("$(type -t awsv)", "$PROMPT_COMMAND")
    assert kind == "function"
    assert hook.count("_awsv_precmd") == 1 and "PC_RUNS=" in hook

    term.enter("awsv use base")
    term.wait(rf"^{badge('base')} {PROMPT_MARK} ")
    assert term.values("$AWSV_PROFILE", "$AWS_VAULT", "$AWSV_ACCOUNT", "$AWS_REGION") == [
        "base",
        "base",
        ACCOUNT_ID,
        "eu-west-1",
    ]
    assert int(term.value("$PC_RUNS")) >= 3  # the user's PROMPT_COMMAND still runs

    term.type("awsv us")
    term.keys("Tab")
    term.type("Z")
    term.wait(rf"{PROMPT_MARK} awsv use Z\s*$")
    term.keys("C-u")

    term.enter("awsv off")
    term.sync()
    assert term.value("${AWSV_PROFILE-unset}") == "unset"
    assert prompt_line(term).startswith(PROMPT_MARK)


def test_badge_colours_alias_and_expiry(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_bash(sw, terms, tmp_path)
    term.enter("awsv use prod")
    term.wait(rf"^{badge('PRODUCTION')} {PROMPT_MARK}")
    assert SGR_RED + f"PRODUCTION {ACCOUNT_ID} " in prompt_line(term, colors=True)

    term.enter("awsv use team-sandbox")
    term.wait(rf"^{badge('team-sandbox')} {PROMPT_MARK}")
    assert SGR_MAGENTA + "team-sandbox" in prompt_line(term, colors=True)

    term.enter("awsv use base")
    term.wait(rf"^{badge('base')} {PROMPT_MARK}")
    assert SGR_CYAN + "base" in prompt_line(term, colors=True)

    term.enter("AWSV_REFRESH=0; printf -v AWSV_EXPIRES '%(%s)T' -1; AWSV_EXPIRES=$((AWSV_EXPIRES + 290))")
    term.wait(rf"^{badge('base', '4m')} {PROMPT_MARK}")
    assert re.search(re.escape(SGR_YELLOW) + "4m", prompt_line(term, colors=True))
    term.enter("AWSV_EXPIRES=$((AWSV_EXPIRES - 400))")
    term.wait(rf"^{badge('base', 'expired')} {PROMPT_MARK}")
    assert SGR_RED + "expired" in prompt_line(term, colors=True)


def test_silent_refresh_and_refresh_that_needs_input(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
) -> None:
    term = open_bash(sw, terms, tmp_path, extra="AWSV_REFRESH_WINDOW=1000\n")
    term.enter("awsv use prod --duration 15m; printf '<<%s|%s>>\\n' K1 \"$AWS_ACCESS_KEY_ID\"")
    key1 = term.wait(r"<<K1\|(.*?)>>").group(1)
    key2, expires2 = term.values("$AWS_ACCESS_KEY_ID", "$AWSV_EXPIRES")
    assert key2.startswith("ASIA") and key2 != key1
    assert int(expires2) - time.time() > 3000
    assert "awsv: " not in term.screen().split("K1|", 1)[1]  # silent

    # An MFA profile whose cached session is gone: marked, one hint, no wait.
    term.enter("awsv use mfa --mfa-token 123456 && awsv clear mfa")
    term.wait(rf"^{badge('mfa')} {PROMPT_MARK}")
    term.enter("AWSV_EXPIRES=$((AWSV_EXPIRES - 3500))")
    term.wait(rf"^\[mfa {ACCOUNT_ID} 1m!\] {PROMPT_MARK}")
    term.keys("Enter")
    term.sync()
    assert term.screen().count(HINT_MFA) == 1

    # The vault locked (no passphrase source left): the same, for the passphrase.
    term.enter("awsv use base; unset AWSV_FILE_PASSPHRASE; AWSV_EXPIRES=$((AWSV_EXPIRES - 3500))")
    term.wait(rf"^\[base {ACCOUNT_ID} 1m!\] {PROMPT_MARK}")
    assert "awsv: renewing 'base' needs your passphrase or MFA code" in term.screen()


def test_completion_and_the_shared_profile_cache(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
) -> None:
    big = tmp_path / "big-config"
    big.write_text(
        "[profile team-sandbox]\n" + "".join(f"[profile p{i:04d}]\nregion = eu-west-1\n\n" for i in range(1000))
    )
    term = open_bash(sw, terms, tmp_path, AWS_CONFIG_FILE=str(big))
    before = sw.calls("list --names")
    for typed, done in [
        ("awsv use team-s", "awsv use team-sandbox "),
        ("awsv use --no-p", "awsv use --no-prompt "),
        ("awsv exec base -- whoam", "awsv exec base -- whoami "),
        ("awsv --backend f", "awsv --backend file "),
    ]:
        term.type(typed)
        term.keys("Tab")
        term.type("Z")  # right after the completion's space (tmux trims trailing spaces)
        term.wait(rf"{PROMPT_MARK} {re.escape(done)}Z\s*$")
        term.keys("C-u")
    term.type("awsv use p099")
    term.keys("Tab", "Tab")
    term.wait(r"p0990\s+p0991")
    term.keys("C-u")
    term.type("awsv shell-init ")
    term.keys("Tab", "Tab")
    term.wait(r"^bash\s+fish\s+zsh\s*$")
    term.keys("C-u")
    assert sw.calls("list --names") == before + 1

    # Another shell finds the names cached on disk; an edit makes them stale.
    other = open_bash(sw, terms, tmp_path, AWS_CONFIG_FILE=str(big))
    other.type("awsv use p012")
    other.keys("Tab", "Tab")
    other.wait(r"p0120\s+p0121")
    other.keys("C-u")
    assert sw.calls("list --names") == before + 1
    with big.open("a") as f:
        f.write("[profile q-new]\n")
    other.type("awsv use q-")
    other.keys("Tab")
    other.type("Z")
    other.wait(rf"{PROMPT_MARK} awsv use q-new Z\s*$")
    assert sw.calls("list --names") == before + 2


def test_no_fork_per_prompt_with_an_active_session(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
) -> None:
    term = open_bash(sw, terms, tmp_path)
    term.enter("awsv use base")
    term.wait(rf"^{badge('base')} {PROMPT_MARK}")
    term.sync()
    control, per_prompts = forks_of_a_command_and_of_prompts(term, tmp_path)
    assert control >= 1  # the counter works: one external command is at least one fork
    assert per_prompts == 0
    assert re.match(badge("base"), prompt_line(term))


def test_help_through_the_wrapper_is_shown_not_evaluated(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
) -> None:
    term = open_bash(sw, terms, tmp_path)
    term.enter("awsv use --help")
    term.wait(r"--no-prompt")
    term.sync()
    assert "command not found" not in term.screen()


# -- the helper's side -------------------------------------------------------------


def spawn_awsv(sw: ShellWorld, tmp: Path, *args: str, drop: tuple[str, ...] = ()) -> pexpect.spawn:
    """The helper with a real terminal as its controlling tty and stderr (so a prompt
    *could* be shown there) and stdout to a file, as under `eval "$(...)"`."""
    env = {k: v for k, v in sw.env(AWSV_OUT=str(tmp / "stdout")).items() if k not in drop}
    return pexpect.spawn(
        "sh",
        ["-c", '"$@" > "$AWSV_OUT"', "sh", sys.executable, "-m", "awsv", *args],
        env=env,
        encoding="utf-8",
        timeout=30,
    )


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_no_prompt_exits_3_instead_of_asking_on_a_terminal(sw: ShellWorld, tmp_path: Path) -> None:
    # Without it, the same command on the same terminal asks for the passphrase.
    child = spawn_awsv(sw, tmp_path, "use", "--shell", "bash", "base", drop=("AWSV_FILE_PASSPHRASE",))
    child.expect_exact("awsv vault passphrase:")
    child.sendcontrol("c")
    child.close()

    status, out = finish(
        spawn_awsv(sw, tmp_path, "use", "--no-prompt", "--shell", "bash", "base", drop=("AWSV_FILE_PASSPHRASE",))
    )
    assert status == 3, out
    assert out.strip() == "awsv: error: the vault passphrase is needed; not asking (no-prompt mode)"
    assert (tmp_path / "stdout").read_text() == "(builtin exit 3)\n"  # code that only fails

    (sw.home / "mfa_process_ran").unlink(missing_ok=True)
    sw.world.awsv("clear", "mfa", check=True)
    status, out = finish(spawn_awsv(sw, tmp_path, "use", "--no-prompt", "--shell", "bash", "mfa"))
    assert status == 3, out
    assert "needs a code from MFA device arn:aws:iam::123456789012:mfa/alice" in out
    assert len(out.strip().splitlines()) == 1
    assert (tmp_path / "stdout").read_text() == "(builtin exit 3)\n"  # code that only fails
    assert not (sw.home / "mfa_process_ran").exists()

    # A code given on the command line is not a question: no-prompt mode uses it.
    r = sw.world.awsv("use", "--no-prompt", "--shell", "bash", "mfa", "--mfa-token", "123456")
    assert r.returncode == 0, r.stderr
    assert "AWSV_PROFILE=mfa" in r.stdout


def test_use_exports_the_profile_colour_and_alias_and_off_unsets_them(sw: ShellWorld) -> None:
    r = sw.world.shell(
        "bash",
        'eval "$(awsv use prod)" || exit 9\n'
        'printf "%s|%s\\n" "$AWSV_COLOR" "$AWSV_ALIAS"\n'
        'eval "$(awsv off)"\nprintf "%s|%s\\n" "${AWSV_COLOR-unset}" "${AWSV_ALIAS-unset}"\n',
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["red|PRODUCTION", "unset|unset"]
    bad = sw.world.awsv("use", "--shell", "bash", "badcolor")
    assert bad.returncode == 1 and bad.stdout == "(builtin exit 1)\n"
    assert "awsv_color = 'chartreuse' is not a colour" in bad.stderr


def test_shell_init_prints_a_source_line_or_fails_cleanly(sw: ShellWorld, tmp_path: Path) -> None:
    for shell, path in [
        ("zsh", BASH_FILE.parent.parent / "zsh" / "awsv.plugin.zsh"),
        ("bash", BASH_FILE),
        ("fish", BASH_FILE.parent.parent / "fish" / "awsv.fish"),
    ]:
        r = sw.world.awsv("shell-init", shell)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"builtin source {path}\n"
    r = sw.world.awsv("shell-init", "tcsh")
    assert r.returncode == 2 and r.stdout == ""
    r = sw.world.awsv("shell-init", "--completion-data")
    records = [line.split("\t") for line in r.stdout.splitlines()]
    assert records[[rec[:2] for rec in records].index(["command", "use"])][:2] == ["command", "use"]
    assert ["positional", "use", "profile", "0"] in records
    assert ["alias", "ls", "list"] in records
    assert all(field for rec in records for field in rec)  # shells' read merges empty fields


def test_shell_init_finds_installed_files_and_quotes_the_path(tmp_path: Path) -> None:
    """Outside a checkout: $AWSV_HOME/shell as install.sh lays it out; a path with
    spaces and quotes is quoted for the shell; nothing found is one clean error."""
    from awsv.commands.shell_init import find_shell_file, source_line
    from awsv.errors import AwsvError

    home = tmp_path / "it's here"
    plugin = home / "shell" / "zsh" / "awsv.plugin.zsh"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("typeset -g AWSV_TEST_LOADED=yes\n")
    elsewhere = tmp_path / "site-packages" / "awsv"
    found = find_shell_file("zsh", {"AWSV_HOME": str(home)}, package_dir=elsewhere, prefix=tmp_path / "venv")
    assert found == plugin
    # install.sh's layout without AWSV_HOME exported: the venv's parent directory.
    assert find_shell_file("zsh", {}, package_dir=elsewhere, prefix=home / "venv") == plugin
    r = subprocess.run(
        ["zsh", "-f", "-c", source_line("zsh", found) + 'print -r -- "$AWSV_TEST_LOADED"'],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert r.stdout == "yes\n", r.stderr
    with pytest.raises(AwsvError) as err:
        find_shell_file("bash", {"HOME": str(tmp_path)}, package_dir=elsewhere, prefix=tmp_path / "venv")
    assert "cannot find awsv's bash integration" in err.value.message
    assert err.value.hint and "install.sh" in err.value.hint


def test_doctor_sees_the_integration_only_through_the_wrapper(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
) -> None:
    through, bare = doctor_shell_checks(open_bash(sw, terms, tmp_path), tmp_path)
    assert through["status"] == "pass" and "bash" in through["message"]
    assert bare["status"] == "warn" and "shell-init" in bare["fix"]


# -- eval "$(awsv use P)" with and without the integration, strict modes, prompts ---


@pytest.mark.parametrize("how", ["source", "none"])
def test_eval_form_works_with_and_without_the_integration(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
    how: str,
) -> None:
    term = open_bash(sw, terms, tmp_path, how)
    check_eval_forms(term, wrapper=how != "none")
    if how != "none":
        term.enter('eval "$(awsv use base)"')
        any_time = r"(\d+m|1h00m)"
        term.wait(rf"^{badge('base', any_time)} {PROMPT_MARK}")  # the hook sees a session set by eval too


def test_ctrl_c_at_a_prompt_through_the_integration(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
) -> None:
    from tests.conftest import TEST_PASSPHRASE

    term = open_bash(sw, terms, tmp_path, AWSV_FILE_PASSPHRASE="", AWSV_TEST_PASSPHRASE=TEST_PASSPHRASE)
    check_ctrl_c_at_prompts(term)


#: PROMPT_COMMAND as the user left it before loading, and how a part after ours is added.
#: The user's own part keeps $? (as ours does), so the part after ours can see it.
PROMPT_COMMAND_FORMS = {
    "unset": ("unset PROMPT_COMMAND", "PROMPT_COMMAND+=$'\\nPC_SEEN=$?'"),
    "string": ("PROMPT_COMMAND='pc_count && :'", "PROMPT_COMMAND+=$'\\nPC_SEEN=$?'"),
    "array": ("PROMPT_COMMAND=('pc_count && :')", "PROMPT_COMMAND+=('PC_SEEN=$?')"),
}
PC_COUNT = 'pc_count() { local s=$?; PC_RUNS=$((${PC_RUNS:-0} + 1)); return "$s"; }\n'


@pytest.mark.parametrize("form", list(PROMPT_COMMAND_FORMS))
def test_integration_under_set_euo_pipefail(
    sw: ShellWorld,
    terms: list[Term],
    tmp_path: Path,
    form: str,
) -> None:
    """bash 5.1+ (PROMPT_COMMAND may be an array) under `set -euo pipefail`: the hook is
    installed, keeps $? for what runs after it, survives a refresh that needs input
    (status 3) and a setting unset; completion and both eval forms work."""
    major, minor = term_bash_version()
    assert (int(major), int(minor)) >= (5, 1), "the array form of PROMPT_COMMAND needs bash 5.1"
    before, after = PROMPT_COMMAND_FORMS[form]
    rc = sw.home / ".bashrc"
    rc.write_text(
        f"set -euo pipefail\nPS1='BP> '\n{PC_COUNT}{before}\nAWSV_PROMPT_AUTO=1\n"
        f"AWSV_REFRESH_INTERVAL=0\nAWSV_REFRESH_WINDOW=1000\nsource {BASH_FILE}\n{after}\n"
    )
    term = Term(tmp_path / "bash-strict", ["bash", "--noprofile", "--rcfile", str(rc), "-i"], sw.env())
    terms.append(term)
    term.wait(rf"{PROMPT_MARK} $")
    assert term.value("$-").count("e") == 1 and term.value("$-").count("u") == 1
    term.enter("unset AWSV_PROMPT_PREFIX AWSV_PROMPT_KEY_TEXT")
    term.enter("awsv use base")
    term.wait(rf"^base {ACCOUNT_ID} (\d+m|1h00m)\] {PROMPT_MARK}")

    term.enter("(exit 7) && :")  # a failed status that set -e lets through
    assert term.values("$?", "$PC_SEEN") == ["7", "7"]
    if form != "unset":
        assert int(term.value("$PC_RUNS")) >= 3  # the user's own part still runs

    check_eval_forms(term, wrapper=True)

    term.type("awsv us")
    term.keys("Tab")
    term.type("Z")
    term.wait(rf"{PROMPT_MARK} awsv use Z\s*$")
    term.keys("C-u")

    # A refresh that needs input: marked, one hint, and the shell is still there.
    term.enter("awsv use mfa --mfa-token 123456 && awsv clear mfa")
    term.wait(rf"^mfa {ACCOUNT_ID} (\d+m|1h00m)\] {PROMPT_MARK}")
    term.enter("printf -v now '%(%s)T' -1; AWSV_EXPIRES=$((now + 110))")  # not tied to the cache's age
    term.wait(rf"^mfa {ACCOUNT_ID} 1m!\] {PROMPT_MARK}")
    assert term.screen().count(HINT_MFA) == 1
    assert term.value("$AWSV_PROFILE") == "mfa"
    term.enter("awsv off")
    term.sync()
    assert term.value("${AWSV_PROFILE-unset}") == "unset"


def term_bash_version() -> list[str]:
    """The bash on PATH's version, e.g. ['5', '2']."""
    out = subprocess.run(
        ["bash", "-c", 'echo "${BASH_VERSINFO[0]} ${BASH_VERSINFO[1]}"'],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout
    return out.split()

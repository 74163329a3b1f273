"""The zsh integration in a real interactive zsh, driven through tmux.

Everything is real: zsh 5 runs interactively in a detached tmux pane (so
prompts, RPROMPT, colours and completion are drawn as a user sees them and
read back with `capture-pane`), `awsv` is the helper itself on PATH, and
credentials come from moto's server over HTTP through the real file vault
of a temporary HOME (the `World` of tests/support/use_world.py).

oh-my-zsh cannot be installed here, so its loader is a minimal stand-in
(`STANDIN_OMZ`) that does what oh-my-zsh does for a plugin: put the plugin
directory on fpath, run compinit, source `$ZSH_CUSTOM/plugins/NAME/NAME.plugin.zsh`
for each of `plugins=(…)`, then load a theme that sets RPROMPT and adds a
precmd hook of its own.

The tmux driver (`Term`) is tests/support/tmux_term.py; the world and the
checks shared with bash are tests/support/shell_integration.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.shell_integration import (
    SGR_CYAN,
    SGR_MAGENTA,
    SGR_RED,
    SGR_YELLOW,
    ZSH_PLUGIN,
    ShellWorld,
    badge,
    check_ctrl_c_at_prompts,
    check_eval_forms,
    doctor_shell_checks,
    make_shell_world,
)
from tests.support.tmux_term import Term, forks_of_a_command_and_of_prompts, terms  # noqa: F401  (terms: a fixture)

# -- the world -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> ShellWorld:
    return make_shell_world(tmp_path_factory, moto_url)


# -- the terminal ----------------------------------------------------------------


# -- zsh setups --------------------------------------------------------------------

PROMPT_MARK = "ZP>"

STANDIN_OMZ = """\
# A minimal stand-in for oh-my-zsh's loader: what a plugin and a theme see.
: ${ZSH_CUSTOM:=$ZSH/custom}
autoload -Uz add-zsh-hook
setopt prompt_subst
local plugin
for plugin in $plugins; do
  fpath=($ZSH_CUSTOM/plugins/$plugin $fpath)
done
autoload -Uz compinit && compinit -u -d $ZSH/.zcompdump
for plugin in $plugins; do
  if [[ -f $ZSH_CUSTOM/plugins/$plugin/$plugin.plugin.zsh ]]; then
    source $ZSH_CUSTOM/plugins/$plugin/$plugin.plugin.zsh
  else
    print -u2 "[oh-my-zsh] plugin '$plugin' not found"
  fi
done
source $ZSH/themes/$ZSH_THEME.zsh-theme
"""

#: A theme that sets RPROMPT after the plugins loaded and has its own precmd hook.
STANDIN_THEME = """\
PROMPT='ZP> '
RPROMPT='%F{green}THEME%f'
theme_precmd() { (( THEME_RUNS++ )) }
add-zsh-hook precmd theme_precmd
"""

COMMON_RC = """\
unsetopt prompt_sp
AWSV_PROMPT_AUTO=1
AWSV_PROMPT_COLORS=('*sandbox*=magenta')
AWSV_REFRESH_INTERVAL=0
"""


def zshrc(sw: ShellWorld, how: str, extra: str = "") -> None:
    """Write ~/.zshrc loading the plugin `how`: omz, source or shell-init (or none)."""
    home = sw.home
    if how == "omz":
        omz = home / ".oh-my-zsh"
        plugin_dir = omz / "custom" / "plugins" / "awsv"
        if plugin_dir.exists():
            shutil.rmtree(plugin_dir)
        plugin_dir.parent.mkdir(parents=True, exist_ok=True)
        # What install.sh does: copy shell/zsh/. into the plugin directory.
        shutil.copytree(ZSH_PLUGIN.parent, plugin_dir)
        (omz / "themes").mkdir(exist_ok=True)
        (omz / "oh-my-zsh.sh").write_text(STANDIN_OMZ)
        (omz / "themes" / "standin.zsh-theme").write_text(STANDIN_THEME)
        body = f"export ZSH={omz}\nZSH_THEME=standin\nplugins=(git awsv)\n{COMMON_RC}{extra}source $ZSH/oh-my-zsh.sh\n"
    elif how == "source":
        # Sourced twice (say, .zshrc and a plugin manager), compinit only afterwards:
        # completion must then register itself at the first prompt.
        body = (
            f"PROMPT='ZP> '\nprecmd() {{ (( USER_PRECMD_RUNS++ )) }}\n{COMMON_RC}{extra}"
            f"source {ZSH_PLUGIN}\nsource {ZSH_PLUGIN}\n"
            "autoload -Uz compinit && compinit -u -d $HOME/.zcompdump\n"
        )
    elif how == "none":
        body = f"PROMPT='ZP> '\n{COMMON_RC}{extra}"
    else:
        body = (
            f"PROMPT='ZP> '\nautoload -Uz compinit && compinit -u -d $HOME/.zcompdump\n"
            f'{COMMON_RC}{extra}eval "$(awsv shell-init zsh)"\n'
        )
    (home / ".zshrc").write_text(body)


def open_zsh(sw: ShellWorld, terms: list[Term], tmp: Path, how: str = "source", extra: str = "", **env: str) -> Term:
    zshrc(sw, how, extra)
    term = Term(tmp / f"zsh-{len(terms)}", ["zsh", "-d", "-i"], sw.env(**env))
    terms.append(term)
    term.wait(rf"^{PROMPT_MARK}")
    return term


# -- tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["omz", "source", "shell-init"])
def test_loads_three_ways_and_use_shows_the_badge(sw: ShellWorld, terms: list[Term], tmp_path: Path, how: str) -> None:
    term = open_zsh(sw, terms, tmp_path, how)
    kind, hooks = term.values("$(whence -w awsv)", "${(j:,:)precmd_functions}")
    assert kind == "awsv: function"
    assert hooks.split(",").count("_awsv_precmd") == 1, hooks

    term.enter("awsv use base")
    line = term.wait(rf"^{PROMPT_MARK} .*{badge('base')}.*$").group(0)
    profile, vault, account, region = term.values("$AWSV_PROFILE", "$AWS_VAULT", "$AWSV_ACCOUNT", "$AWS_REGION")
    assert (profile, vault, account, region) == ("base", "base", ACCOUNT_ID, "eu-west-1")
    if how == "omz":
        # The theme's RPROMPT and its precmd hook survive next to the badge.
        assert re.search(badge("base") + " THEME$", line), line
        assert int(term.value("$THEME_RUNS")) >= 3
    elif how == "source":
        assert int(term.value("$USER_PRECMD_RUNS")) >= 3

    # Completion is registered in every setup that ran compinit.
    term.type("awsv us")
    term.keys("Tab")
    term.wait(rf"^{PROMPT_MARK} awsv use ")
    term.keys("C-u")

    term.enter("awsv off")
    term.sync()
    assert term.value("${AWSV_PROFILE-unset}") == "unset"
    assert "[base" not in term.last_prompt(PROMPT_MARK)


def test_badge_colours_alias_and_expiry(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_zsh(sw, terms, tmp_path)
    term.enter("awsv use prod")
    term.wait(badge("PRODUCTION"))
    assert term.values("$AWSV_COLOR", "$AWSV_ALIAS") == ["red", "PRODUCTION"]
    assert SGR_RED + f"PRODUCTION {ACCOUNT_ID} " in term.last_prompt(PROMPT_MARK, colors=True)

    term.enter("awsv use team-sandbox")  # a user pattern: *sandbox*=magenta
    term.wait(badge("team-sandbox"))
    assert SGR_MAGENTA + "team-sandbox" in term.last_prompt(PROMPT_MARK, colors=True)
    assert term.value("${AWSV_COLOR-unset}") == "unset"  # use unsets what the new profile lacks

    term.enter("awsv use base")  # no colour anywhere: the default, cyan
    term.wait(badge("base"))
    assert SGR_CYAN + "base" in term.last_prompt(PROMPT_MARK, colors=True)

    # Forged expiry (refresh off, so nothing renews it): yellow under 10 minutes...
    term.enter("AWSV_REFRESH=0; AWSV_EXPIRES=$(( EPOCHSECONDS + 290 ))")
    term.wait(badge("base", "4m"))
    assert re.search(re.escape(SGR_YELLOW) + "4m", term.last_prompt(PROMPT_MARK, colors=True))
    term.enter("AWSV_EXPIRES=$(( EPOCHSECONDS + 7530 ))")
    term.wait(badge("base", "2h0[45]m"))
    # ...and a red "expired" once past.
    term.enter("AWSV_EXPIRES=$(( EPOCHSECONDS - 5 ))")
    term.wait(badge("base", "expired"))
    assert SGR_RED + "expired" in term.last_prompt(PROMPT_MARK, colors=True)

    term.enter("awsv off")
    term.sync()
    assert term.values("${AWSV_COLOR-unset}", "${AWSV_ALIAS-unset}") == ["unset", "unset"]


def test_silent_refresh_renews_the_session(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_zsh(sw, terms, tmp_path, extra="AWSV_REFRESH_WINDOW=1000\n")
    # A 15-minute role is inside the 1000 s window at once: the very next prompt
    # renews it (with the default hour), without a word on the terminal.
    term.enter('awsv use prod --duration 15m; printf \'<<%s|%s|%s>>\\n\' K1 "$AWS_ACCESS_KEY_ID" "$AWSV_EXPIRES"')
    key1, expires1 = term.wait(r"<<K1\|(.*?)\|(.*?)>>").groups()
    assert int(expires1) - time.time() < 1000
    key2, expires2 = term.values("$AWS_ACCESS_KEY_ID", "$AWSV_EXPIRES")
    assert key2.startswith("ASIA") and key2 != key1
    assert int(expires2) - time.time() > 3000
    term.wait(badge("PRODUCTION"))
    assert "awsv: " not in term.screen().split("K1|", 1)[1]  # silent

    # A forged expiry inside the window: the next prompt puts the real one back
    # (the cached role still has an hour, so no STS call is needed).
    term.enter("AWSV_EXPIRES=$(( EPOCHSECONDS + 60 ))")
    term.sync()
    assert term.value("$AWSV_EXPIRES") == expires2
    assert term.value("$AWS_ACCESS_KEY_ID") == key2


def test_refresh_uses_the_cached_mfa_session_else_marks_the_badge(
    sw: ShellWorld, terms: list[Term], tmp_path: Path
) -> None:
    """With the MFA session cached, a role renews silently; without it, the badge is
    marked, one hint is printed, and the prompt comes back at once."""
    (sw.home / "mfa_process_ran").unlink(missing_ok=True)
    term = open_zsh(sw, terms, tmp_path, extra="AWSV_REFRESH_WINDOW=1000\n")
    # The MFA code opens a one-hour session; the 15-minute role on top of it is
    # renewed at the next prompt from that cached session, without asking.
    term.enter("awsv use mfa --mfa-token 123456 --duration 15m")
    term.wait(badge("mfa"))
    assert int(term.value("$AWSV_EXPIRES")) - time.time() > 3000

    # No cached session any more, and expiry is near: renewing needs a new code.
    term.enter("awsv clear mfa")
    term.sync()
    started = time.monotonic()
    term.enter("AWSV_EXPIRES=$(( EPOCHSECONDS + 110 ))")
    term.wait(r"\[mfa " + ACCOUNT_ID + r" 1m!\]")
    assert time.monotonic() - started < 15
    assert re.search(
        re.escape(SGR_YELLOW) + "1m" + re.escape(SGR_RED) + "!", term.last_prompt(PROMPT_MARK, colors=True)
    )
    hint = "awsv: renewing 'mfa' needs your passphrase or MFA code: run awsv use mfa"
    assert term.screen().count(hint) == 1
    # Every prompt tries again (interval 0 here), but the hint is said once.
    term.keys("Enter")
    term.keys("Enter")
    term.sync()
    assert term.screen().count(hint) == 1
    assert term.value("$AWSV_PROFILE") == "mfa"  # the old credentials stay until they expire
    assert not (sw.home / "mfa_process_ran").exists()  # no-prompt mode never runs mfa_process
    assert sw.calls("use --no-prompt --quiet --shell zsh --region us-west-2 -- mfa") >= 3


def test_completion_of_commands_flags_and_profiles(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_zsh(sw, terms, tmp_path)
    term.type("awsv use team-s")
    term.keys("Tab")
    term.wait(rf"^{PROMPT_MARK} awsv use team-sandbox ")
    term.keys("C-u")
    term.type("awsv use --no-p")
    term.keys("Tab")
    term.wait(rf"^{PROMPT_MARK} awsv use --no-prompt ")
    term.keys("C-u")
    term.type("awsv shell-init ")
    term.keys("Tab")
    term.wait(r"^bash\s+fish\s+zsh\s*$")
    term.keys("C-u")
    term.type("awsv exec base -- whoam")
    term.keys("Tab")
    term.wait(rf"^{PROMPT_MARK} awsv exec base -- whoami ")
    term.keys("C-u")
    term.sync()


def test_profile_names_are_cached_until_the_config_changes(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    big = tmp_path / "big-config"
    big.write_text("".join(f"[profile p{i:04d}]\nregion = eu-west-1\n\n" for i in range(1000)))
    term = open_zsh(sw, terms, tmp_path, AWS_CONFIG_FILE=str(big))
    before = sw.calls("list --names")
    term.type("awsv use p099")
    term.keys("Tab")
    term.wait(r"p0990\s+p0991")
    term.keys("C-u")
    term.type("awsv use p012")
    term.keys("Tab")
    term.wait(r"p0120\s+p0121")
    term.keys("C-u")
    assert sw.calls("list --names") == before + 1
    with big.open("a") as f:
        f.write("[profile q-new]\n")
    term.type("awsv use q-")
    term.keys("Tab")
    term.wait(rf"^{PROMPT_MARK} awsv use q-new ")
    term.keys("C-u")
    assert sw.calls("list --names") == before + 2


def test_no_fork_per_prompt_with_an_active_session(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    term = open_zsh(sw, terms, tmp_path)
    term.enter("awsv use base")
    term.wait(badge("base"))
    term.sync()

    control, per_prompts = forks_of_a_command_and_of_prompts(term, tmp_path)
    assert control >= 1  # the counter works: one external command is at least one fork
    assert per_prompts == 0
    assert re.search(badge("base"), term.last_prompt(PROMPT_MARK))


def test_doctor_sees_the_integration_only_through_the_wrapper(
    sw: ShellWorld, terms: list[Term], tmp_path: Path
) -> None:
    through, bare = doctor_shell_checks(open_zsh(sw, terms, tmp_path), tmp_path)
    assert through["status"] == "pass" and "zsh" in through["message"]
    assert bare["status"] == "warn"


def test_passphrase_typed_once_through_the_plugin_and_credential_process(
    sw: ShellWorld, terms: list[Term], tmp_path: Path
) -> None:
    """Real use with the agent on: the zsh plugin's `awsv use`, and the AWS CLI's
    credential_process, across several commands, fetch the passphrase once."""
    from tests.conftest import TEST_PASSPHRASE

    counter, script = tmp_path / "asked", tmp_path / "pw"
    script.write_text(f'#!/bin/sh\necho asked >> "{counter}"\nprintf "%s\\n" "{TEST_PASSPHRASE}"\n')
    script.chmod(0o700)
    config = sw.home / ".aws" / "config"
    if "[profile viaawsv]" not in config.read_text():
        with config.open("a") as fh:
            fh.write(f"\n[profile viaawsv]\ncredential_process = {sw.bin}/awsv exec -j team-sandbox\n")
    env = {"AWSV_AGENT": "auto", "AWSV_FILE_PASSPHRASE": "", "AWSV_PASSPHRASE_COMMAND": str(script)}
    term = open_zsh(sw, terms, tmp_path, **env)
    out = tmp_path / "arn.txt"
    try:
        term.enter("awsv use prod && awsv off && awsv use team-sandbox && awsv use base; echo STEP1")
        term.wait(r"^STEP1")
        term.enter(
            f"aws sts get-caller-identity --profile viaawsv --query Arn --output text > {out}; "
            f"aws sts get-caller-identity --profile viaawsv --query Arn --output text >> {out}; "
            "echo STEP2"
        )
        term.wait(r"^STEP2", timeout=60)
        assert term.value("$AWSV_PROFILE") == "base"
    finally:
        lock = subprocess.run(
            [str(sw.bin / "awsv"), "lock"], env=sw.env(**env), capture_output=True, text=True, timeout=30
        )
    assert lock.returncode == 0, lock.stderr
    arns = out.read_text().split()
    assert len(arns) == 2 and all(":assumed-role/Sandbox/" in a for a in arns)
    assert counter.read_text().count("asked") == 1


# -- eval "$(awsv use P)" with and without the plugin, strict options, prompts ------


@pytest.mark.parametrize("how", ["omz", "source", "none"])
def test_eval_form_works_with_and_without_the_plugin(
    sw: ShellWorld, terms: list[Term], tmp_path: Path, how: str
) -> None:
    term = open_zsh(sw, terms, tmp_path, how)
    check_eval_forms(term, wrapper=how != "none")
    if how != "none":
        term.enter('eval "$(awsv use base)"')
        term.wait(badge("base", r"(\d+m|1h00m)"))  # the prompt hook sees a session set by eval too


@pytest.mark.parametrize("how", ["omz", "source"])
def test_plugin_under_nounset_and_err_exit(sw: ShellWorld, terms: list[Term], tmp_path: Path, how: str) -> None:
    # The stand-in theme's and user's hooks count with `(( N++ ))`, which fails for 0.
    term = open_zsh(
        sw,
        terms,
        tmp_path,
        how,
        extra="typeset -gi THEME_RUNS=1 USER_PRECMD_RUNS=1\nsetopt nounset err_exit\nAWSV_REFRESH_WINDOW=1000\n",
    )
    term.enter("unset AWSV_PROMPT_PREFIX AWSV_PROMPT_KEY_TEXT")  # a setting unset: no prompt breaks
    term.enter("awsv use base")
    term.wait(rf"(?<!\[)base {ACCOUNT_ID} (\d+m|1h00m)\]")
    term.enter("(exit 7) && :")
    assert term.value("$?") == "7"  # the hook keeps the last command's status
    check_eval_forms(term, wrapper=True)
    # A refresh that needs input: marked, one hint, and the shell is still there.
    term.enter("awsv use mfa --mfa-token 123456 && awsv clear mfa")
    term.wait(rf"mfa {ACCOUNT_ID} (\d+m|1h00m)\]")
    term.enter("AWSV_EXPIRES=$(( EPOCHSECONDS + 110 ))")
    term.wait(rf"mfa {ACCOUNT_ID} 1m!\]")
    assert "awsv: renewing 'mfa' needs your passphrase or MFA code" in term.screen()
    assert term.value("$AWSV_PROFILE") == "mfa"


def test_ctrl_c_at_a_prompt_through_the_plugin(sw: ShellWorld, terms: list[Term], tmp_path: Path) -> None:
    from tests.conftest import TEST_PASSPHRASE

    term = open_zsh(sw, terms, tmp_path, AWSV_FILE_PASSPHRASE="", AWSV_TEST_PASSPHRASE=TEST_PASSPHRASE)
    check_ctrl_c_at_prompts(term)


@pytest.mark.parametrize(
    ("shell", "argv", "form"),
    [
        ("bash", ["bash", "--norc", "-c"], 'eval "$(awsv use base)"'),
        ("zsh", ["zsh", "-f", "-c"], 'eval "$(awsv use base)"'),
        ("fish", ["fish", "--no-config", "-c"], "awsv use base | source"),
    ],
)
def test_refusal_on_a_terminal_names_the_shell_in_use(sw: ShellWorld, shell: str, argv: list[str], form: str) -> None:
    """`awsv use` typed without the integration: the hint is for the shell awsv runs under
    (SHELL says /bin/sh here, so only the parent process can tell)."""
    import pexpect

    child = pexpect.spawn(
        argv[0],
        [*argv[1:], f"{sys.executable} -m awsv use base; true"],
        env=sw.env(),
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 400),
    )
    child.expect(pexpect.EOF)
    child.close()
    out = child.before
    assert child.exitstatus == 0  # the `true` after it: the shell ran awsv as a child
    assert "awsv: hint:" in out and form in out, out
    assert "AWS_SECRET_ACCESS_KEY" not in out
    if shell == "fish":
        assert 'eval "' not in out and "zsh" not in out
    else:
        assert f'eval "$(awsv shell-init {shell})"' in out
        assert ("zsh" in out) == (shell == "zsh")

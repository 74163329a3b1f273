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

The tmux driver (`Term`) and the world setup are shared with
tests/test_shell_bash.py.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.use_world import World, make_world

REPO = Path(__file__).resolve().parent.parent
ZSH_PLUGIN = REPO / "shell" / "zsh" / "awsv.plugin.zsh"
BASH_FILE = REPO / "shell" / "bash" / "awsv.bash"

#: Profiles for the badge: a default-coloured one, one with awsv_color and
#: awsv_alias, one coloured by a user pattern, one that needs MFA (with an
#: mfa_process that leaves a file behind, to prove no-prompt mode never runs it),
#: and one whose MFA code is asked for on the terminal.
SHELL_CONFIG = """\
[profile base]
region = eu-west-1

[profile prod]
role_arn = arn:aws:iam::123456789012:role/Prod
source_profile = base
region = us-east-2
awsv_color = red
awsv_alias = PRODUCTION

[profile team-sandbox]
role_arn = arn:aws:iam::123456789012:role/Sandbox
source_profile = base
region = us-east-1

[profile mfa]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/alice
mfa_process = {python} -c "open('{home}/mfa_process_ran', 'w')"
region = us-west-2

[profile badcolor]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = base
awsv_color = chartreuse

[profile mfa-ask]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/bob
"""

SGR_RED, SGR_YELLOW, SGR_MAGENTA, SGR_CYAN = "\x1b[31m", "\x1b[33m", "\x1b[35m", "\x1b[36m"


# -- the world -------------------------------------------------------------------


@dataclass
class ShellWorld:
    """A World plus a PATH on which `awsv` is the helper of this checkout."""

    world: World
    bin: Path
    log: Path

    @property
    def home(self) -> Path:
        return self.world.home

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(self.world.env)
        env.update(
            PATH=f"{self.bin}:{env['PATH']}",
            TERM="xterm-256color",
            AWSV_AGENT="off",
            AWSV_TEST_LOG=str(self.log),
            ZDOTDIR=str(self.home),
            SHELL="/bin/sh",
        )
        env.update(extra)
        return env

    def calls(self, args: str) -> int:
        """How many times the helper ran with exactly these arguments."""
        if not self.log.exists():
            return 0
        return self.log.read_text().splitlines().count(args)


def make_shell_world(tmp_path_factory: pytest.TempPathFactory, moto: str) -> ShellWorld:
    world = make_world(tmp_path_factory, moto, SHELL_CONFIG)
    bin_dir = world.home.parent / "bin"
    bin_dir.mkdir()
    log = world.home.parent / "awsv-calls.log"
    script = bin_dir / "awsv"
    # A logging front for the real helper, so tests can count its runs.
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "$AWSV_TEST_LOG"\nexec {sys.executable} -m awsv "$@"\n')
    script.chmod(0o755)
    return ShellWorld(world, bin_dir, log)


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> ShellWorld:
    return make_shell_world(tmp_path_factory, moto_url)


# -- the terminal ----------------------------------------------------------------


class Term:
    """An interactive shell in a detached tmux pane, read back with capture-pane."""

    def __init__(
        self, workdir: Path, argv: list[str], env: dict[str, str], *, width: int = 160, height: int = 45
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.sock = str(workdir / "tmux.sock")
        self.env = env
        self.workdir = workdir
        self._n = 0
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-c", str(workdir), "--", *argv)

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", self.sock, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Tab, Enter, C-u ...)."""
        self.tmux("send-keys", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)

    def enter(self, line: str) -> None:
        self.type(line)
        self.keys("Enter")

    def screen(self, colors: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-S", "-500", *(["-e"] if colors else []))

    def wait(self, pattern: str, *, timeout: float = 30, colors: bool = False) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(colors)
            match = re.search(pattern, text, re.MULTILINE)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}; screen:\n{text}")
            time.sleep(0.03)

    def sync(self) -> None:
        """Wait until everything typed so far has run and a new prompt is up."""
        self._n += 1
        self.enter(f"printf '<<%s>>\\n' S{self._n}")
        self.wait(rf"<<S{self._n}>>")

    def values(self, *exprs: str) -> list[str]:
        """The values of shell expressions, e.g. '$AWSV_PROFILE' (the marker is split so
        the echoed command line never matches it)."""
        self._n += 1
        fmt = "~~".join(["%s"] * len(exprs))
        quoted = " ".join(f'"{e}"' for e in exprs)
        self.enter(f"printf '<<%s|{fmt}>>\\n' V{self._n} {quoted}")
        return self.wait(rf"<<V{self._n}\|([\s\S]*?)>>").group(1).split("~~")

    def value(self, expr: str) -> str:
        return self.values(expr)[0]

    def last_prompt(self, marker: str, *, colors: bool = False) -> str:
        """The last line of the screen that starts with the prompt marker."""
        lines = [
            line for line in self.screen(colors).splitlines() if re.sub(r"\x1b\[[0-9;]*m", "", line).startswith(marker)
        ]
        assert lines, self.screen()
        return lines[-1]

    def pid(self) -> int:
        return int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True, timeout=10, check=False)


@pytest.fixture
def terms() -> Iterator[list[Term]]:
    """Collects the terminals a test opens and kills their tmux servers afterwards."""
    opened: list[Term] = []
    yield opened
    for term in opened:
        term.close()


def count_forks(term: Term, tmp: Path, action: Callable[[], object]) -> int:
    """Forks made by the shell (and its children) while `action` runs, by strace -f -c."""
    out = tmp / f"strace-{time.monotonic_ns()}.txt"
    proc = subprocess.Popen(
        ["strace", "-f", "-c", "-e", "trace=clone,clone3,fork,vfork", "-o", str(out), "-p", str(term.pid())],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert "attached" in first, first
    action()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    total = 0
    for line in out.read_text().splitlines():
        fields = line.split()
        if fields and fields[-1] in ("clone", "clone3", "fork", "vfork") and fields[3].isdigit():
            total += int(fields[3])
    return total


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


def forks_of_a_command_and_of_prompts(term: Term, tmp: Path) -> tuple[int, int]:
    """Forks while running `/bin/true` (the control), then over 20 bare prompts."""
    control = count_forks(term, tmp, lambda: (term.enter("/bin/true"), term.sync()))

    def prompts() -> None:
        for _ in range(20):
            term.keys("Enter")
        term.sync()

    return control, count_forks(term, tmp, prompts)


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


def badge(profile: str, left: str = r"(59m|1h00m)") -> str:
    return rf"\[{profile} {ACCOUNT_ID} {left}\]"


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


def doctor_shell_checks(term: Term, tmp: Path) -> tuple[dict[str, str], dict[str, str]]:
    """`awsv doctor`'s shell check run through the wrapper, then past it (`command awsv`)."""
    through, bare = tmp / "through.json", tmp / "bare.json"
    term.enter(f"awsv doctor --json > {through}; command awsv doctor --json > {bare}; echo DONE")
    term.wait(r"^DONE")
    return tuple(  # type: ignore[return-value]
        next(c for c in json.loads(path.read_text())["checks"] if c["check"] == "shell") for path in (through, bare)
    )


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


def check_eval_forms(term: Term, *, wrapper: bool) -> None:
    """The eval contract on a real terminal: `eval "$(awsv use P)"` works (with the
    wrapper loaded too), a failed one fails and changes nothing, `off` the same way,
    and a pipe gets the code. With the wrapper, `awsv use P` typed works as well.
    Markers are split in the typed line (`"<<o""k>>"`) so only output matches."""
    term.enter('eval "$(awsv use base)" && echo "<<o""k>>"')
    term.wait(r"^<<ok>>")
    key, profile = term.values("$AWS_ACCESS_KEY_ID", "$AWSV_PROFILE")
    assert profile == "base"
    term.enter('eval "$(awsv use nope)" && echo "<<B""AD>>"; echo "<<rc=$?>>"')
    assert term.wait(r"<<rc=(\d+)>>").group(1) == "1"
    assert "<<BAD>>" not in term.screen()
    assert term.values("$AWS_ACCESS_KEY_ID", "$AWSV_PROFILE") == [key, "base"]
    if wrapper:
        term.enter('awsv use nope || echo "<<rc2=$?>>"')  # `||`: fine under err_exit too
        assert term.wait(r"<<rc2=(\d+)>>").group(1) == "1"
        assert term.values("$AWS_ACCESS_KEY_ID", "$AWSV_PROFILE") == [key, "base"]
        term.enter('awsv use prod; eval "$(awsv off)"')
    else:
        term.enter('eval "$(awsv use prod)"; eval "$(awsv off)"')
    term.sync()
    assert term.values("${AWSV_PROFILE-unset}", "${AWS_ACCESS_KEY_ID-unset}") == ["unset", "unset"]
    term.enter('awsv off | grep -c "unset -v AWSV_PROFILE"; echo "<<pipe=$?>>"')
    assert term.wait(r"<<pipe=(\d+)>>").group(1) == "0"


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


def check_ctrl_c_at_prompts(term: Term) -> None:
    """Ctrl-C at the passphrase prompt and at the MFA prompt, through the wrapper:
    status 130, the error on a line of its own, nothing changed."""
    term.enter("awsv use base")
    term.wait(r"awsv vault passphrase: ")
    term.keys("C-c")
    term.wait(r"^awsv: error: interrupted", timeout=15)
    term.enter('echo "<<st=$?>>"')
    assert term.wait(r"<<st=(\d+)>>").group(1) == "130"
    assert term.value("${AWSV_PROFILE-unset}") == "unset"

    term.enter("AWSV_FILE_PASSPHRASE=$AWSV_TEST_PASSPHRASE awsv use mfa-ask")
    term.wait(r"MFA code for arn:aws:iam::123456789012:mfa/bob: ")
    term.keys("C-c")
    # Not `…mfa/bob: ^Cawsv: error: …` on one line: the prompt's line is ended first.
    term.wait(r"mfa/bob: \^C\n+awsv: error: interrupted", timeout=15)
    term.enter('echo "<<st2=$?>>"')
    assert term.wait(r"<<st2=(\d+)>>").group(1) == "130"
    assert term.value("${AWSV_PROFILE-unset}") == "unset"


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

"""The world of the interactive shell tests: profiles for the badge, the helper on PATH, shared checks.

`make_shell_world` builds on tests/support/use_world.py's world (a vault holding
moto user alice's key as `base`) with `SHELL_CONFIG`'s profiles and a logging
`awsv` front on PATH, so a test can count the helper's runs. The checks here
(`check_eval_forms`, `check_ctrl_c_at_prompts`, `doctor_shell_checks`) are
the same for zsh and bash and run on a `Term` of either.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.moto_server import ACCOUNT_ID
from tests.support.tmux_term import Term
from tests.support.use_world import World, make_world

REPO = Path(__file__).resolve().parent.parent.parent


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


def badge(profile: str, left: str = r"(59m|1h00m)") -> str:
    return rf"\[{profile} {ACCOUNT_ID} {left}\]"


def doctor_shell_checks(term: Term, tmp: Path) -> tuple[dict[str, str], dict[str, str]]:
    """`awsv doctor`'s shell check run through the wrapper, then past it (`command awsv`)."""
    through, bare = tmp / "through.json", tmp / "bare.json"
    term.enter(f"awsv doctor --json > {through}; command awsv doctor --json > {bare}; echo DONE")
    term.wait(r"^DONE")
    return tuple(  # type: ignore[return-value]
        next(c for c in json.loads(path.read_text())["checks"] if c["check"] == "shell") for path in (through, bare)
    )


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

"""An interactive bash with the integration loaded, on a tmux `Term`.

`open_bash` writes an rc file (the user's own PS1 and PROMPT_COMMAND first,
then the integration loaded `how`: sourced twice, through shell-init, or not
at all) and waits for the first prompt, marked `PROMPT_MARK`.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.shell_integration import BASH_FILE, ShellWorld
from tests.support.tmux_term import Term

PROMPT_MARK = "BP>"


def bashrc(sw: ShellWorld, how: str, extra: str = "") -> Path:
    """An rc file loading the integration `how` (source, twice; shell-init; or none)
    after the user's own PROMPT_COMMAND."""
    load = {
        "source": f"source {BASH_FILE}\nsource {BASH_FILE}\n",
        "shell-init": 'eval "$(awsv shell-init bash)"\n',
        "none": "",
    }[how]
    rc = sw.home / ".bashrc"
    rc.write_text(
        "PS1='BP> '\nPROMPT_COMMAND='PC_RUNS=$((PC_RUNS+1))'\nAWSV_PROMPT_AUTO=1\n"
        "AWSV_PROMPT_COLORS=('*sandbox*=magenta')\nAWSV_REFRESH_INTERVAL=0\n"
        f"{extra}{load}"
    )
    return rc


def open_bash(
    sw: ShellWorld,
    terms: list[Term],
    tmp: Path,
    how: str = "source",
    extra: str = "",
    **env: str,
) -> Term:
    rc = bashrc(sw, how, extra)
    term = Term(tmp / f"bash-{len(terms)}", ["bash", "--noprofile", "--rcfile", str(rc), "-i"], sw.env(**env))
    terms.append(term)
    term.wait(rf"{PROMPT_MARK} $")
    return term

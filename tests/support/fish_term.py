"""An interactive fish with the integration loaded, on a tmux `Term`.

`open_fish` writes `~/.config/fish` (settings, a prompt marked `PROMPT_MARK`
and a right prompt of the user's) with the integration loaded `how`: from
conf.d as install.sh puts it, sourced twice, or through shell-init.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.shell_integration import REPO, ShellWorld
from tests.support.tmux_term import Term

FISH_FILE = REPO / "shell" / "fish" / "awsv.fish"


PROMPT_MARK = "FP>"


def fish_config(sw: ShellWorld, how: str, extra: str = "") -> None:
    """~/.config/fish: a prompt, a right prompt of the user's, and the integration
    loaded `how`: conf.d (what install.sh does), source (twice) or shell-init."""
    conf = sw.home / ".config" / "fish"
    confd = conf / "conf.d"
    confd.mkdir(parents=True, exist_ok=True)
    (confd / "awsv.fish").unlink(missing_ok=True)
    # conf.d runs before config.fish, so settings for that case go in a conf.d file
    # sorting before ours (as a user would do, or set them universally).
    settings = (
        "set -g fish_greeting ''\nset -g AWSV_PROMPT_AUTO 1\n"
        "set -g AWSV_PROMPT_COLORS '*sandbox*=magenta'\nset -g AWSV_REFRESH_INTERVAL 0\n"
        f"{extra}"
    )
    (confd / "00-settings.fish").write_text(settings)
    load = ""
    if how == "conf.d":
        shutil.copy(FISH_FILE, confd / "awsv.fish")
    elif how == "source":
        load = f"source {FISH_FILE}\nsource {FISH_FILE}\n"
    else:
        load = "awsv shell-init fish | source\n"
    (conf / "config.fish").write_text(
        f"function fish_prompt; printf '{PROMPT_MARK} '; end\n"
        "function fish_right_prompt; printf 'RIGHT'; end\n"
        "function _user_on_prompt --on-event fish_prompt; set -g USER_PROMPTS (math $USER_PROMPTS + 1); end\n"
        f"set -g USER_PROMPTS 0\n{load}"
    )


def open_fish(sw: ShellWorld, terms: list[Term], tmp: Path, how: str = "source", extra: str = "", **env: str) -> Term:
    fish_config(sw, how, extra)
    term = Term(tmp / f"fish-{len(terms)}", ["fish", "-i"], sw.env(**env))
    terms.append(term)
    term.wait(rf"^{PROMPT_MARK}")
    return term

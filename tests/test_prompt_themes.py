"""The README's prompt-theme section: the badge-state table and the starship and p10k recipes.

The table is checked against what the real zsh, bash and fish integrations
render for each state (text and colours). starship and powerlevel10k cannot
be installed here (no Debian, PyPI or npm package of either), so their
recipes are run as far as their own code goes: the p10k function, copied
from the README, in a real zsh with a stand-in `p10k segment` that prints
its arguments; starship's `when` and `command` lines in `sh` (as starship
runs them) with the variables a real `awsv use` exported, and the time
format its `aws` module parses (RFC 3339).
"""

from __future__ import annotations

import re
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from tests.support.moto_server import moto_url  # noqa: F401  (pytest fixture)
from tests.support.use_world import World, make_world

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()

#: README state label -> the variables that make it (EXPIRES is seconds from now;
#: STUCK marks a failed silent refresh).
STATES: dict[str, dict[str, str]] = {
    "no awsv session": {},
    "a session, 59 minutes left": {"AWSV_PROFILE": "dev", "EXPIRES": "3570"},
    "awsv_color = red, awsv_alias": {
        "AWSV_PROFILE": "prod",
        "AWSV_ALIAS": "PRODUCTION",
        "AWSV_COLOR": "red",
        "EXPIRES": "7530",
    },
    "a pattern '*sandbox*=magenta'": {"AWSV_PROFILE": "team-sandbox", "EXPIRES": "2730"},
    "under 10 minutes left": {"AWSV_PROFILE": "dev", "EXPIRES": "490"},
    "expired": {"AWSV_PROFILE": "dev", "EXPIRES": "-5"},
    "a long-term key (--no-session)": {"AWSV_PROFILE": "dev"},
    "renewing needs you (passphrase, MFA)": {"AWSV_PROFILE": "dev", "EXPIRES": "110", "STUCK": "1"},
}
SGR = {"31": "red", "33": "yellow", "35": "magenta", "36": "cyan"}


def block_after(marker: str) -> str:
    """The fenced code block that follows `<!-- marker -->` in the README."""
    match = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)\n```", README, re.S)
    assert match, f"README has no block after <!-- {marker} -->"
    return match.group(1)


def readme_states() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in block_after("badge-states").splitlines()[1:]:
        label, badge, *colours = re.split(r"\s{2,}", line.strip())
        rows[label] = (badge, colours[0] if colours else "")
    return rows


def setup_lines(shell: str, state: dict[str, str]) -> str:
    now = int(time.time())
    lines = []
    for name, value in state.items():
        if name == "EXPIRES":
            value = str(now + int(value))
            name = "AWSV_EXPIRES"
        elif name == "STUCK":
            continue
        lines.append(f"set -g {name} {value}" if shell == "fish" else f"{name}={value}")
    lines.append(
        ("set -g AWSV_ACCOUNT 123456789012" if shell == "fish" else "AWSV_ACCOUNT=123456789012") if state else ""
    )
    if "STUCK" in state:
        lines.append(
            'set -g _awsv_stuck "$AWSV_PROFILE:$AWSV_EXPIRES"'
            if shell == "fish"
            else '_awsv_stuck="$AWSV_PROFILE:$AWSV_EXPIRES"'
        )
    return "\n".join(lines)


def render(shell: str, state: dict[str, str]) -> str:
    """The badge (raw, with the shell's colour codes) the integration renders."""
    if shell == "zsh":
        script = (
            f"source {REPO}/shell/zsh/awsv.plugin.zsh\nAWSV_PROMPT_COLORS=('*sandbox*=magenta')\n"
            f'{setup_lines("zsh", state)}\n_awsv_render\nprint -rn -- "$AWSV_BADGE"'
        )
        argv = ["zsh", "-f", "-c", script]
    elif shell == "bash":
        script = (
            f"source {REPO}/shell/bash/awsv.bash\nAWSV_PROMPT_COLORS=('*sandbox*=magenta')\n"
            f"{setup_lines('bash', state)}\n_awsv_render\nprintf '%s' \"$AWSV_BADGE\""
        )
        argv = ["bash", "--norc", "--noprofile", "-c", script]
    else:
        script = (
            f"set -g AWSV_PROMPT_COLORS '*sandbox*=magenta'\nsource {REPO}/shell/fish/awsv.fish\n"
            f"{setup_lines('fish', state)}\n_awsv_render\nprintf '%s' \"$AWSV_BADGE\""
        )
        argv = ["fish", "--no-config", "-c", script]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def colours_of(shell: str, raw: str) -> list[str]:
    """The colours in order of appearance, as names."""
    if shell == "zsh":
        return re.findall(r"%F\{(\w+)\}", raw)
    return [SGR[code] for code in re.findall(r"\x1b\[(\d+)m", raw) if code in SGR]


def plain(shell: str, raw: str) -> str:
    if shell == "zsh":
        return re.sub(r"%F\{\w+\}|%f", "", raw)
    return re.sub(r"\x01|\x02|\x1b\[[0-9;]*m", "", raw)


@pytest.mark.parametrize("shell", ["zsh", "bash", "fish"])
def test_the_readme_badge_table_is_what_each_shell_renders(shell: str) -> None:
    rows = readme_states()
    assert set(rows) == set(STATES)
    for label, state in STATES.items():
        badge, colours = rows[label]
        raw = render(shell, state)
        if not state:
            assert raw == "" and badge == "(nothing)"
            continue
        assert plain(shell, raw) == badge, (label, raw)
        named = [c for c in ("red", "yellow", "magenta", "cyan") if c in colours]
        seen = colours_of(shell, raw)
        assert set(seen) == set(named), (label, seen, colours)


# -- powerlevel10k ---------------------------------------------------------------------


P10K_STANDIN = 'function p10k() { [[ $1 == segment ]] && shift && print -r -- "SEGMENT $*" }\n'


@pytest.mark.parametrize(
    ("state", "want"),
    [
        ({"AWSV_PROFILE": "dev", "EXPIRES": "3570"}, "SEGMENT -f cyan -t dev 123456789012 59m"),
        (
            {"AWSV_PROFILE": "prod", "AWSV_ALIAS": "PRODUCTION", "AWSV_COLOR": "red", "EXPIRES": "7530"},
            "SEGMENT -f red -t PRODUCTION 123456789012 2h05m",
        ),
        ({"AWSV_PROFILE": "dev", "EXPIRES": "490"}, "SEGMENT -f yellow -t dev 123456789012 8m"),
        ({"AWSV_PROFILE": "dev", "EXPIRES": "-5"}, "SEGMENT -f red -t dev 123456789012 expired"),
        ({"AWSV_PROFILE": "dev"}, "SEGMENT -f yellow -t dev 123456789012 key"),
        ({"AWSV_PROFILE": "100%dev", "EXPIRES": "3570"}, "SEGMENT -f cyan -t 100%%dev 123456789012 59m"),
        ({}, ""),
    ],
)
def test_p10k_recipe_in_a_real_zsh(state: dict[str, str], want: str) -> None:
    recipe = block_after("p10k-recipe")
    script = f"{P10K_STANDIN}{recipe}\n{setup_lines('zsh', state)}\nprompt_awsv"
    r = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert r.returncode in (0, 1), r.stderr
    assert r.stderr == ""
    assert r.stdout.strip() == want


# -- starship --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> World:
    return make_world(
        tmp_path_factory,
        moto_url,
        "[profile base]\nregion = eu-west-1\n\n"
        "[profile prod]\nrole_arn = arn:aws:iam::123456789012:role/P\nsource_profile = base\n"
        "awsv_color = red\nawsv_alias = PRODUCTION\n",
    )


def exported(world: World, profile: str) -> dict[str, str]:
    """The variables after a real `eval "$(awsv use PROFILE)"` in bash."""
    r = world.shell("bash", f'eval "$(awsv use {profile})" || exit 9\nenv -0')
    assert r.returncode == 0, r.stderr
    return dict(item.split("=", 1) for item in r.stdout.split("\0") if "=" in item)


def starship_module(env: dict[str, str], module: dict[str, str]) -> str | None:
    """What starship shows for a custom module: None when `when` fails, else `command`'s output."""
    when = subprocess.run(["sh", "-c", module["when"]], env=env, capture_output=True, timeout=10, check=False)
    if when.returncode != 0:
        return None
    out = subprocess.run(
        ["sh", "-c", module["command"]], env=env, capture_output=True, text=True, timeout=10, check=True
    )
    return out.stdout


def test_starship_recipe_against_the_variables_awsv_exports(world: World) -> None:
    config = tomllib.loads(block_after("starship-recipe"))
    assert "$duration" in config["aws"]["format"] and "$profile" in config["aws"]["format"]
    custom = config["custom"]
    prod = exported(world, "prod")
    base = exported(world, "base")
    # The aws module's inputs: the profile, and an RFC 3339 expiry it can parse.
    assert prod["AWS_VAULT"] == "prod"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", prod["AWS_SESSION_EXPIRATION"])
    # The custom modules: exactly one shows, in the profile's colour, with its alias.
    assert starship_module(prod, custom["awsv_red"]) == "PRODUCTION"
    assert starship_module(prod, custom["awsv"]) is None
    assert custom["awsv_red"]["style"].endswith("red")
    assert starship_module(base, custom["awsv_red"]) is None
    assert starship_module(base, custom["awsv"]) == "base"
    off = {k: v for k, v in base.items() if not k.startswith(("AWSV_", "AWS_VAULT"))}
    assert starship_module(off, custom["awsv"]) is None

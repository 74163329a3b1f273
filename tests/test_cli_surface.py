"""The command line's surface is consistent across commands (DESIGN.md, "CLI surface").

Built from the real parser (`awsv.cli.build_parser`), so a command added or
changed later is checked without editing this file.
"""

from __future__ import annotations

import argparse

import pytest

from awsv.cli import build_parser
from tests.conftest import AwsvRunner


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Primary name -> parser of every subcommand (aliases share their parser)."""
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    seen: dict[int, str] = {}
    for name, sub_parser in sub.choices.items():
        seen.setdefault(id(sub_parser), name)
    return {name: sub.choices[name] for name in seen.values()}


def _short_to_long(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for action in parser._actions:
        shorts = [o for o in action.option_strings if len(o) == 2 and o[1] != "-"]
        longs = {o for o in action.option_strings if o.startswith("--")}
        for short in shorts:
            found.setdefault(short, set()).update(longs or {short})
    return found


def test_a_short_option_means_the_same_thing_in_every_command() -> None:
    parser = build_parser()
    meanings: dict[str, dict[str, set[str]]] = {}  # short -> long -> commands using it so
    for name, sub_parser in {"awsv": parser, **_subcommands(parser)}.items():
        for short, longs in _short_to_long(sub_parser).items():
            for long in longs:
                meanings.setdefault(short, {}).setdefault(long, set()).add(name)
    clashes = {short: longs for short, longs in meanings.items() if len(longs) > 1}
    assert clashes == {}, f"short options with several meanings: {clashes}"
    assert meanings["-f"].keys() == {"--force"}
    assert meanings["-s"].keys() == {"--shell"}


def test_every_command_has_a_description() -> None:
    missing = [name for name, p in _subcommands(build_parser()).items() if not p.description]
    assert missing == []


@pytest.mark.parametrize(
    "args", [["shell-init", "tcsh"], ["use", "--frobnicate"], ["export", "-f", "json", "prod"], ["login", "-s", "prod"]]
)
def test_usage_errors_have_one_prefix(awsv: AwsvRunner, args: list[str]) -> None:
    r = awsv(*args)
    assert r.returncode == 2, r.stderr
    first, *rest = r.stderr.splitlines()
    assert first.startswith("awsv: error: "), first  # never `awsv shell-init: error:`
    if args[0] == "shell-init":  # an error of the subcommand's own parser names it after the prefix
        assert first.startswith("awsv: error: shell-init: argument shell: invalid choice"), first
    assert all(line.startswith("awsv: hint: ") for line in rest), r.stderr


def test_long_options_still_work(awsv: AwsvRunner) -> None:
    """The short spellings that went away keep their long form."""
    for args in (["export", "--help"], ["login", "--help"]):
        out = awsv(*args, check=True).stdout
        assert ("--format" in out) if args[0] == "export" else ("--stdout" in out)


def _every_parser(parser: argparse.ArgumentParser, path: str = "awsv") -> dict[str, argparse.ArgumentParser]:
    """Command path -> parser, nested verbs included (`awsv sso login`)."""
    found = {path: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, sub_parser in action.choices.items():
                if id(sub_parser) not in seen:
                    seen.add(id(sub_parser))
                    found.update(_every_parser(sub_parser, f"{path} {name}"))
    return found


def test_global_options_are_accepted_after_every_command_and_verb() -> None:
    parsers = _every_parser(build_parser())
    assert "awsv sso login" in parsers
    lacking = {
        path: sorted({"--backend", "--prompt"} - {o for a in p._actions for o in a.option_strings})
        for path, p in parsers.items()
    }
    assert {path: missing for path, missing in lacking.items() if missing} == {}
    args = build_parser().parse_args(["sso", "login", "--backend", "keyring", "--prompt", "terminal"])
    assert (args.backend, args.prompt) == ("keyring", "terminal")

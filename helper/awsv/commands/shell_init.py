"""`awsv shell-init zsh|bash|fish`: the line that wires awsv into an interactive shell.

    eval "$(awsv shell-init zsh)"     # in ~/.zshrc (without a plugin manager)
    eval "$(awsv shell-init bash)"    # in ~/.bashrc
    awsv shell-init fish | source     # in ~/.config/fish/config.fish

It prints one `builtin source '<path>'` line for the shell integration file
(`shell/zsh/awsv.plugin.zsh`, `shell/bash/awsv.bash`, `shell/fish/awsv.fish`). The file is looked
up, first match wins:

1. `<checkout>/shell/…` next to the running package: a git checkout run with
   PYTHONPATH or `pip install -e`, so the code and the shell files always
   come from the same tree;
2. `$AWSV_HOME/shell/…`, where install.sh copies them;
3. `<venv>/../shell/…`: install.sh's layout (`$AWSV_HOME/venv` next to
   `$AWSV_HOME/shell`) when AWSV_HOME is not exported;
4. `~/.local/lib/awsv/shell/…`, install.sh's default AWSV_HOME.

Why a `source` line instead of printing the functions: the files stay the
one copy in git, readable and sourceable on their own (plugin managers
source them directly), and an upgrade of the installed files reaches every
new shell without re-running anything. When none is found the command
fails and prints nothing, so `eval` changes nothing.

`awsv shell-init --completion-data` prints the command line's surface
(subcommands, options, what their arguments are) as tab-separated records,
read once per shell by the completion functions, so completion follows the
CLI without a hand-kept copy of it:

    command  NAME  HELP            a subcommand
    alias    NAME  TARGET          another name for a subcommand
    option   CMD   FLAG  ARG  HELP CMD is `awsv` for the top level; ARG is `-`
                                   (no value), `*` (free value), `profile`, or
                                   choices joined by `|`
    positional CMD KIND MULTI      KIND: `profile`, `command` (a program and
                                   its arguments), choices joined by `|`, or
                                   `*`; MULTI: 1 when it repeats

Empty fields never occur (shells' `read` would merge adjacent tabs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from awsv.context import Context
from awsv.errors import AwsvError
from awsv.shells import PLUGINS

#: The integration file of each shell, relative to a `shell/` directory (`Shell.plugin`).
SHELL_FILES: dict[str, str] = dict(PLUGINS)
#: install.sh's default AWSV_HOME, relative to HOME.
DEFAULT_HOME = Path(".local", "lib", "awsv")


def candidate_dirs(env: Mapping[str, str], package_dir: Path, prefix: Path) -> list[Path]:
    """`shell/` directories to look in, in the order of the module docstring."""
    dirs = [package_dir.parent.parent / "shell"]
    if env.get("AWSV_HOME"):
        dirs.append(Path(env["AWSV_HOME"]) / "shell")
    dirs.append(prefix.parent / "shell")
    if env.get("HOME"):
        dirs.append(Path(env["HOME"]) / DEFAULT_HOME / "shell")
    return dirs


def find_shell_file(
    shell: str, env: Mapping[str, str], *, package_dir: Path | None = None, prefix: Path | None = None
) -> Path:
    """The absolute path of `shell`'s integration file; AwsvError naming the places tried."""
    import awsv

    rel = SHELL_FILES[shell]
    dirs = candidate_dirs(env, package_dir or Path(awsv.__file__).resolve().parent, prefix or Path(sys.prefix))
    for directory in dirs:
        path = directory / rel
        if path.is_file():
            return path.resolve()
    raise AwsvError(
        f"cannot find awsv's {shell} integration ({rel}) in " + ", ".join(str(d) for d in dirs),
        hint="run ./install.sh from an awsv checkout, or set AWSV_HOME to where it installed",
    )


def source_line(shell: str, path: Path) -> str:
    """`builtin source <path>` quoted for `shell` by awsv.shells' quoting function."""
    from awsv.shells import get_shell

    return f"builtin source {get_shell(shell).quote(str(path))}\n"


# -- completion data -----------------------------------------------------------


def _clean(text: str | None) -> str:
    """One field: no tabs or newlines, never empty."""
    flat = " ".join((text or "").split())
    return flat or "-"


def _arg_kind(action: argparse.Action) -> str:
    """What an option's or positional's value is (see the module docstring)."""
    if action.nargs == argparse.REMAINDER:
        return "command"
    if action.choices:
        return "|".join(str(c) for c in action.choices)
    if "profile" in action.dest:
        return "profile"
    if action.dest == "shell":
        from awsv.shells import SUPPORTED

        return "|".join(SUPPORTED)
    return "*"


def _options(cmd: str, parser: argparse.ArgumentParser) -> Iterator[str]:
    # argparse has no public API to list a parser's arguments; _actions is stable since 3.2.
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            arg = "-" if action.nargs == 0 else _arg_kind(action)
            for flag in action.option_strings:
                yield f"option\t{cmd}\t{flag}\t{arg}\t{_clean(action.help)}"
        else:
            multi = "1" if action.nargs in ("*", "+", argparse.REMAINDER) else "0"
            yield f"positional\t{cmd}\t{_arg_kind(action)}\t{multi}"


def completion_records(parser: argparse.ArgumentParser) -> list[str]:
    """The records described in the module docstring, top level first."""
    records = list(_options("awsv", parser))
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for sub in subs:
        primary: dict[int, str] = {}
        helps = {choice.dest: choice.help for choice in sub._choices_actions}
        for name, sub_parser in sub.choices.items():
            if id(sub_parser) in primary:
                records.append(f"alias\t{name}\t{primary[id(sub_parser)]}")
                continue
            primary[id(sub_parser)] = name
            records.append(f"command\t{name}\t{_clean(helps.get(name))}")
            records.extend(_options(name, sub_parser))
    return records


# -- the command ---------------------------------------------------------------


def shell_init(ctx: Context, args: argparse.Namespace) -> int:
    if args.completion_data:
        from awsv.cli import build_parser  # the whole surface; only this flag needs it

        ctx.stdout.write("".join(r + "\n" for r in completion_records(build_parser())))
        return 0
    if args.shell is None:
        from awsv.errors import UsageError

        raise UsageError("say which shell: `awsv shell-init zsh`, `awsv shell-init bash` or `awsv shell-init fish`")
    path = find_shell_file(args.shell, ctx.env)
    ctx.stdout.write(source_line(args.shell, path))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "shell-init",
        help="print the line that loads awsv's zsh, bash or fish integration",
        description="Print the line that loads the shell integration: put "
        '`eval "$(awsv shell-init zsh)"` (or bash) in your shell rc file. It adds '
        "the awsv function (use/off change this shell), the prompt badge, "
        "completion and the silent refresh hook. fish: `awsv shell-init fish | source` in "
        "~/.config/fish/config.fish (install.sh puts it in conf.d for you).",
    )
    p.add_argument("shell", nargs="?", choices=tuple(SHELL_FILES), help="zsh, bash or fish")
    p.add_argument(
        "--completion-data",
        action="store_true",
        help="print the CLI's commands and options for the completion functions",
    )
    p.set_defaults(func=shell_init)

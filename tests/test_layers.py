"""The import contract: awsv's layers, and arrows that point down only.

    platform -> config -> vault -> sessions -> delivery -> agent -> commands

A module may import modules of its own layer and of the layers below it, never
above (docs/extending.md; the README's Development section). Every import counts:
at module level, inside a function (the lazy imports of the hot path) and under
`TYPE_CHECKING` (a type is a dependency too). Every module of the package must
sit in a layer, so a new module is placed on purpose.

This is a plain `ast` walk over `helper/awsv` (no import-linter: the contract
is a table and thirty lines, and runs in milliseconds). `./scripts/test` runs
this file as a gate before the suite.
"""

from __future__ import annotations

import ast
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "helper" / "awsv"

#: Bottom first. An entry names a module or a package (then every module under
#: it, except for the top package `awsv` itself); the longest entry that matches
#: a module decides its layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "platform",
        (
            "awsv",
            "awsv.errors",
            "awsv.paths",
            "awsv.atomic",
            "awsv.locking",
            "awsv.tty",
            "awsv.prompt_driver",
            "awsv.durations",
            "awsv.names",
            "awsv.credentials",
            "awsv.session_tags",
            "awsv.shells",
            "awsv.private",
            "awsv.clock",
            "awsv.records",
            "awsv.safe_read",
            "awsv.supervise",
            "awsv.usage",
        ),
    ),
    # ~/.aws/config and chain resolution; the recursion mark and the child
    # environment read the config to know which profiles start awsv again.
    (
        "config",
        (
            "awsv.config",
            "awsv.config_lines",
            "awsv.chain",  # a package: model, sources, walk
            "awsv.recursion",
            "awsv.secret_env",
            "awsv.user_command",
            "awsv.dialogs",
            "awsv.picker",
            "awsv.sso.settings",  # SSO settings read from ~/.aws/config
        ),
    ),
    # Backends, passphrase sources, and the agent as a vault (its client and
    # launcher); Context is the world a command runs in: config + vault.
    (
        "vault",
        (
            "awsv.vault",
            "awsv.passphrase",
            "awsv.settings",
            "awsv.agent.protocol",
            "awsv.agent.client",
            "awsv.agent.launch",
            "awsv.context",
        ),
    ),
    (
        "sessions",
        (
            "awsv.aws",
            "awsv.sessions",  # a package: plan, cache, refresh
            "awsv.sts",
            "awsv.iam",
            "awsv.federation",
            "awsv.mfa",
            "awsv.credential_process",
            "awsv.browser",
            "awsv.isolate",
            "awsv.sso",
            "awsv.other_sources",
        ),
    ),
    (
        "delivery",
        (
            "awsv.environment",
            "awsv.delivery",
        ),
    ),
    # The agent process answers through delivery, never through a command.
    ("agent", ("awsv.agent",)),
    (
        "commands",
        (
            "awsv.commands",
            "awsv.cli",
            "awsv.entry",
            "awsv.__main__",
            "awsv.fastpath",
            "awsv.doctor",  # a package: findings, files, profiles, runtime
            # Writes profiles into ~/.aws/config with their display settings: a command's work.
            "awsv.sso.sync",
        ),
    ),
]

#: Upward arrows that exist today and are to be removed, each with the reason it
#: is still here. Listed so the contract can be enforced now; an entry that no
#: longer occurs fails `test_known_exceptions_still_occur`, so the list only shrinks.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


def module_names(package: Path) -> dict[str, Path]:
    """Every module under `package` by its dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = (package.name, *path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


@functools.cache
def _nodes(source: str) -> list[ast.AST]:
    """Every node of a module's syntax tree (cached by text: the copies below share most)."""
    return list(ast.walk(ast.parse(source)))


def arrows(package: Path) -> list[Arrow]:
    """Every import of one awsv module by another, resolved to a module that exists."""
    modules = module_names(package)
    found: list[Arrow] = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _nodes(path.read_text(encoding="utf-8")):
            targets: list[str]
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                # `from awsv.agent import protocol` imports the module awsv.agent.protocol.
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `import awsv.x.y` counts as awsv.x.y
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append(Arrow(name, target, node.lineno))
    return found


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the longest entry naming `module` or a package above it."""
    best: tuple[int, int] | None = None
    for index, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            covers = module == entry or (entry != "awsv" and module.startswith(entry + "."))
            if covers and (best is None or len(entry) > best[1]):
                best = (index, len(entry))
    return None if best is None else best[0]


def unplaced(package: Path) -> list[str]:
    return [name for name in module_names(package) if layer_of(name) is None]


def violations(package: Path) -> list[Arrow]:
    """Arrows from a lower layer up to a higher one, less the known exceptions."""
    bad = []
    for arrow in arrows(package):
        source, target = layer_of(arrow.source), layer_of(arrow.target)
        if source is None or target is None:
            continue  # reported by unplaced()
        if target > source and (arrow.source, arrow.target) not in KNOWN_UPWARD:
            bad.append(arrow)
    return bad


def _describe(arrow: Arrow) -> str:
    source, target = layer_of(arrow.source), layer_of(arrow.target)
    assert source is not None and target is not None
    return f"{arrow} — {LAYERS[source][0]} must not import {LAYERS[target][0]}"


def test_every_module_sits_in_a_layer() -> None:
    missing = unplaced(PACKAGE)
    assert missing == [], f"place these modules in a layer in tests/test_layers.py: {missing}"


def test_imports_point_down() -> None:
    bad = [_describe(a) for a in violations(PACKAGE)]
    assert bad == [], "upward imports:\n" + "\n".join(bad)


def test_known_exceptions_still_occur() -> None:
    present = {(a.source, a.target) for a in arrows(PACKAGE)}
    stale = sorted(set(KNOWN_UPWARD) - present)
    assert stale == [], f"remove these from KNOWN_UPWARD, they are gone: {stale}"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package to break on purpose."""
    target = tmp_path / "awsv"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize(
    "module, statement",
    [
        ("config.py", "from awsv.commands.use import use"),  # config -> commands
        ("vault/base.py", "import awsv.sessions"),  # vault -> sessions
        ("sessions/refresh.py", "    from awsv.environment import off_changes"),  # lazy, inside a function
        ("credentials.py", "if TYPE_CHECKING:\n    from awsv.chain import Chain"),  # types count too
        ("agent/server.py", "from awsv.commands import clear"),  # the agent -> a command
        ("shells/bash.py", "from ..sessions import ProfileCredentials"),  # relative spelling
    ],
)
def test_a_deliberate_upward_import_fails_the_contract(copy: Path, module: str, statement: str) -> None:
    path = copy / module
    source = path.read_text(encoding="utf-8")
    if statement.startswith("    "):  # inside a new function at the end of the module
        source += f"\n\ndef _added() -> None:\n{statement}\n"
    else:
        source += f"\n{statement}\n"
    path.write_text(source, encoding="utf-8")
    bad = violations(copy)
    name = ".".join(("awsv", *Path(module).with_suffix("").parts))
    assert [a.source for a in bad] == [name], bad


def test_a_module_in_no_layer_fails_the_contract(copy: Path) -> None:
    (copy / "stray.py").write_text("from awsv.errors import AwsvError\n", encoding="utf-8")
    assert unplaced(copy) == ["awsv.stray"]

"""The test suite's own structure: one import root, no test module importing another.

Shared worlds, fixtures and helpers live in `tests/support/` and are imported
as `tests.support.NAME` (fixtures shared by a whole directory go in its
conftest.py). A test module that imports another test module drags that
module's tests, fixtures and module-scoped worlds along, and ties two files
that should change independently; so no file under tests/ may import a
`test_*` module, in any spelling (`from tests.test_x import`, `import
tests.hardening.test_y`, `from tests import test_x`, a relative `from .test_x`),
at module level or inside a function.

Extension by adding a file, for shells: every shell in `awsv.shells.SUPPORTED`
has a harness in tests/support/shell_contract.py and a `ShellContract`
subclass in a test module (docs/extending.md, "A shell").

Plain `ast` walks, like tests/test_layers.py: nothing is imported to check it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from awsv.shells import SUPPORTED
from tests.support import shell_contract
from tests.support.shell_contract import HARNESSES, Harness, ShellContract

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def imported_test_modules(source: str, filename: str = "<source>") -> list[str]:
    """Every test module the source imports, with its line: `12: tests.test_use`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: {a.name}" for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if _is_test_module(module):
                found.append(f"{node.lineno}: {module}")
            else:  # `from tests import test_x`, `from . import test_x`
                found += [f"{node.lineno}: {module}.{a.name}" for a in node.names if a.name.startswith("test_")]
    return found


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_walk_sees_the_suite() -> None:
    files = {p.relative_to(TESTS).as_posix() for p in _python_files()}
    assert {"conftest.py", "test_shells.py", "support/shell_contract.py", "hardening/conftest.py"} <= files


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tests.test_use import World\n", ["1: tests.test_use"]),
        ("import tests.hardening.test_defects\n", ["1: tests.hardening.test_defects"]),
        ("from tests import test_agent\n", ["1: tests.test_agent"]),
        ("from .test_defects import helper\n", ["1: .test_defects"]),
        ("def f():\n    from tests.test_sso import world\n", ["2: tests.test_sso"]),
        ("from tests.support.use_world import World\nimport json\n", []),
    ],
)
def test_the_guard_catches_every_spelling(source: str, expected: list[str]) -> None:
    """The check itself: a deliberate cross-import in each spelling is caught."""
    assert imported_test_modules(source) == expected


def test_no_file_under_tests_imports_a_test_module() -> None:
    offenders = {
        path.relative_to(TESTS).as_posix(): found
        for path in _python_files()
        if (found := imported_test_modules(path.read_text(encoding="utf-8"), str(path)))
    }
    assert offenders == {}, (
        "a test module is imported; move what is shared into tests/support/ and import it from there"
    )


def test_one_import_root() -> None:
    """Support code is imported as `tests.support.X`, never as a top-level `support` or `conftest`."""
    offenders = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(TESTS)}:{node.lineno}: {n}"
                for n in names
                if n.split(".")[0] in ("support", "conftest", "hardening")
            ]
    assert offenders == []


# -- every shell has its contract -------------------------------------------------------


def _contract_subclasses() -> dict[str, str]:
    """Shell name -> `file::Class` for each ShellContract subclass in a test module,
    read from its `harness = NAME` (a harness of tests/support/shell_contract.py) or
    `harness = Harness("name", ...)`."""
    by_name = {attr: h.name for attr, h in vars(shell_contract).items() if isinstance(h, Harness)}
    found: dict[str, str] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(isinstance(b, ast.Name) and b.id == ShellContract.__name__ for b in node.bases):
                continue
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "harness" for t in stmt.targets
                ):
                    value = stmt.value
                    if isinstance(value, ast.Name) and value.id in by_name:
                        found[by_name[value.id]] = f"{path.relative_to(TESTS)}::{node.name}"
                    elif (
                        isinstance(value, ast.Call)
                        and value.args
                        and isinstance(value.args[0], ast.Constant)
                        and isinstance(value.args[0].value, str)
                    ):
                        found[value.args[0].value] = f"{path.relative_to(TESTS)}::{node.name}"
    return found


def test_every_supported_shell_has_a_harness_and_a_contract_subclass() -> None:
    assert set(HARNESSES) == set(SUPPORTED), "tests/support/shell_contract.py: HARNESSES must name every shell"
    contracts = _contract_subclasses()
    missing = [name for name in SUPPORTED if name not in contracts]
    assert missing == [], f"no ShellContract subclass for {missing}; see docs/extending.md, 'A shell'"
    assert sorted(contracts) == sorted(SUPPORTED), contracts


def test_support_paths_point_into_the_repository() -> None:
    """Paths that support modules compute from their own location exist (a module moved
    one directory down must not point into tests/ instead of the repository)."""
    from tests.support import shell_integration, sso_world

    for path in (
        shell_contract.HELPER / "awsv" / "shells" / "__init__.py",
        shell_integration.ZSH_PLUGIN,
        shell_integration.BASH_FILE,
        sso_world.BROWSER_SCRIPT,
    ):
        assert path.is_file(), path

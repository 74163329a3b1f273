"""The registries: vault backends and commands. Every entry is complete, and nothing is left out.

Adding a backend is one module plus one `REGISTRY` line, a command one module plus
one `COMMANDS` name (docs/extending.md); these checks make a half-registered
backend or command fail here rather than at a user's first use.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import awsv.commands
from awsv.agent.protocol import vault_identity
from awsv.cli import FAST_COMMANDS, build_parser
from awsv.commands import COMMANDS, HELPERS
from awsv.errors import UsageError
from awsv.settings import choose_backend
from awsv.vault import BACKENDS, REGISTRY, Backend, BackendModule, find_backend, get_backend

#: The functions of `awsv.vault.BackendModule`, read from the protocol itself.
FUNCTIONS = sorted(
    name for name, _ in inspect.getmembers(BackendModule, inspect.isfunction) if not name.startswith("_")
)


def test_the_protocol_names_what_the_docs_list() -> None:
    assert FUNCTIONS == ["agent_key", "agent_setup", "describe", "doctor_checks", "open_backend", "open_in_agent"]


@pytest.mark.parametrize("backend", REGISTRY, ids=lambda b: b.name)
def test_every_backend_module_provides_the_protocol(backend: Backend) -> None:
    module = importlib.import_module(get_backend(backend.name).module)
    for name in FUNCTIONS:
        function = getattr(module, name, None)
        assert callable(function), f"{module.__name__} lacks {name}()"
        expected = list(inspect.signature(getattr(BackendModule, name)).parameters)[1:]  # without self
        assert list(inspect.signature(function).parameters) == expected, name


def test_names_and_aliases_are_unique() -> None:
    names = [b.name for b in REGISTRY] + [a for b in REGISTRY for a in b.aliases]
    assert len(names) == len(set(names)) and tuple(b.name for b in REGISTRY) == BACKENDS


@pytest.mark.parametrize(
    "spelling, name",
    [
        ("file", "file"),
        ("KEYRING", "keyring"),
        (" keychain ", "keyring"),
        ("secret-service", "keyring"),
        ("wincred", "keyring"),
    ],
)
def test_aliases_resolve_through_settings(spelling: str, name: str, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    assert find_backend(spelling) is not None
    assert choose_backend(spelling, env) == name


def test_an_unknown_backend_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        choose_backend("vaultwarden", {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c")})
    assert info.value.message == "unknown backend 'vaultwarden' (from --backend)"
    assert info.value.hint == "choose one of: file, keyring"


def test_each_backend_has_its_own_vault_identity(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    identities = {vault_identity(name, env) for name in BACKENDS}
    assert len(identities) == len(BACKENDS)
    assert vault_identity("file", env) == f"file:{tmp_path / 'data' / 'awsv'}"
    assert vault_identity("keyring", {**env, "AWSV_KEYRING_SERVICE": "work"}) != vault_identity("keyring", env)


# -- commands ----------------------------------------------------------------


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    """The subcommands (aliases included) a parser knows, in the order it lists them."""
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_every_module_of_the_commands_package_is_in_one_table() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(awsv.commands.__path__))
    assert sorted(COMMANDS + HELPERS) == modules, (
        "name the module in COMMANDS (or HELPERS) in awsv/commands/__init__.py"
    )
    assert len(set(COMMANDS + HELPERS)) == len(COMMANDS + HELPERS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_module_registers_a_command(name: str) -> None:
    module = importlib.import_module(f"awsv.commands.{name}")
    assert list(inspect.signature(module.register).parameters) == ["sub"]
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers())
    assert _command_names(parser), f"{name}.register added no command"
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert all(callable(p.get_default("func")) for p in sub.choices.values()), f"{name}: a command without func"


@pytest.mark.parametrize("name", HELPERS)
def test_helper_modules_register_nothing(name: str) -> None:
    assert not hasattr(importlib.import_module(f"awsv.commands.{name}"), "register")


def test_the_full_parser_is_the_table_in_order() -> None:
    expected: list[str] = []
    for name in COMMANDS:
        parser = argparse.ArgumentParser()
        importlib.import_module(f"awsv.commands.{name}").register(parser.add_subparsers())
        expected += _command_names(parser)
    assert _command_names(build_parser()) == expected
    # The order `awsv --help` has always shown.
    assert [n for n in expected if n not in ("rm", "ls")] == [
        *("add", "remove", "list", "import", "use", "off", "exec", "serve", "export", "whoami"),
        *("clear", "unlock", "lock", "doctor", "shell-init", "login", "rotate", "sso", "pick"),
    ]


def test_the_fast_path_names_command_modules() -> None:
    assert set(FAST_COMMANDS.values()) <= set(COMMANDS)
    for word, module in FAST_COMMANDS.items():
        parser = argparse.ArgumentParser()
        importlib.import_module(f"awsv.commands.{module}").register(parser.add_subparsers())
        assert word in _command_names(parser), f"FAST_COMMANDS sends {word!r} to {module}, which lacks it"

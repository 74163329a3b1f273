"""The vault backend registry: every entry is complete, and the CLI, settings and agent follow it.

Adding a backend is one module plus one `REGISTRY` line (docs/extending.md); these
checks make a half-registered backend fail here rather than at a user's first use.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from awsv.agent.protocol import vault_identity
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

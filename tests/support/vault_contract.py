"""The behaviour every vault backend promises, as a test mixin.

A backend's test module subclasses `VaultContract` and provides one fixture:

    class TestFileVaultContract(VaultContract):
        @pytest.fixture
        def make_vault(self, tmp_path):
            return lambda: FileVault(tmp_path / "v" / "vault.awsv", passphrase_provider=...)

`make_vault()` must return a *new handle* on the *same* store each time it is
called, and that store must start empty for each test. Opening a second handle
is how persistence is checked, so the tests never peek at backend internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from awsv.vault.base import Vault

MakeVault = Callable[[], Vault]


class VaultContract:
    """get / set / delete / list semantics shared by all backends."""

    @pytest.fixture
    def vault(self, make_vault: MakeVault) -> Vault:
        return make_vault()

    def test_backend_has_a_name(self, vault: Vault) -> None:
        assert isinstance(vault.backend_name, str)
        assert vault.backend_name

    def test_empty_store(self, vault: Vault) -> None:
        assert vault.list() == []
        assert vault.get("key/nobody") is None
        assert vault.delete("key/nobody") is False
        assert vault.list() == []

    def test_set_then_get_round_trips_json_types(self, vault: Vault) -> None:
        item: dict[str, Any] = {
            "type": "long-term-key",
            "access_key_id": "AKIAEXAMPLE000000001",
            "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCY==",
            "count": 3,
            "ratio": 0.5,
            "flag": True,
            "missing": None,
            "list": [1, "two", [3]],
            "nested": {"a": {"b": []}},
        }
        vault.set("key/prod", item)
        assert vault.get("key/prod") == item
        assert vault.list() == ["key/prod"]

    def test_items_persist_in_a_new_handle(self, make_vault: MakeVault) -> None:
        make_vault().set("key/prod", {"v": 1})
        other = make_vault()
        assert other.get("key/prod") == {"v": 1}
        assert other.list() == ["key/prod"]

    def test_overwrite_replaces_the_whole_item(self, vault: Vault, make_vault: MakeVault) -> None:
        vault.set("key/prod", {"old": 1, "kept?": "no"})
        vault.set("key/prod", {"new": 2})
        assert vault.get("key/prod") == {"new": 2}
        assert make_vault().get("key/prod") == {"new": 2}
        assert vault.list() == ["key/prod"]

    def test_delete(self, vault: Vault, make_vault: MakeVault) -> None:
        vault.set("key/a", {"v": "a"})
        vault.set("key/b", {"v": "b"})
        assert vault.delete("key/a") is True
        assert vault.get("key/a") is None
        assert vault.delete("key/a") is False
        assert vault.get("key/b") == {"v": "b"}
        assert make_vault().list() == ["key/b"]

    def test_unicode_values(self, vault: Vault) -> None:
        item = {
            "emoji": "🔑🚀",
            "cjk": "秘密の鍵",
            "combining": "e\u0301",
            "rtl": "مفتاح",
            "quotes": "'\"`$(rm -rf /)\\",
            "control": "tab\tnew\nline\r",
            "nul": "a\u0000b",
            "astral": "\U0001d11e",
        }
        vault.set("session/unicode", item)
        assert vault.get("session/unicode") == item

    def test_names_with_slashes_and_unicode(self, vault: Vault, make_vault: MakeVault) -> None:
        names = ["key/team/prod/admin", "session/ab/cd/ef", "key/équipe", "key/日本", "key/a b"]
        for i, name in enumerate(names):
            vault.set(name, {"i": i})
        fresh = make_vault()
        for i, name in enumerate(names):
            assert fresh.get(name) == {"i": i}
        assert fresh.get("key/team") is None  # a prefix is not a name
        assert fresh.list() == sorted(names)

    def test_many_items(self, vault: Vault, make_vault: MakeVault) -> None:
        names = [f"session/{i:03d}-{'x' * (i % 7)}" for i in range(60)]
        for i, name in enumerate(names):
            vault.set(name, {"i": i, "pad": "p" * 200})
        fresh = make_vault()
        assert fresh.list() == sorted(names)
        assert all(fresh.get(name) == {"i": i, "pad": "p" * 200} for i, name in enumerate(names))

    def test_list_is_sorted(self, vault: Vault) -> None:
        for name in ["session/z", "key/b", "key/a", "key/B", "session/a", "key/a/b"]:
            vault.set(name, {})
        listed = vault.list()
        assert listed == sorted(listed)
        assert listed == ["key/B", "key/a", "key/a/b", "key/b", "session/a", "session/z"]

    def test_empty_item(self, vault: Vault) -> None:
        vault.set("key/empty", {})
        assert vault.get("key/empty") == {}
        assert vault.list() == ["key/empty"]

    def test_stored_item_is_a_copy(self, vault: Vault) -> None:
        item = {"v": [1]}
        vault.set("key/copy", item)
        item["v"].append(2)
        got = vault.get("key/copy")
        assert got == {"v": [1]}
        assert got is not None
        got["v"].append(3)
        assert vault.get("key/copy") == {"v": [1]}

    # -- bulk operations (one snapshot, one durable write) --------------------

    def test_items_reads_everything_under_a_prefix(self, vault: Vault, make_vault: MakeVault) -> None:
        vault.set("key/prod", {"k": 1})
        vault.set("session/a", {"s": "a"})
        vault.set("session/b", {"s": "b"})
        vault.set("sessionx", {"not": "under session/"})
        fresh = make_vault()
        assert fresh.items("session/") == {"session/a": {"s": "a"}, "session/b": {"s": "b"}}
        assert fresh.items() == {
            "key/prod": {"k": 1},
            "session/a": {"s": "a"},
            "session/b": {"s": "b"},
            "sessionx": {"not": "under session/"},
        }
        assert fresh.items("nothing/") == {}

    def test_items_of_an_empty_store(self, vault: Vault) -> None:
        assert vault.items() == {}
        assert vault.items("session/") == {}

    def test_delete_many(self, vault: Vault, make_vault: MakeVault) -> None:
        for name in ("key/keep", "session/a", "session/b", "session/c"):
            vault.set(name, {"n": name})
        gone = vault.delete_many(["session/c", "session/a", "session/missing", "session/a"])
        assert gone == ["session/a", "session/c"]
        fresh = make_vault()
        assert fresh.list() == ["key/keep", "session/b"]
        assert fresh.get("session/a") is None and fresh.get("session/b") == {"n": "session/b"}
        assert fresh.delete_many(["session/a"]) == []
        assert fresh.delete_many([]) == []
        assert make_vault().list() == ["key/keep", "session/b"]

    def test_delete_many_of_an_empty_store(self, vault: Vault) -> None:
        assert vault.delete_many(["session/a"]) == []
        assert vault.list() == []

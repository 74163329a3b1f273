"""The keyring vault backend against a real gnome-keyring Secret Service.

Every test gets its own D-Bus session bus and unlocked gnome-keyring (see
`support.secret_service`), with HOME, XDG dirs and the keyring file under the
test's temporary HOME. In-process tests hand `KeyringVault.open` the real
SecretService backend; subprocess tests go through keyring's own backend
selection (PYTHON_KEYRING_BACKEND), as awsv does when a user runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from awsv.errors import BackendUnavailable, VaultCorrupted, VaultError
from awsv.vault.keyring_backend import FIX_HINT
from awsv.vault.keyring_store import INDEX_NAME, KeyringVault
from tests.support import secret_service as secret_service_support
from tests.support.secret_service import SecretService
from tests.support.vault_contract import MakeVault, VaultContract

secret_service = secret_service_support.secret_service  # the fixture, made visible to this module

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY-unique-7f3a"
KEY_ITEM = {"type": "long-term-key", "access_key_id": "AKIAEXAMPLE0000001", "secret_access_key": SECRET}

# Runs in a subprocess: open the vault the way awsv does, do one thing, print JSON.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from awsv.errors import AwsvError
    from awsv.vault.keyring_store import KeyringVault
    op, *args = sys.argv[1:]
    try:
        vault = KeyringVault.open()
        if op == "open":
            result = vault.keyring_label
        elif op == "set":
            for name in args:
                vault.set(name, {"name": name, "secret": "s3cr3t-" + name})
            result = None
        elif op == "get":
            result = vault.get(args[0])
        elif op == "list":
            result = vault.list()
        else:
            raise SystemExit("unknown op " + op)
    except AwsvError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}))
        raise SystemExit(1)
    print(json.dumps({"result": result}))
    """
)

# Stand-in keyring backends for the refusal tests. keyrings.alt (the real
# plaintext backends) is not a dependency of awsv and is not installed here,
# so PlaintextKeyring below imitates it: a backend named like keyrings.alt's,
# with positive priority, that really writes passwords in clear to a file.
# The chainers stand in for keyring's ChainerBackend as discovered from
# installed plugins, which tests cannot install. They are loaded in
# subprocesses through PYTHON_KEYRING_BACKEND, i.e. keyring's real loading path.
STANDINS = textwrap.dedent(
    """
    import json, os
    from keyring.backend import KeyringBackend
    from keyring.backends.chainer import ChainerBackend
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring
    from keyring.compat import properties

    STORE = os.path.join(os.environ["HOME"], "plaintext-keyring.json")

    class PlaintextKeyring(KeyringBackend):
        priority = 1

        def _load(self):
            try:
                with open(STORE) as f:
                    return json.load(f)
            except FileNotFoundError:
                return {}

        def get_password(self, service, username):
            return self._load().get(service + "/" + username)

        def set_password(self, service, username, password):
            data = self._load()
            data[service + "/" + username] = password
            with open(STORE, "w") as f:
                json.dump(data, f)

        def delete_password(self, service, username):
            data = self._load()
            data.pop(service + "/" + username, None)
            with open(STORE, "w") as f:
                json.dump(data, f)

    class ZeroPriority(KeyringBackend):
        priority = 0

        def get_password(self, service, username):
            return None

        set_password = delete_password = get_password

    class MixedChain(ChainerBackend):
        @properties.classproperty
        def backends(cls):
            return [SecretServiceKeyring(), PlaintextKeyring()]

    class EmptyChain(ChainerBackend):
        @properties.classproperty
        def backends(cls):
            return []

    class SecretServiceChain(ChainerBackend):
        @properties.classproperty
        def backends(cls):
            return [SecretServiceKeyring()]
    """
)


def run_driver(
    env: dict[str, str],
    *args: str,
    extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], str]:
    """Run DRIVER with `env` (+ `extra`); return (exit code, parsed stdout, stderr)."""
    run_env = dict(env, **(extra or {}))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, *args], env=run_env, capture_output=True, text=True, timeout=60
    )
    try:
        out: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"driver printed no JSON (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, out, proc.stderr


@pytest.fixture
def vault(secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> KeyringVault:
    """A KeyringVault on the real SecretService backend, in this process."""
    from keyring.backends.SecretService import Keyring

    secret_service.apply(monkeypatch)
    return KeyringVault.open(env=secret_service.env, backend=Keyring())


@pytest.fixture
def standins(tmp_path: Path, secret_service: SecretService) -> dict[str, str]:
    """Environment that can load the stand-in backends from module `awsv_test_standins`."""
    moddir = tmp_path / "standins"
    moddir.mkdir()
    (moddir / "awsv_test_standins.py").write_text(STANDINS)
    env = dict(secret_service.env)
    env["PYTHONPATH"] = f"{moddir}:{env['PYTHONPATH']}"
    return env


def stored_index(vault: KeyringVault) -> list[str]:
    """The raw index entry, read straight from the keyring."""
    raw = vault.keyring_backend.get_password(vault.service, INDEX_NAME)
    assert raw is not None
    names: list[str] = json.loads(raw)
    return names


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


class TestKeyringVaultContract(VaultContract):
    """The contract every backend keeps, on the real Secret Service."""

    @pytest.fixture
    def make_vault(self, secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> MakeVault:
        from keyring.backends.SecretService import Keyring

        secret_service.apply(monkeypatch)
        return lambda: KeyringVault.open(env=secret_service.env, backend=Keyring())


# -- get / set / delete / list ----------------------------------------------


def test_set_then_get_returns_the_item(vault: KeyringVault) -> None:
    vault.set("key/prod", KEY_ITEM)
    assert vault.get("key/prod") == KEY_ITEM
    assert vault.get("key/dev") is None
    assert vault.backend_name == "keyring"
    assert vault.keyring_label == "keyring.backends.SecretService.Keyring"


def test_overwrite_replaces_the_item_and_keeps_one_entry(vault: KeyringVault, secret_service: SecretService) -> None:
    vault.set("key/prod", {"v": 1})
    vault.set("key/prod", {"v": 2})
    assert vault.get("key/prod") == {"v": 2}
    assert vault.list() == ["key/prod"]
    found = secret_service.secret_tool("search", "--all", "service", "awsv", "username", "key/prod")
    assert found.stdout.count("secret = ") == 1, found


def test_delete_removes_item_and_reports_whether_it_existed(vault: KeyringVault) -> None:
    vault.set("key/prod", KEY_ITEM)
    vault.set("session/abc", {"s": 1})
    assert vault.delete("key/prod") is True
    assert vault.get("key/prod") is None
    assert vault.list() == ["session/abc"]
    assert vault.delete("key/prod") is False
    assert vault.delete("never/there") is False


def test_list_is_sorted_names_with_slashes_and_hides_the_index(vault: KeyringVault) -> None:
    assert vault.list() == []
    for name in ("session/abc", "key/prod", "key/dev", "key/a/b/c"):
        vault.set(name, {"n": name})
    assert vault.list() == ["key/a/b/c", "key/dev", "key/prod", "session/abc"]
    assert INDEX_NAME not in vault.list()
    assert vault.get("key/a/b/c") == {"n": "key/a/b/c"}


def test_list_tolerates_an_index_naming_a_vanished_item(vault: KeyringVault, secret_service: SecretService) -> None:
    """As after a crash between deleting an item and updating the index, or a
    deletion in a keyring GUI: the item is gone but the index still names it."""
    vault.set("key/prod", KEY_ITEM)
    vault.set("key/dev", {"n": 1})
    cleared = secret_service.secret_tool("clear", "service", "awsv", "username", "key/prod")
    assert cleared.returncode == 0, cleared.stderr
    assert "key/prod" in stored_index(vault)
    assert vault.list() == ["key/dev"]
    assert vault.get("key/prod") is None
    assert vault.delete("key/prod") is False
    assert stored_index(vault) == ["key/dev"]


def test_reserved_and_invalid_names_are_refused(vault: KeyringVault) -> None:
    with pytest.raises(VaultError, match="reserved"):
        vault.set(INDEX_NAME, {"x": 1})
    with pytest.raises(VaultError, match="invalid"):
        vault.set("", {"x": 1})
    with pytest.raises(VaultError, match="invalid"):
        vault.get("key/\nprod")


def test_service_name_override_separates_vaults(vault: KeyringVault, secret_service: SecretService) -> None:
    from keyring.backends.SecretService import Keyring

    other = KeyringVault.open(env=dict(secret_service.env, AWSV_KEYRING_SERVICE="awsv-work"), backend=Keyring())
    other.set("key/prod", {"vault": "work"})
    vault.set("key/prod", {"vault": "default"})
    assert other.service == "awsv-work"
    assert other.get("key/prod") == {"vault": "work"}
    assert vault.get("key/prod") == {"vault": "default"}
    assert vault.delete("key/prod") is True
    assert other.list() == ["key/prod"]
    looked = secret_service.secret_tool("lookup", "service", "awsv-work", "username", "key/prod")
    assert json.loads(looked.stdout) == {"vault": "work"}


def test_malformed_entries_are_reported_not_guessed(vault: KeyringVault) -> None:
    backend = vault.keyring_backend
    backend.set_password("awsv", "key/prod", "not json")
    with pytest.raises(VaultCorrupted, match="'key/prod' is not awsv data"):
        vault.get("key/prod")
    backend.set_password("awsv", INDEX_NAME, '{"not": "a list"}')
    with pytest.raises(VaultCorrupted, match="index") as info:
        vault.list()
    assert f"keyring del awsv {INDEX_NAME}" in (info.value.hint or "")
    with pytest.raises(VaultCorrupted):
        vault.set("key/dev", {"x": 1})


# -- where the secret really goes ----------------------------------------------


def test_secret_is_stored_in_the_secret_service_and_nowhere_under_home(
    secret_service: SecretService, home: Path
) -> None:
    """Through keyring's own backend selection, in a separate process, as awsv runs."""
    rc, out, err = run_driver(secret_service.env, "set", "key/prod")
    assert (rc, out, err) == (0, {"result": None}, "")
    expected = json.dumps({"name": "key/prod", "secret": "s3cr3t-key/prod"}, separators=(",", ":"))

    # libsecret's own client finds it by the attributes keyring's backend uses.
    looked = secret_service.secret_tool("lookup", "service", "awsv", "username", "key/prod")
    assert looked.returncode == 0 and looked.stdout == expected
    found = secret_service.secret_tool("search", "--all", "service", "awsv", "username", "key/prod")
    for attribute in (
        "attribute.service = awsv",
        "attribute.username = key/prod",
        "attribute.application = Python keyring library",
    ):
        assert attribute in found.stderr, found

    # The keyring file is under HOME, encrypted: no file there holds the secret.
    files = files_under(home)
    assert home / ".local/share/keyrings/login.keyring" in files
    for path in files:
        assert b"s3cr3t-key/prod" not in path.read_bytes(), path

    lock = home / ".local/share/awsv/keyring-index.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert stat.S_IMODE(lock.parent.stat().st_mode) == 0o700

    rc, out, err = run_driver(secret_service.env, "get", "key/prod")
    assert (rc, err) == (0, "") and out["result"]["secret"] == "s3cr3t-key/prod"


def test_concurrent_processes_keep_every_index_update(secret_service: SecretService) -> None:
    """Six awsv processes each add four items at once; none may be lost from the index."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, "set", *(f"key/p{i}-{j}" for j in range(4))],
            env=secret_service.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, (stdout, stderr)
    rc, out, _ = run_driver(secret_service.env, "list")
    assert rc == 0
    assert out["result"] == sorted(f"key/p{i}-{j}" for i in range(6) for j in range(4))


# -- refusing unsafe or unusable backends ------------------------------------------


def assert_refused(rc: int, out: dict[str, Any], err: str, *fragments: str) -> None:
    assert rc == 1, out
    assert out["error"] == "BackendUnavailable", out
    for fragment in fragments:
        assert fragment in out["message"], out
    assert "\n" not in out["message"]
    assert out["hint"] == FIX_HINT
    assert err == ""  # no traceback, no warnings


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        ("keyring.backends.null.Keyring", "keyring.backends.null.Keyring, which stores nothing"),
        ("keyring.backends.fail.Keyring", ("no usable keyring backend was found here (keyring.backends.fail.Keyring)")),
    ],
)
def test_null_and_fail_backends_are_refused(secret_service: SecretService, backend: str, says: str) -> None:
    rc, out, err = run_driver(secret_service.env, "set", "key/prod", extra={"PYTHON_KEYRING_BACKEND": backend})
    assert_refused(rc, out, err, says)


# The real keyrings.alt backend too, where someone has it installed (CI does not).
def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


PLAINTEXT_BACKENDS = ["awsv_test_standins.PlaintextKeyring"] + (
    ["keyrings.alt.file.PlaintextKeyring"] if _installed("keyrings.alt") else []
)


@pytest.mark.parametrize("backend", PLAINTEXT_BACKENDS)
def test_plaintext_backend_is_refused_before_anything_is_written(
    standins: dict[str, str], home: Path, backend: str
) -> None:
    """Uses the PlaintextKeyring stand-in (see STANDINS) since keyrings.alt is
    not a dependency; the real class was checked by hand to give the same
    refusal, and is tested here whenever it is installed."""
    rc, out, err = run_driver(standins, "set", "key/prod", extra={"PYTHON_KEYRING_BACKEND": backend})
    assert_refused(rc, out, err, f"the keyring backend here is {backend}, which stores secrets in plaintext")
    assert not (home / "plaintext-keyring.json").exists()
    for path in files_under(home):
        assert b"s3cr3t-" not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        (
            "MixedChain",
            ("the keyring chain here includes awsv_test_standins.PlaintextKeyring, which stores secrets in plaintext"),
        ),
        ("EmptyChain", ("no usable keyring backend was found here (the chain awsv_test_standins.EmptyChain is empty)")),
        ("ZeroPriority", "awsv_test_standins.ZeroPriority, which keyring rates unusable (priority 0)"),
    ],
)
def test_unsafe_chains_and_low_priority_backends_are_refused(standins: dict[str, str], backend: str, says: str) -> None:
    """Stand-in chainers (see STANDINS): keyring builds real chains only from installed plugins."""
    rc, out, err = run_driver(
        standins, "set", "key/prod", extra={"PYTHON_KEYRING_BACKEND": f"awsv_test_standins.{backend}"}
    )
    assert_refused(rc, out, err, says)


def test_a_chain_of_safe_backends_is_accepted(standins: dict[str, str]) -> None:
    extra = {"PYTHON_KEYRING_BACKEND": "awsv_test_standins.SecretServiceChain"}
    rc, out, err = run_driver(standins, "set", "key/prod", extra=extra)
    assert (rc, out, err) == (0, {"result": None}, "")
    rc, out, err = run_driver(standins, "list", extra=extra)
    assert (rc, out["result"]) == (0, ["key/prod"])


# -- one clear line when the Secret Service misbehaves ---------------------------


@pytest.mark.parametrize("address", ["unix:path=/nonexistent/awsv-test-bus", None])
def test_unreachable_secret_service_is_one_line(secret_service: SecretService, address: str | None) -> None:
    env = dict(secret_service.env)
    env.pop("DBUS_SESSION_BUS_ADDRESS")
    if address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
    rc, out, err = run_driver(env, "list")
    assert rc == 1 and err == "", (out, err)
    assert out["error"] == "BackendUnavailable"
    assert out["message"].startswith(
        "the keyring backend keyring.backends.SecretService.Keyring (from PYTHON_KEYRING_BACKEND) cannot be used here: "
    )
    assert out["hint"] == FIX_HINT


def test_locked_keyring_is_one_line_with_an_unlock_hint(vault: KeyringVault, secret_service: SecretService) -> None:
    """No prompter can run in the private session, so unlocking fails as it would headless."""
    vault.set("key/prod", KEY_ITEM)
    secret_service.lock_default_collection()
    with pytest.raises(BackendUnavailable) as info:
        vault.get("key/prod")
    assert info.value.message.startswith("the keyring is locked and could not be unlocked")
    assert "unlock" in (info.value.hint or "")
    assert "\n" not in info.value.message


def test_secret_service_vanishing_after_open_is_one_line(vault: KeyringVault, secret_service: SecretService) -> None:
    vault.set("key/prod", KEY_ITEM)
    secret_service.stop_keyring()
    with pytest.raises(BackendUnavailable) as info:
        vault.get("key/prod")
    assert info.value.message.startswith("the keyring could not be opened: ")
    assert "org.freedesktop.secrets" in info.value.message
    assert "\n" not in info.value.message
    assert info.value.hint == FIX_HINT


def test_a_bus_stall_longer_than_the_dbus_handshake_timeout_is_retried(
    vault: KeyringVault, secret_service: SecretService
) -> None:
    """jeepney gives a new D-Bus connection 1 s to authenticate; a busy machine
    can exceed that. Freezing the bus for 1.5 s makes the first try time out;
    the retry must then succeed instead of failing the command."""
    vault.set("key/prod", KEY_ITEM)
    bus = secret_service.bus_process.pid
    os.kill(bus, signal.SIGSTOP)
    thaw = threading.Timer(1.5, os.kill, (bus, signal.SIGCONT))
    thaw.start()
    try:
        started = time.monotonic()
        assert vault.get("key/prod") == KEY_ITEM
        assert time.monotonic() - started >= 1.0  # the first attempt really timed out
    finally:
        thaw.join()

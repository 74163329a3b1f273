"""The file vault on a real filesystem, with real processes, modes and signals.

Argon2id at the minimum parameters costs ~0.1 s per derivation, so tests that
need many opens reuse one sealed vault (`sealed`) or a derived key, and only
pay for a fresh passphrase derivation where that path is what is being tested.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from awsv import errors
from awsv.errors import VaultCorrupted, VaultError, WrongPassphrase
from awsv.vault import file_format as fmt
from awsv.vault import open_vault
from awsv.vault.file import LOCK_FILE, VAULT_FILE, FileVault
from tests.conftest import TEST_PASSPHRASE
from tests.support.vault_contract import VaultContract

REPO = Path(__file__).resolve().parent.parent
VECTORS = REPO / "tests" / "vectors"
HELPER = REPO / "helper"
INTEGRITY_ERRORS = (VaultCorrupted, WrongPassphrase)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz"
PROFILE = "acme-prod-admin"
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice-mfa-device"
EXPIRY = "2031-05-06T07:08:09Z"
SEALED_ITEMS = {
    f"key/{PROFILE}": {"type": "long-term-key", "access_key_id": "AKIAEXAMPLE000000042", "secret_access_key": SECRET},
    "session/deadbeef": {
        "type": "session",
        "mfa_serial": MFA_SERIAL,
        "expiration": EXPIRY,
        "filler": "f" * 1500,
    },  # two padding blocks, so truncation has room
}


class Provider:
    """A passphrase source that records every call (a real callable, not a mock)."""

    def __init__(self, passphrase: str = TEST_PASSPHRASE) -> None:
        self.passphrase = passphrase
        self.calls: list[bool] = []

    def __call__(self, creating: bool) -> str:
        self.calls.append(creating)
        return self.passphrase


def place(directory: Path, data: bytes) -> Path:
    """Put `data` as the vault file in a private directory, as awsv would have."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / VAULT_FILE
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def fails_cleanly(vault: FileVault, expected: tuple[type[Exception], ...] = INTEGRITY_ERRORS) -> VaultError:
    """Open `vault`; assert it raises one of `expected` with a one-line message naming the file."""
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class is checked just below
        vault.list()
    exc = info.value
    assert type(exc) in expected, f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, VaultError)
    assert "\n" not in exc.message
    assert str(vault.path) in exc.message
    return exc


def fails_cleanly_call(action: Callable[[], object], vault_path: Path) -> VaultError:
    with pytest.raises(VaultError) as info:
        action()
    assert "\n" not in info.value.message
    assert str(vault_path) in info.value.message
    return info.value


@dataclass(frozen=True)
class Sealed:
    data: bytes
    key: fmt.VaultKey


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Sealed:
    """One vault made through FileVault with the test passphrase (one derivation for the module)."""
    vault = FileVault(tmp_path_factory.mktemp("sealed") / "awsv" / VAULT_FILE, passphrase_provider=Provider())
    for name, item in SEALED_ITEMS.items():
        vault.set(name, item)
    return Sealed(vault.path.read_bytes(), vault.unlock())


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "awsv" / VAULT_FILE


# -- the shared contract ------------------------------------------------------


class TestFileVaultContract(VaultContract):
    @pytest.fixture
    def make_vault(self, vault_path: Path) -> Callable[[], FileVault]:
        return lambda: FileVault(vault_path, passphrase_provider=Provider())


# -- location and laziness ----------------------------------------------------


def test_default_location_follows_xdg_and_override(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert FileVault.at_default_location(env=env).path == tmp_path / "xdg" / "awsv" / VAULT_FILE
    env["AWSV_FILE_DIR"] = str(tmp_path / "elsewhere")
    vault = open_vault("file", env=env, passphrase_provider=Provider())
    assert isinstance(vault, FileVault)
    assert vault.backend_name == "file"
    assert vault.path == tmp_path / "elsewhere" / VAULT_FILE
    assert FileVault.at_default_location(env={"HOME": str(tmp_path)}).path == (
        tmp_path / ".local" / "share" / "awsv" / VAULT_FILE
    )


def test_missing_vault_reads_empty_without_asking_or_creating(tmp_path: Path, vault_path: Path) -> None:
    provider = Provider()
    vault = FileVault(vault_path, passphrase_provider=provider)
    assert vault.exists() is False
    assert vault.list() == []
    assert vault.get("key/x") is None
    assert vault.delete("key/x") is False
    assert provider.calls == []
    assert list(tmp_path.iterdir()) == []


def test_provider_called_once_and_creating_only_for_a_new_vault(vault_path: Path) -> None:
    first = Provider()
    vault = FileVault(vault_path, passphrase_provider=first)
    vault.list()
    vault.set("key/a", {"v": 1})
    vault.set("key/b", {"v": 2})
    vault.get("key/a")
    vault.delete("key/b")
    assert first.calls == [True]
    assert vault.exists()

    second = Provider()
    reopened = FileVault(vault_path, passphrase_provider=second)
    assert reopened.get("key/a") == {"v": 1}
    reopened.set("key/c", {"v": 3})
    reopened.list()
    assert second.calls == [False]


def test_delete_of_a_missing_name_does_not_rewrite(vault_path: Path, sealed: Sealed) -> None:
    place(vault_path.parent, sealed.data)
    vault = FileVault(vault_path, key=sealed.key)
    assert vault.delete("key/never-there") is False
    assert vault_path.read_bytes() == sealed.data


# -- modes and ownership ------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o077], ids=["022", "000", "077"])
def test_created_modes_are_private(vault_path: Path, sealed: Sealed, umask: int) -> None:
    old = os.umask(umask)
    try:
        FileVault(vault_path, key=sealed.key).set("key/a", {"v": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(vault_path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(vault_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(vault_path.parent / LOCK_FILE).st_mode) == 0o600
    assert sorted(p.name for p in vault_path.parent.iterdir()) == sorted([LOCK_FILE, VAULT_FILE])


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o710, 0o777])
def test_refuses_an_accessible_directory(vault_path: Path, sealed: Sealed, mode: int) -> None:
    place(vault_path.parent, sealed.data)
    os.chmod(vault_path.parent, mode)
    provider = Provider()
    vault = FileVault(vault_path, passphrase_provider=provider)
    for action in (vault.list, lambda: vault.get("x"), lambda: vault.set("key/a", {})):
        with pytest.raises(VaultError) as info:
            action()
        assert str(vault_path.parent) in info.value.message
        assert f"{mode:04o}" in info.value.message
        assert info.value.hint == f"chmod 700 {vault_path.parent}"
    assert provider.calls == []
    assert vault_path.read_bytes() == sealed.data


def test_refuses_an_accessible_directory_even_without_a_vault(vault_path: Path) -> None:
    vault_path.parent.mkdir(parents=True, mode=0o755)
    os.chmod(vault_path.parent, 0o755)
    with pytest.raises(VaultError, match="accessible by other users"):
        FileVault(vault_path, passphrase_provider=Provider()).list()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_refuses_an_accessible_file(vault_path: Path, sealed: Sealed, mode: int) -> None:
    place(vault_path.parent, sealed.data)
    os.chmod(vault_path, mode)
    provider = Provider()
    with pytest.raises(VaultError) as info:
        FileVault(vault_path, passphrase_provider=provider).get("key/a")
    assert str(vault_path) in info.value.message
    assert info.value.hint == f"chmod 600 {vault_path}"
    assert provider.calls == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown a file to another user")
@pytest.mark.parametrize("target", ["file", "directory"])
def test_refuses_what_another_user_owns(vault_path: Path, sealed: Sealed, target: str) -> None:
    place(vault_path.parent, sealed.data)
    os.chown(vault_path if target == "file" else vault_path.parent, 65534, 65534)
    with pytest.raises(VaultError, match="belongs to uid 65534"):
        FileVault(vault_path, key=sealed.key).list()


def test_refuses_a_symlinked_vault_file(vault_path: Path, sealed: Sealed, tmp_path: Path) -> None:
    real = place(tmp_path / "real", sealed.data)
    vault_path.parent.mkdir(parents=True, mode=0o700)
    vault_path.symlink_to(real)
    with pytest.raises(VaultError, match="symbolic link"):
        FileVault(vault_path, key=sealed.key).list()


# -- confidentiality ------------------------------------------------------------


def test_nothing_readable_in_any_file(vault_path: Path, tmp_path: Path) -> None:
    vault = FileVault(vault_path, passphrase_provider=Provider())
    for name, item in SEALED_ITEMS.items():
        vault.set(name, item)
    vault.set("key/other", {"secret_access_key": SECRET[::-1]})
    vault.delete("key/other")
    needles = [SECRET, PROFILE, MFA_SERIAL, EXPIRY, "secret_access_key", "session/", "key/"]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {VAULT_FILE, LOCK_FILE}
    for path in files:
        blob = path.read_bytes()
        for needle in needles:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert needle.encode(encoding) not in blob, f"{needle!r} readable in {path.name}"
            assert needle.encode().hex().encode() not in blob.lower()


def test_size_hides_the_number_of_small_items(vault_path: Path, sealed: Sealed) -> None:
    vault = FileVault(vault_path, key=sealed.key)
    vault.set("key/a", {"v": "x" * 40})
    one = vault_path.stat().st_size
    for i in range(5):
        vault.set(f"key/b{i}", {"v": "x" * 40})
    assert vault_path.stat().st_size == one == fmt.MIN_FILE_LEN


def test_every_write_uses_a_fresh_nonce_and_keeps_the_salt(vault_path: Path, sealed: Sealed) -> None:
    vault = FileVault(vault_path, key=sealed.key)
    blobs = []
    for _ in range(3):
        vault.set("key/a", {"v": 1})
        blobs.append(vault_path.read_bytes())
    assert len({b[: fmt.HEADER_LEN] for b in blobs}) == 1
    assert blobs[0][: fmt.HEADER_LEN] == sealed.data[: fmt.HEADER_LEN]
    assert len({b[fmt.HEADER_LEN : fmt.PREFIX_LEN] for b in blobs}) == 3


# -- passphrase handling --------------------------------------------------------


def test_wrong_passphrase_raises_and_writes_nothing(vault_path: Path, sealed: Sealed) -> None:
    place(vault_path.parent, sealed.data)
    before = snapshot(vault_path.parent)
    provider = Provider("correct horse battery stapler")
    vault = FileVault(vault_path, passphrase_provider=provider)
    for action in (
        vault.list,
        lambda: vault.set("key/new", {"v": 1}),
        lambda: vault.delete(f"key/{PROFILE}"),
        lambda: vault.get("key/x"),
    ):
        exc = fails_cleanly_call(action, vault_path)
        assert isinstance(exc, WrongPassphrase)
        assert "stapler" not in exc.message
    assert provider.calls == [False]  # asked once, the failure is remembered
    assert snapshot(vault_path.parent) == before


def test_empty_passphrase_refused_and_nothing_created(tmp_path: Path, vault_path: Path, sealed: Sealed) -> None:
    with pytest.raises(VaultError, match="empty passphrase") as info:
        FileVault(vault_path, passphrase_provider=Provider("")).set("key/a", {"v": 1})
    assert type(info.value) is VaultError
    assert list(tmp_path.iterdir()) == []

    place(vault_path.parent, sealed.data)
    with pytest.raises(VaultError, match="empty passphrase"):
        FileVault(vault_path, passphrase_provider=Provider("")).set("key/a", {"v": 1})
    assert vault_path.read_bytes() == sealed.data


def test_no_passphrase_source(vault_path: Path, sealed: Sealed) -> None:
    place(vault_path.parent, sealed.data)
    with pytest.raises(errors.PassphraseUnavailable):
        FileVault(vault_path).list()


def test_passphrase_is_nfc_normalised(vault_path: Path) -> None:
    FileVault(vault_path, passphrase_provider=Provider("p\u00e4ss")).set("key/a", {"v": 1})
    assert FileVault(vault_path, passphrase_provider=Provider("pa\u0308ss")).get("key/a") == {"v": 1}


def test_unlocked_key_opens_without_a_passphrase(vault_path: Path) -> None:
    provider = Provider()
    key = FileVault(vault_path, passphrase_provider=provider).unlock()  # creates an empty vault
    assert provider.calls == [True]
    assert FileVault(vault_path, key=key).list() == []
    restored = fmt.VaultKey.from_bytes(key.to_bytes())
    assert restored == key
    assert key.enc_key.hex() not in repr(key)
    agent_side = FileVault(vault_path, key=restored)
    agent_side.set("key/a", {"v": 1})
    assert FileVault(vault_path, passphrase_provider=Provider()).get("key/a") == {"v": 1}
    other = FileVault(vault_path.parent.parent / "other" / VAULT_FILE, passphrase_provider=Provider()).unlock()
    with pytest.raises(WrongPassphrase):  # a key for another vault (other salt) does not open this one
        FileVault(vault_path, key=other).list()


def test_unstorable_item_writes_nothing(vault_path: Path, sealed: Sealed) -> None:
    place(vault_path.parent, sealed.data)
    vault = FileVault(vault_path, key=sealed.key)
    for bad in ({"v": {1, 2}}, {"v": float("nan")}, {"v": "\ud800"}):
        with pytest.raises(VaultError):
            vault.set("key/bad", bad)
    with pytest.raises(VaultError):
        vault.set("", {})
    assert vault_path.read_bytes() == sealed.data


# -- parameters -------------------------------------------------------------------


def test_higher_parameters_open_and_are_kept(vault_path: Path) -> None:
    higher = fmt.KdfParams(memory_cost=98304, iterations=4, lanes=4)
    FileVault(vault_path, passphrase_provider=Provider(), kdf_params=higher).set("key/a", {"v": 1})
    vault = FileVault(vault_path, passphrase_provider=Provider())  # default params requested
    assert vault.get("key/a") == {"v": 1}
    vault.set("key/b", {"v": 2})
    assert fmt.parse_header(vault_path.read_bytes()).params == higher


def test_below_minimum_parameters_refused(vault_path: Path) -> None:
    weak = (VECTORS / "weak-params-consistent.vault").read_bytes()
    place(vault_path.parent, weak)
    provider = Provider()
    exc = fails_cleanly(FileVault(vault_path, passphrase_provider=provider), (VaultCorrupted,))
    assert "below the minimum" in exc.message
    assert provider.calls == []  # rejected before any derivation
    with pytest.raises(VaultCorrupted):
        FileVault(vault_path, passphrase_provider=Provider()).set("key/a", {})
    assert vault_path.read_bytes() == weak
    with pytest.raises(VaultError, match="weak"):
        FileVault(vault_path, kdf_params=fmt.KdfParams(32768, 3, 4))


# -- tampering and truncation --------------------------------------------------------


# Header offsets opened with the passphrase: every structural byte (magic, version,
# KDF id, parameters), and first/middle/last of the salt, verifier and nonce. Each
# of those costs a real Argon2id derivation; every single byte (three masks each)
# is covered through a held key in the next test, which needs none.
PASSPHRASE_FLIP_OFFSETS = [*range(18), 18, 25, 33, 34, 50, 65, 66, 77]


def test_header_bytes_flipped_are_refused_with_the_passphrase(tmp_path: Path, sealed: Sealed) -> None:
    """A flipped header/nonce byte, opened with the passphrase: never success, never a traceback."""
    kinds = {}
    for offset in PASSPHRASE_FLIP_OFFSETS:
        data = bytearray(sealed.data)
        data[offset] ^= 0x01
        path = place(tmp_path / f"flip{offset}", bytes(data))
        kinds[offset] = type(fails_cleanly(FileVault(path, passphrase_provider=Provider()))).__name__
        assert path.read_bytes() == data
    # As far as the crypto can tell them apart: magic/version/KDF id and nonce edits
    # are corruption; salt and verifier edits look like a wrong passphrase.
    assert {kinds[o] for o in range(6)} == {"VaultCorrupted"}
    assert {kinds[o] for o in (18, 25, 33, 34, 50, 65)} == {"WrongPassphrase"}
    assert {kinds[66], kinds[77]} == {"VaultCorrupted"}
    # memory 65536 -> 65792 / 65537 KiB and lanes 4 -> 5 stay in bounds: they derive a
    # different verifier; the other parameter flips leave the bounds and are corrupt.
    assert [kinds[o] for o in (8, 9, 17)] == ["WrongPassphrase"] * 3
    assert {kinds[o] for o in (6, 7, *range(10, 17))} == {"VaultCorrupted"}


def test_flipped_bytes_with_an_unlocked_key(vault_path: Path, sealed: Sealed) -> None:
    """Every header byte and a sample of the ciphertext, through a key already held (agent path)."""
    vault = FileVault(vault_path, key=sealed.key)
    rng = random.Random(1234)
    cipher_offsets = sorted(rng.sample(range(fmt.PREFIX_LEN, len(sealed.data)), 60))
    tag_offsets = list(range(len(sealed.data) - fmt.TAG_LEN, len(sealed.data)))
    for offset in [*range(fmt.PREFIX_LEN), *cipher_offsets, *tag_offsets]:
        for mask in (0x01, 0x80, 0xFF):
            data = bytearray(sealed.data)
            data[offset] ^= mask
            place(vault_path.parent, bytes(data))
            exc = fails_cleanly(vault)
            if offset >= fmt.PREFIX_LEN:
                assert type(exc) is VaultCorrupted


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 6, 17, 65, 66, 77, 78, 93, 94, 1117, 1118, -1024, -16, -1])
def test_truncated_vault_is_corrupted(vault_path: Path, sealed: Sealed, length: int) -> None:
    data = sealed.data[:length]
    assert len(data) < len(sealed.data)
    place(vault_path.parent, data)
    provider = Provider()
    fails_cleanly(FileVault(vault_path, passphrase_provider=provider), (VaultCorrupted,))
    with pytest.raises(VaultCorrupted):
        FileVault(vault_path, passphrase_provider=Provider()).set("key/a", {"v": 1})
    assert vault_path.read_bytes() == data


# -- test vectors -----------------------------------------------------------------------


def _vectors() -> list[Path]:
    found = sorted(VECTORS.glob("*.json"))
    assert len(found) >= 10, "the committed test vectors are missing"
    return found


@pytest.mark.parametrize("spec_path", _vectors(), ids=lambda p: p.stem)
def test_vector(spec_path: Path, tmp_path: Path) -> None:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    assert spec["description"]
    assert spec["expected"]
    data = (VECTORS / spec["file"]).read_bytes()
    path = place(tmp_path / "awsv", data)
    vault = FileVault(path, passphrase_provider=Provider(spec["passphrase"]))
    if spec["expected"] == "ok":
        assert vault.list() == sorted(spec["items"])
        assert {name: vault.get(name) for name in vault.list()} == spec["items"]
        # Encoder conformance: the same key, items and nonce give the same bytes.
        key = vault.unlock()
        assert fmt.encrypt(spec["items"], key, nonce=data[fmt.HEADER_LEN : fmt.PREFIX_LEN]) == data
    else:
        expected = getattr(errors, spec["expected"])
        with pytest.raises(VaultError) as info:
            vault.list()
        assert type(info.value) is expected, info.value.message
        assert "\n" not in info.value.message
        assert path.read_bytes() == data


# -- concurrency and crashes -----------------------------------------------------------------


def _python(code: str, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    """Run `code` in a fresh interpreter that imports awsv from this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS", "XDG"))}
    env["PYTHONPATH"] = str(HELPER)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        text=True,  # type: ignore[call-overload]
        **kwargs,
    )


WRITER = """
import sys
from awsv.vault.file import FileVault
path, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
# A generous lock wait: this test is about lost updates, and on a loaded machine four
# writers deriving Argon2id keys can queue for longer than the default 30 s.
vault = FileVault(path, passphrase_provider=lambda creating: sys.stdin.readline().rstrip("\\n"),
                  lock_timeout=240)
for i in range(count):
    vault.set(f"session/{worker}-{i}", {"worker": worker, "i": i})
"""


def test_concurrent_writers_lose_no_update(vault_path: Path) -> None:
    """Four processes race to create the same vault and add names to it."""
    workers, count = 4, 8
    procs = []
    for w in range(workers):
        proc = _python(WRITER, str(vault_path), str(w), str(count), stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(TEST_PASSPHRASE + "\n")
        proc.stdin.close()
        procs.append(proc)
    for proc in procs:
        assert proc.wait(timeout=250) == 0, proc.stderr.read() if proc.stderr else ""
    expected = sorted(f"session/{w}-{i}" for w in range(workers) for i in range(count))
    assert FileVault(vault_path, passphrase_provider=Provider()).list() == expected


LOOPER = """
import sys
from awsv.vault.file import FileVault
from awsv.vault.file_format import VaultKey
vault = FileVault(sys.argv[1], key=VaultKey.from_bytes(bytes.fromhex(sys.stdin.readline())))
i = int(sys.argv[2])
while True:
    i += 1
    vault.set("blob", {"n": i, "data": f"{i:08d}" * 100_000})
    print(i, flush=True)
"""


def _blob_ok(item: dict | None) -> int:
    assert item is not None
    n = item["n"]
    assert item["data"] == f"{n:08d}" * 100_000
    return n


def test_kill_9_during_writes_leaves_old_or_new(vault_path: Path) -> None:
    """SIGKILL a writer of ~800 KB items at random moments; the vault must always open.

    After each kill the vault is opened with the held key (verifier and tag are
    checked just as with the passphrase, without paying a derivation per kill),
    and it must hold the last acknowledged write or the one in flight; at the
    end it is opened with the passphrase itself.
    """
    provider = Provider()
    vault = FileVault(vault_path, passphrase_provider=provider)
    vault.set("blob", {"n": 0, "data": f"{0:08d}" * 100_000})
    key = vault.unlock()
    rng = random.Random(42)
    last = 0
    kills = stale_temps = 0
    # At least 20 kills, and go on (up to 80) until two of them caught a write with its
    # temp file open: only those prove the rename protocol, and ~20% of kills land there.
    while kills < 20 or (stale_temps < 2 and kills < 80):
        kills += 1
        proc = _python(
            LOOPER, str(vault_path), str(last), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(key.to_bytes().hex() + "\n")
        proc.stdin.close()
        first = proc.stdout.readline()
        assert first.strip(), proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0, 0.08))  # a seeded random moment to kill the writer: the thing under test
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        acked = [int(line) for line in [first, *proc.stdout.read().split()] if line.strip()]
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        stale_temps += any(p.name.startswith(f".{VAULT_FILE}.tmp-") for p in vault_path.parent.iterdir())
        n = _blob_ok(FileVault(vault_path, key=key).get("blob"))
        assert n in (acked[-1], acked[-1] + 1), (n, acked[-1])
        last = n
    # The passphrase still opens it, and the next write sweeps up the dead writers' temp files.
    reopened = FileVault(vault_path, passphrase_provider=Provider())
    assert _blob_ok(reopened.get("blob")) == last
    reopened.set("key/after", {"ok": True})
    assert sorted(p.name for p in vault_path.parent.iterdir()) == sorted([LOCK_FILE, VAULT_FILE])
    print(f"{stale_temps}/{kills} kills left a half-written temp file")
    assert stale_temps >= 2, "no kill landed mid-write; the test proved nothing"


def test_stale_temp_files_are_ignored_then_removed(vault_path: Path, sealed: Sealed) -> None:
    place(vault_path.parent, sealed.data)
    stale = vault_path.parent / f".{VAULT_FILE}.tmp-0123456789abcdef"
    stale.write_bytes(b"half a vault")
    vault = FileVault(vault_path, key=sealed.key)
    assert vault.list() == sorted(SEALED_ITEMS)
    vault.set("key/new", {"v": 1})
    assert not stale.exists()


def test_lock_excludes_a_second_writer(vault_path: Path, sealed: Sealed) -> None:
    """A writer that cannot get the lock in time fails cleanly and changes nothing."""
    place(vault_path.parent, sealed.data)
    lock_path = vault_path.parent / LOCK_FILE
    holder = _python(
        "import fcntl, os, time\n"
        f"fd = os.open({str(lock_path)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(30)\n",  # holds the lock: under test
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(VaultError, match="locked by another awsv process"):
            FileVault(vault_path, key=sealed.key, lock_timeout=0.3).set("key/a", {})
        assert vault_path.read_bytes() == sealed.data
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()
    FileVault(vault_path, key=sealed.key, lock_timeout=5).set("key/a", {})
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # our write released the lock it took
    finally:
        os.close(fd)

"""Bytes of the file vault: header, key derivation, encryption. No I/O.

Kept apart from `awsv.vault.file` so the format can be read next to its spec
(`docs/vault-format.md`) and checked against the test vectors without touching
the filesystem. Every integrity failure is a typed error with a one-line
message that never contains a secret:

* `WrongPassphrase`: the passphrase verifier does not match (a wrong
  passphrase, or an altered salt/parameter/verifier: the crypto cannot tell);
* `VaultCorrupted`: anything else (bad magic, unknown version, parameters below
  the minimum, truncation, failed authentication, malformed plaintext).
"""

from __future__ import annotations

import hmac
import json
import os
import struct
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from awsv.errors import BackendUnavailable, VaultCorrupted, VaultError, WrongPassphrase
from awsv.vault.base import Item

MAGIC = b"AWSV"
VERSION = 1
KDF_ARGON2ID = 1

SALT_LEN = 16
VERIFIER_LEN = 32
KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
PAD_BLOCK = 1024

# magic, version, kdf id, memory_cost (KiB), iterations, lanes, salt, verifier
_HEADER = struct.Struct(">4sBBIII16s32s")
HEADER_LEN = _HEADER.size  # 66
PREFIX_LEN = HEADER_LEN + NONCE_LEN  # 78: the AEAD associated data
MIN_FILE_LEN = PREFIX_LEN + PAD_BLOCK + TAG_LEN  # 1118

_LEN_PREFIX = struct.Struct(">I")

INFO_ENCRYPTION = b"awsv vault v1 encryption key"
INFO_VERIFIER = b"awsv vault v1 passphrase verifier"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters, stored in the header so they can be raised later."""

    memory_cost: int  # KiB
    iterations: int
    lanes: int


#: What new vaults get.
DEFAULT_PARAMS = KdfParams(memory_cost=65536, iterations=3, lanes=4)
#: Below this a header is treated as tampered (a downgrade attack).
MIN_PARAMS = KdfParams(memory_cost=65536, iterations=3, lanes=1)
#: Above this a header is refused too, so a tampered file cannot make us
#: allocate terabytes or spin for hours before the verifier says no.
MAX_PARAMS = KdfParams(memory_cost=1024 * 1024, iterations=64, lanes=64)


def params_problem(params: KdfParams) -> str | None:
    """Why `params` are out of bounds, or None when they are acceptable."""
    for name in ("memory_cost", "iterations", "lanes"):
        value = getattr(params, name)
        if value < getattr(MIN_PARAMS, name):
            return f"KDF {name} {value} is below the minimum {getattr(MIN_PARAMS, name)}"
        if value > getattr(MAX_PARAMS, name):
            return f"KDF {name} {value} is above the maximum {getattr(MAX_PARAMS, name)}"
    return None


@dataclass(frozen=True)
class Header:
    """The parsed fixed-size header (everything before the nonce)."""

    params: KdfParams
    salt: bytes
    verifier: bytes
    version: int = VERSION
    kdf_id: int = KDF_ARGON2ID

    def to_bytes(self) -> bytes:
        p = self.params
        return _HEADER.pack(
            MAGIC, self.version, self.kdf_id, p.memory_cost, p.iterations, p.lanes, self.salt, self.verifier
        )


@dataclass(frozen=True)
class VaultKey:
    """What a passphrase unlocks: enough to read and rewrite one vault.

    Holds the salt and parameters it was derived with, so a writer rebuilds
    the same header and the key stays valid across writes (the agent keeps one
    of these in memory). `repr` never shows key material.
    """

    params: KdfParams
    salt: bytes
    enc_key: bytes = field(repr=False)
    verifier: bytes = field(repr=False)

    def header(self) -> Header:
        return Header(params=self.params, salt=self.salt, verifier=self.verifier)

    # Layout: version(1) memory(4) iterations(4) lanes(4) salt(16) key(32) verifier(32).
    _SERIAL = struct.Struct(">BIII16s32s32s")

    def to_bytes(self) -> bytes:
        """A fixed-size encoding for handing the key to another process in memory.

        The result is as secret as the passphrase: never write it to disk.
        """
        p = self.params
        return self._SERIAL.pack(VERSION, p.memory_cost, p.iterations, p.lanes, self.salt, self.enc_key, self.verifier)

    @classmethod
    def from_bytes(cls, data: bytes) -> VaultKey:
        """Inverse of `to_bytes`; raises VaultError on anything malformed."""
        if len(data) != cls._SERIAL.size:
            raise VaultError("a serialised vault key has the wrong length")
        version, memory, iterations, lanes, salt, enc_key, verifier = cls._SERIAL.unpack(data)
        if version != VERSION:
            raise VaultError(f"unsupported serialised vault key version {version}")
        return cls(KdfParams(memory, iterations, lanes), salt, enc_key, verifier)


def encode_passphrase(passphrase: str) -> bytes:
    """UTF-8 of the NFC form, so the same passphrase typed on macOS or Linux matches.

    Raises VaultError for an empty passphrase: it would protect nothing.
    """
    if not isinstance(passphrase, str) or passphrase == "":
        raise VaultError("an empty passphrase is not allowed", hint="choose a non-empty passphrase")
    try:
        return unicodedata.normalize("NFC", passphrase).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise VaultError("the passphrase is not valid text") from exc


def derive_key(passphrase: str, salt: bytes, params: KdfParams) -> VaultKey:
    """Argon2id(passphrase, salt, params) split by HKDF-SHA256 into a key and a verifier.

    Refuses parameters outside [MIN_PARAMS, MAX_PARAMS] with VaultCorrupted,
    since they can only come from a damaged or tampered header.
    """
    secret = encode_passphrase(passphrase)
    if len(salt) != SALT_LEN:
        raise VaultCorrupted(f"the salt must be {SALT_LEN} bytes")
    problem = params_problem(params)
    if problem:
        raise VaultCorrupted(problem)
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        master = Argon2id(
            salt=salt, length=KEY_LEN, iterations=params.iterations, lanes=params.lanes, memory_cost=params.memory_cost
        ).derive(secret)
    except (ImportError, UnsupportedAlgorithm) as exc:
        raise BackendUnavailable(
            "this build of the cryptography package has no Argon2id",
            hint="install cryptography >= 44 built against OpenSSL >= 3.2 (pip install -U cryptography)",
        ) from exc
    except MemoryError:
        raise VaultError(f"not enough memory to derive the vault key ({params.memory_cost} KiB)") from None

    def expand(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=None, info=info).derive(master)

    return VaultKey(params=params, salt=salt, enc_key=expand(INFO_ENCRYPTION), verifier=expand(INFO_VERIFIER))


def new_key(passphrase: str, params: KdfParams = DEFAULT_PARAMS, salt: bytes | None = None) -> VaultKey:
    """A key for a brand-new vault, with a fresh random salt unless one is given."""
    return derive_key(passphrase, os.urandom(SALT_LEN) if salt is None else salt, params)


def parse_header(data: bytes) -> Header:
    """Check the structure of a vault file and return its header.

    Needs no key. Raises VaultCorrupted for a wrong magic, unknown version or
    KDF, out-of-bounds parameters, or a length no writer produces.
    """
    if not data:
        raise VaultCorrupted("the vault file is empty")
    if data[: len(MAGIC)] != MAGIC[: len(data)]:
        raise VaultCorrupted("not an awsv vault file (bad magic)")
    if len(data) <= len(MAGIC):
        raise VaultCorrupted("the vault file is truncated")
    if data[4] != VERSION:
        raise VaultCorrupted(f"unsupported vault format version {data[4]}")
    if len(data) < MIN_FILE_LEN or (len(data) - PREFIX_LEN - TAG_LEN) % PAD_BLOCK:
        raise VaultCorrupted("the vault file is truncated or has a wrong length")
    _, version, kdf_id, memory, iterations, lanes, salt, verifier = _HEADER.unpack_from(data)
    if kdf_id != KDF_ARGON2ID:
        raise VaultCorrupted(f"unknown key derivation function id {kdf_id}")
    params = KdfParams(memory, iterations, lanes)
    problem = params_problem(params)
    if problem:
        raise VaultCorrupted(problem)
    return Header(params=params, salt=salt, verifier=verifier, version=version, kdf_id=kdf_id)


def verify_key(header: Header, key: VaultKey) -> None:
    """Raise WrongPassphrase unless `key` was derived for this header's verifier."""
    if not hmac.compare_digest(header.verifier, key.verifier):
        raise WrongPassphrase("wrong passphrase")


def encrypt(items: dict[str, Item], key: VaultKey, *, nonce: bytes | None = None) -> bytes:
    """The complete vault file holding `items`, sealed with `key`.

    `nonce` is for test vectors only: real writes MUST use a fresh random one.
    Raises VaultError if an item cannot be stored as JSON.
    """
    problem = params_problem(key.params)
    if problem:
        raise VaultError(f"refusing to write a weak vault: {problem}")
    for name, item in items.items():
        if not isinstance(name, str) or not name or not isinstance(item, dict):
            raise VaultError("vault items must be JSON objects under non-empty string names")
    try:
        body = json.dumps(items, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except (TypeError, ValueError) as exc:
        raise VaultError("an item cannot be stored: it is not plain JSON data") from exc
    plain = _LEN_PREFIX.pack(len(body)) + body
    plain += b"\0" * (-len(plain) % PAD_BLOCK)
    nonce = os.urandom(NONCE_LEN) if nonce is None else nonce
    if len(nonce) != NONCE_LEN:
        raise ValueError("nonce must be 12 bytes")
    prefix = key.header().to_bytes() + nonce

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return prefix + AESGCM(key.enc_key).encrypt(nonce, plain, prefix)


def decrypt(data: bytes, key: VaultKey) -> dict[str, Item]:
    """The items in vault file `data`.

    Checks in order: structure, passphrase verifier (WrongPassphrase),
    authentication tag over header+nonce+ciphertext, then the plaintext's
    length prefix, zero padding and JSON shape (all VaultCorrupted).
    """
    header = parse_header(data)
    verify_key(header, key)
    if key.salt != header.salt or key.params != header.params:
        # Same verifier but different derivation inputs cannot happen honestly.
        raise VaultCorrupted("the vault header does not match its key")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = data[HEADER_LEN:PREFIX_LEN]
    try:
        plain = AESGCM(key.enc_key).decrypt(nonce, data[PREFIX_LEN:], data[:PREFIX_LEN])
    except InvalidTag:
        raise VaultCorrupted("the vault failed authentication (modified or damaged)") from None
    return _parse_plaintext(plain)


def open_with_passphrase(data: bytes, passphrase: str) -> tuple[VaultKey, dict[str, Item]]:
    """Derive the key from `data`'s header and decrypt: the one-shot reader."""
    header = parse_header(data)
    key = derive_key(passphrase, header.salt, header.params)
    return key, decrypt(data, key)


def _parse_plaintext(plain: bytes) -> dict[str, Item]:
    if len(plain) < _LEN_PREFIX.size:
        raise VaultCorrupted("the vault plaintext is too short")
    (length,) = _LEN_PREFIX.unpack_from(plain)
    end = _LEN_PREFIX.size + length
    if end > len(plain):
        raise VaultCorrupted("the vault plaintext length is out of range")
    if plain[end:].strip(b"\0"):
        raise VaultCorrupted("the vault plaintext padding is not zero")
    try:
        doc = json.loads(
            plain[_LEN_PREFIX.size : end].decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise VaultCorrupted("the vault plaintext is not valid JSON (or repeats a name)") from exc
    if not isinstance(doc, dict):
        raise VaultCorrupted("the vault plaintext is not a JSON object")
    for name, item in doc.items():
        if not name or not isinstance(item, dict):
            raise VaultCorrupted("the vault holds a malformed item")
    return doc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate key")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")

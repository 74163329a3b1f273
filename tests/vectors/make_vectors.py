"""Generate the vault-format test vectors in this directory (run once, by hand).

    python tests/vectors/make_vectors.py

This is a second, independent implementation of docs/vault-format.md written
from the spec with `cryptography` primitives only (it does not import awsv),
so the vectors check the spec and awsv's code against each other. Salts and
nonces are derived from the vector name, so re-running it reproduces the same
bytes. The tests read the committed files; they never run this script.
"""

from __future__ import annotations

import hashlib
import json
import struct
import unicodedata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = Path(__file__).resolve().parent
PASSPHRASE = "correct horse battery staple"
DEFAULT = (65536, 3, 4)  # memory KiB, iterations, lanes

_derived: dict[tuple[bytes, bytes, tuple[int, int, int]], tuple[bytes, bytes]] = {}


def fixed(label: str, name: str, n: int) -> bytes:
    return hashlib.sha256(f"awsv test vector {label} {name}".encode()).digest()[:n]


def derive(passphrase: str, salt: bytes, params: tuple[int, int, int]) -> tuple[bytes, bytes]:
    """(encryption key, verifier) per the spec's formulas."""
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    cache_key = (secret, salt, params)
    if cache_key not in _derived:
        memory, iterations, lanes = params
        master = Argon2id(salt=salt, length=32, iterations=iterations, lanes=lanes, memory_cost=memory).derive(secret)

        def expand(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

        _derived[cache_key] = (expand(b"awsv vault v1 encryption key"), expand(b"awsv vault v1 passphrase verifier"))
    return _derived[cache_key]


def canonical(items: dict[str, Any]) -> bytes:
    return json.dumps(items, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def seal(
    name: str,
    body: bytes,
    *,
    passphrase: str = PASSPHRASE,
    params: tuple[int, int, int] = DEFAULT,
    length: int | None = None,
    pad_byte: int = 0,
    version: int = 1,
    kdf: int = 1,
) -> bytes:
    """A vault file whose plaintext is `body` (possibly not valid JSON, for invalid vectors)."""
    salt = fixed("salt", name, 16)
    nonce = fixed("nonce", name, 12)
    enc_key, verifier = derive(passphrase, salt, params)
    header = struct.pack(">4sBBIII16s32s", b"AWSV", version, kdf, *params, salt, verifier)
    plain = struct.pack(">I", len(body) if length is None else length) + body
    padding = -len(plain) % 1024
    if pad_byte and padding == 0:
        padding = 1024
    plain += bytes([pad_byte]) + b"\0" * (padding - 1) if pad_byte else b"\0" * padding
    assert len(plain) % 1024 == 0
    prefix = header + nonce
    return prefix + AESGCM(enc_key).encrypt(nonce, plain, prefix)


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def main() -> None:
    for old in list(HERE.glob("*.json")) + list(HERE.glob("*.vault")):
        old.unlink()

    def write(
        name: str,
        description: str,
        expected: str,
        *,
        data: bytes | None = None,
        file: str | None = None,
        passphrase: str = PASSPHRASE,
        items: dict[str, Any] | None = None,
    ) -> None:
        if data is not None:
            (HERE / f"{name}.vault").write_bytes(data)
            file = f"{name}.vault"
        doc: dict[str, object] = {
            "description": description,
            "file": file,
            "passphrase": passphrase,
            "expected": expected,
        }
        if items is not None:
            doc["items"] = items
        (HERE / f"{name}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    basic_items = {
        "key/prod": {
            "type": "long-term-key",
            "access_key_id": "AKIAEXAMPLEPROD00001",
            "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        },
        "key/équipe/ü": {
            "type": "long-term-key",
            "access_key_id": "AKIAEXAMPLEUNICODE01",
            "secret_access_key": "s3cr3t/with+slashes==",
        },
        "session/8f14e45f": {
            "type": "session",
            "mfa_serial": "arn:aws:iam::123456789012:mfa/alice",
            "expiration": "2030-01-01T00:00:00Z",
            "nested": {"list": [1, 2.5, True, None]},
        },
    }
    basic = seal("valid-basic", canonical(basic_items))
    write(
        "valid-basic",
        "Three items (a name with '/' and non-ASCII letters, nested values), "
        "default parameters (64 MiB, t=3, p=4), one 1024-byte block.",
        "ok",
        data=basic,
        items=basic_items,
    )
    write(
        "valid-empty",
        "A vault with no items: plaintext is '{}' padded to 1024 bytes.",
        "ok",
        data=seal("valid-empty", canonical({})),
        items={},
    )
    big_items = {f"session/{i:04d}": {"type": "session", "blob": "x" * 100 + str(i)} for i in range(30)}
    big = seal("valid-multi-block", canonical(big_items))
    assert len(big) > 78 + 16 + 2048
    write(
        "valid-multi-block", "Thirty items spanning several 1024-byte padding blocks.", "ok", data=big, items=big_items
    )
    higher = (98304, 4, 4)
    write(
        "valid-higher-params",
        "Parameters above the defaults (96 MiB, t=4, p=4) must open.",
        "ok",
        data=seal("valid-higher-params", canonical(basic_items), params=higher),
        items=basic_items,
    )
    nfd = unicodedata.normalize("NFD", "pässwörd ñ")
    write(
        "valid-nfd-passphrase",
        "Created with the NFC passphrase 'pässwörd ñ'; the vector gives it "
        "in NFD form, which must open it (passphrases are NFC-normalised).",
        "ok",
        data=seal("valid-nfd-passphrase", canonical(basic_items), passphrase=unicodedata.normalize("NFC", nfd)),
        passphrase=nfd,
        items=basic_items,
    )

    write(
        "wrong-passphrase",
        "valid-basic.vault with a different passphrase.",
        "WrongPassphrase",
        file="valid-basic.vault",
        passphrase=PASSPHRASE + "!",
    )
    write(
        "empty-passphrase",
        "valid-basic.vault with an empty passphrase: refused before any derivation.",
        "VaultError",
        file="valid-basic.vault",
        passphrase="",
    )
    write(
        "flipped-ciphertext",
        "valid-basic with bit 0 of ciphertext byte 10 (file offset 88) flipped: authentication fails.",
        "VaultCorrupted",
        data=flip(basic, 88),
    )
    write(
        "flipped-tag",
        "valid-basic with the last byte of the tag flipped.",
        "VaultCorrupted",
        data=flip(basic, len(basic) - 1),
    )
    write(
        "flipped-nonce",
        "valid-basic with nonce byte 0 (offset 66) flipped: the nonce is associated data and the decryption input.",
        "VaultCorrupted",
        data=flip(basic, 66),
    )
    write(
        "flipped-verifier",
        "valid-basic with verifier byte 0 (offset 34) flipped: indistinguishable from a wrong passphrase.",
        "WrongPassphrase",
        data=flip(basic, 34),
    )
    write(
        "flipped-salt",
        "valid-basic with salt byte 0 (offset 18) flipped: the derived verifier no longer matches.",
        "WrongPassphrase",
        data=flip(basic, 18),
    )
    write(
        "edited-iterations-up",
        "valid-basic with iterations edited from 3 to 4 (offset 13): within "
        "bounds, so it derives a different verifier.",
        "WrongPassphrase",
        data=flip(basic, 13, 0x03 ^ 0x04),
    )
    write(
        "edited-memory-below-minimum",
        "valid-basic with memory_cost edited to 32768 KiB: below the minimum, rejected before derivation.",
        "VaultCorrupted",
        data=basic[:6] + struct.pack(">I", 32768) + basic[10:],
    )
    write(
        "edited-lanes-zero",
        "valid-basic with lanes edited to 0.",
        "VaultCorrupted",
        data=basic[:14] + struct.pack(">I", 0) + basic[18:],
    )
    write(
        "edited-memory-huge",
        "valid-basic with memory_cost edited to 2^31 KiB: above the "
        "implementation maximum, rejected before derivation.",
        "VaultCorrupted",
        data=basic[:6] + struct.pack(">I", 2**31) + basic[10:],
    )
    write(
        "weak-params-consistent",
        "A correctly encrypted vault whose header says t=2 (below the "
        "minimum 3): a downgrade, rejected even with the right passphrase.",
        "VaultCorrupted",
        data=seal("weak-params-consistent", canonical(basic_items), params=(65536, 2, 4)),
    )
    write("bad-magic", "valid-basic with magic 'AWSW'.", "VaultCorrupted", data=b"AWSW" + basic[4:])
    write("unknown-version", "valid-basic with version byte 2.", "VaultCorrupted", data=basic[:4] + b"\x02" + basic[5:])
    write("unknown-kdf", "valid-basic with KDF id 2.", "VaultCorrupted", data=basic[:5] + b"\x02" + basic[6:])
    write("empty-file", "A zero-length file.", "VaultCorrupted", data=b"")
    write("truncated-header", "The first 40 bytes of valid-basic.", "VaultCorrupted", data=basic[:40])
    write("truncated-one-byte", "valid-basic without its last byte.", "VaultCorrupted", data=basic[:-1])
    write(
        "truncated-block",
        "valid-multi-block without its last 1024 bytes: the length is well-formed but authentication fails.",
        "VaultCorrupted",
        data=big[:-1024],
    )
    write(
        "bad-padding",
        "Correctly encrypted, but the first padding byte is 0x01.",
        "VaultCorrupted",
        data=seal("bad-padding", canonical(basic_items), pad_byte=1),
    )
    write(
        "length-out-of-range",
        "Correctly encrypted, but the length prefix exceeds the plaintext.",
        "VaultCorrupted",
        data=seal("length-out-of-range", b"{}", length=5000),
    )
    write(
        "not-json",
        "Correctly encrypted, but the document is not JSON.",
        "VaultCorrupted",
        data=seal("not-json", b"not json at all"),
    )
    write(
        "json-array",
        "Correctly encrypted, but the document is a JSON array.",
        "VaultCorrupted",
        data=seal("json-array", b"[]"),
    )
    write(
        "item-not-object",
        "Correctly encrypted, but an item is a number, not an object.",
        "VaultCorrupted",
        data=seal("item-not-object", b'{"key/a":1}'),
    )
    write(
        "duplicate-names",
        "Correctly encrypted, but the document repeats an item name.",
        "VaultCorrupted",
        data=seal("duplicate-names", b'{"key/a":{},"key/a":{"x":1}}'),
    )


if __name__ == "__main__":
    main()

"""Checks on files: secrets left in plaintext, and the vault's own files being private.

These read files only (the AWS CLI's credentials file and SSO cache, the
file vault's directory and header), never decrypt anything, and so work
when the user is locked out.
"""

from __future__ import annotations

import configparser
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from awsv import paths
from awsv.doctor.findings import FAIL, INFO, PASS, WARN, Finding
from awsv.errors import AwsvError
from awsv.safe_read import read_text_file


def plaintext_credentials(env: Mapping[str, str]) -> Iterator[Finding]:
    """Long-term secrets in ~/.aws/credentials are exactly what awsv exists to end."""
    path = paths.aws_credentials_file(env)
    if not path.exists():
        yield Finding("plaintext-keys", PASS, f"no plaintext credentials file ({path})")
        return
    parser = configparser.RawConfigParser(default_section="\0none\0", interpolation=None)
    try:
        parser.read_string(read_text_file(path, what="credentials file"))
    except (OSError, AwsvError, configparser.Error):
        yield Finding(
            "plaintext-keys",
            WARN,
            f"cannot parse {path} to check it for secrets",
            "inspect it by hand; `awsv import` moves keys into the vault",
        )
        return
    long_term = [
        s
        for s in parser.sections()
        if parser.has_option(s, "aws_secret_access_key") and not parser.has_option(s, "aws_session_token")
    ]
    temporary = [s for s in parser.sections() if parser.has_option(s, "aws_session_token")]
    if long_term:
        yield Finding(
            "plaintext-keys",
            FAIL,
            f"{len(long_term)} long-term secret key(s) in plaintext in {path}: " + ", ".join(long_term),
            "awsv import --delete-plaintext",
        )
    if temporary:
        yield Finding(
            "plaintext-keys",
            WARN,
            f"{len(temporary)} temporary credential set(s) in plaintext in {path}: " + ", ".join(temporary),
            "delete them from the file; `awsv use` keeps them in the shell only",
        )
    if not long_term and not temporary:
        yield Finding("plaintext-keys", PASS, f"no secrets in {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and (long_term or temporary):
        yield Finding(
            "plaintext-keys", FAIL, f"{path} is readable by other users (mode {mode:03o})", f"chmod 600 {path}"
        )


def plaintext_sso_tokens(env: Mapping[str, str]) -> Iterator[Finding]:
    """SSO tokens in the AWS CLI's cache are bearer secrets in plaintext (silent when none)."""
    from awsv.sso.tokens import aws_cli_cache_dir

    directory = aws_cli_cache_dir(env)
    try:
        holding = [
            p
            for p in sorted(directory.glob("*.json"))
            if p.stat().st_size < 65536 and b'"accessToken"' in p.read_bytes()
        ]
    except OSError:
        return
    if holding:
        yield Finding(
            "plaintext-keys",
            WARN,
            f"{len(holding)} SSO token file(s) in plaintext in {directory}",
            "awsv keeps its own tokens in the vault (and imports a valid one from here); "
            "`awsv sso logout` or `aws sso logout` removes these files",
        )


def _private(path: Path, want: int, what: str) -> Finding:
    from awsv.private import KIND, OWNER, not_private

    st = path.lstat()
    problem = not_private(st, is_dir=want == 0o700)
    if problem is not None:
        kind, wrong = problem
        fix = {KIND: f"move {path} aside", OWNER: f"chown {os.geteuid()} {path}"}.get(kind, f"chmod {want:o} {path}")
        return Finding("vault-permissions", FAIL, f"{what} {path} {wrong}", fix)
    return Finding("vault-permissions", PASS, f"{what} {path} is private ({stat.S_IMODE(st.st_mode):03o})")


def vault_files(env: Mapping[str, str]) -> Iterator[Finding]:
    """The file vault's directory and files are private to the user."""
    from awsv.vault.file import VAULT_FILE

    directory = paths.data_dir(env)
    if not directory.exists():
        yield Finding(
            "vault-permissions", INFO, f"no vault directory yet ({directory})", "`awsv add PROFILE` creates it"
        )
        return
    yield _private(directory, 0o700, "vault directory")
    vault = directory / VAULT_FILE
    if vault.exists():
        yield _private(vault, 0o600, "vault file")
        try:
            from awsv.vault.file_format import parse_header

            header = parse_header(vault.read_bytes())
        except AwsvError as exc:
            yield Finding("vault-format", FAIL, f"{vault}: {exc.message}", "restore it from a backup")
        else:
            kdf = header.params
            yield Finding(
                "vault-format",
                PASS,
                f"vault format v1, Argon2id {kdf.memory_cost // 1024} MiB, {kdf.iterations} passes, {kdf.lanes} lanes",
            )
    loose = [path for path in directory.iterdir() if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077]
    for path in loose:
        yield Finding("vault-permissions", FAIL, f"{path} is readable by other users", f"chmod 600 {path}")

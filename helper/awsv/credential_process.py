"""A profile's `credential_process` as a source of credentials.

The command is split with `shlex` and run without a shell (its arguments come
from the user's config, but a second layer of parsing would only add ways to
go wrong), with the vault-unlocking variables removed from its environment
(`awsv.user_command`), and a timeout so a stuck helper cannot hang awsv.
Its stdout must be the AWS "Version 1" JSON document:

    {"Version": 1, "AccessKeyId": "…", "SecretAccessKey": "…",
     "SessionToken": "…", "Expiration": "2026-01-01T00:00:00Z"}

`SessionToken` and `Expiration` are optional (a long-term key has neither);
`AccountId` is used when present. An Expiration without an offset is read as
UTC. Any failure is one line naming the profile; the command's output is never
echoed, because it may hold a secret. At most `user_command.MAX_OUTPUT` bytes
are read, JSON nested too deeply is refused, and every value is checked
(`credentials.check_values`: characters and length) before it can reach a
shell or an HTTP header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from awsv.clock import utcnow
from awsv.credentials import Credentials, check_values
from awsv.errors import AwsvError
from awsv.user_command import MAX_OUTPUT, run_user_command

#: Seconds a credential_process may run; generous, since some open a browser for SSO.
DEFAULT_TIMEOUT = 120.0


class CredentialProcessError(AwsvError):
    """The credential_process could not run, failed, or printed something unusable."""


def run_credential_process(
    profile: str,
    command: str,
    env: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    now: Callable[[], datetime] | None = None,
) -> Credentials:
    """Run `command` for `profile` and return the credentials it prints.

    Raises CredentialProcessError when the command cannot be parsed or run,
    exits non-zero, times out, prints something that is not a Version 1
    document, or returns credentials that have already expired.
    """
    where = f"credential_process of profile {profile!r}"
    out = run_user_command(
        command,
        where=where,
        env=env,
        timeout=timeout,
        error=CredentialProcessError,
        parse_hint="check its quoting in the AWS config",
    )
    return parse_output(out, where, now=now)


def parse_output(raw: bytes, where: str, *, now: Callable[[], datetime] | None = None) -> Credentials:
    """Parse a Version 1 document; errors say what is wrong, never what was printed."""
    if len(raw) > MAX_OUTPUT:
        raise CredentialProcessError(
            f"{where} printed more than {MAX_OUTPUT} bytes", hint="it must print only the Version 1 credentials JSON"
        )
    try:
        doc: Any = json.loads(raw.decode("utf-8"))
    except RecursionError:
        # `[[[[…` nested deeper than Python's stack: a broken or hostile helper, not a crash.
        raise CredentialProcessError(
            f"{where} printed JSON nested too deeply", hint="it must print the Version 1 credentials JSON on stdout"
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise CredentialProcessError(
            f"{where} did not print a JSON document", hint="it must print the Version 1 credentials JSON on stdout"
        ) from None
    if not isinstance(doc, dict):
        raise CredentialProcessError(f"{where} printed JSON that is not an object")
    if doc.get("Version") != 1:
        raise CredentialProcessError(f"{where} printed an unsupported Version (expected 1)")
    for field in ("AccessKeyId", "SecretAccessKey"):
        if not isinstance(doc.get(field), str) or not doc[field]:
            raise CredentialProcessError(f"{where} printed no {field}")
    token = doc.get("SessionToken")
    if token is not None and not isinstance(token, str):
        raise CredentialProcessError(f"{where} printed a SessionToken that is not a string")
    expiration = _expiration(doc.get("Expiration"), where)
    if expiration is not None:
        current = (now or utcnow)()
        if expiration <= current:
            raise CredentialProcessError(
                f"{where} returned credentials that have already expired",
                hint="its own cache may be stale; check the command",
            )
    account = doc.get("AccountId")
    creds = Credentials(
        access_key_id=doc["AccessKeyId"],
        secret_access_key=doc["SecretAccessKey"],
        session_token=token or None,
        expiration=expiration,
        account_id=account if isinstance(account, str) and account.isdigit() else None,
    )
    check_values(creds, where)
    return creds


def _expiration(raw: object, where: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise CredentialProcessError(f"{where} printed an Expiration that is not a string")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise CredentialProcessError(f"{where} printed an Expiration that is not an ISO 8601 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

"""Health checks for `awsv doctor`: each says pass, warn or fail, and how to fix it.

Honest means: a check that cannot run says so (warn, with why) instead of
passing, and nothing here changes any state. Checks never open the vault
with a passphrase: doctor must work when the user is locked out.

The checks are grouped by what they look at: `files` (plaintext secrets,
the vault's files), `profiles` (the AWS config), `runtime` (backend, agent,
shell, PATH, credential endpoint, clock); `findings` is their shared
vocabulary. `CHECKS` is the order `awsv doctor` shows them in.
"""

from __future__ import annotations

from collections.abc import Mapping

from awsv.doctor.files import plaintext_credentials, plaintext_sso_tokens, vault_files
from awsv.doctor.findings import FAIL, INFO, PASS, WARN, Check, Finding, plural
from awsv.doctor.profiles import config
from awsv.doctor.runtime import agent, backend, clock, container_endpoint, on_path, shell_integration
from awsv.errors import AwsvError

__all__ = ["CHECKS", "FAIL", "INFO", "PASS", "WARN", "Check", "Finding", "plural", "run_checks"]

CHECKS: list[Check] = [
    plaintext_credentials,
    plaintext_sso_tokens,
    vault_files,
    backend,
    agent,
    config,
    shell_integration,
    on_path,
    container_endpoint,
    clock,
]


def run_checks(env: Mapping[str, str], checks: list[Check] | None = None) -> list[Finding]:
    """Run every check; a check that crashes on bad input is reported, not raised."""
    findings: list[Finding] = []
    for check in checks or CHECKS:
        try:
            findings.extend(check(env))
        except AwsvError as exc:
            findings.append(Finding(check.__name__.replace("_", "-"), FAIL, exc.message, exc.hint))
        except OSError as exc:
            findings.append(
                Finding(check.__name__.replace("_", "-"), WARN, f"check could not run: {exc.strerror or exc}")
            )
    return findings

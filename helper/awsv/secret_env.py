"""The one list of secret environment variables, in a module cheap enough for the hot path.

Two kinds: what unlocks the vault (SECRET_ENV_VARS: every process awsv starts
gets the caller's environment without these, so no child — an `exec`ed
command, a credential_process, a browser — can reach the vault key), and the
secret parts of AWS credentials (AWS_SECRET_VARS: never sent to the agent,
which has no use for them).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing imports cost milliseconds on the hot path
if TYPE_CHECKING:
    from collections.abc import Mapping

#: What unlocks the vault: a passphrase, or a command that prints one.
SECRET_ENV_VARS = (
    "AWSV_FILE_PASSPHRASE",
    "AWS_VAULT_FILE_PASSPHRASE",
    "AWSV_PASSPHRASE_COMMAND",
    "AWS_VAULT_PASSPHRASE_COMMAND",
)
#: The secret parts of AWS credentials in the environment.
AWS_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
#: AWS credentials in the environment, the key id included.
AWS_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", *AWS_SECRET_VARS)


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without anything that unlocks the vault, for processes awsv starts.

    It also carries the mark of the profiles being resolved (awsv.recursion),
    so an awsv started from it cannot resolve them again.
    """
    from awsv.recursion import mark_env

    return mark_env({k: v for k, v in env.items() if k not in SECRET_ENV_VARS})

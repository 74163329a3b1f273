"""The environment variables that unlock the vault, in a module cheap enough for the hot path.

Every process awsv starts gets the caller's environment without these, so
no child (an `exec`ed command, a credential_process, a browser) can reach the
vault key.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing imports cost milliseconds on the hot path
if TYPE_CHECKING:
    from collections.abc import Mapping

SECRET_ENV_VARS = ("AWSV_FILE_PASSPHRASE", "AWS_VAULT_FILE_PASSPHRASE",
                   "AWSV_PASSPHRASE_COMMAND", "AWS_VAULT_PASSPHRASE_COMMAND")


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without anything that unlocks the vault, for processes awsv starts.

    It also carries the mark of the profiles being resolved (awsv.recursion),
    so an awsv started from it cannot resolve them again.
    """
    from awsv.recursion import mark_env

    return mark_env({k: v for k, v in env.items() if k not in SECRET_ENV_VARS})

"""The `credential_process` document: what the AWS CLI and SDKs read from a command."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from awsv.credentials import Credentials


def credential_process_json(credentials: Credentials) -> str:
    """The `credential_process` output for `credentials`, one line plus a newline.

    The AWS CLI and SDKs require `Version: 1`, `AccessKeyId` and
    `SecretAccessKey`; `SessionToken` and `Expiration` (ISO 8601 with an
    offset) are included when there are any. Without an Expiration the SDKs
    never refresh, which is right only for long-term keys.
    """
    doc: dict[str, object] = {
        "Version": 1,
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
    }
    if credentials.session_token:
        doc["SessionToken"] = credentials.session_token
    expiration = credentials.expiration_iso()
    if expiration:
        doc["Expiration"] = expiration
    return json.dumps(doc) + "\n"

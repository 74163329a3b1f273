"""Example access keys and the way tests store one: `awsv add` reading two lines on stdin.

The keys are AWS's documented examples, so no test ever holds a real secret;
`CREDENTIALS` is a plaintext `~/.aws/credentials` with two keys to import and
one temporary key that `awsv import` must skip.
"""

from __future__ import annotations

import subprocess

from tests.conftest import AwsvRunner

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID2 = "AKIAI44QH8DHBEXAMPLE"
SECRET2 = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"


def add(
    awsv: AwsvRunner, profile: str, *extra: str, key_id: str = KEY_ID, secret: str = SECRET
) -> subprocess.CompletedProcess[str]:
    """`awsv add PROFILE [EXTRA...]` with the key typed on stdin, as a user pipes it."""
    return awsv("add", profile, *extra, input=f"{key_id}\n{secret}\n")


CREDENTIALS = f"""# my keys
[default]
aws_access_key_id = {KEY_ID}
aws_secret_access_key = {SECRET}
region = us-east-1

[work]
aws_access_key_id={KEY_ID2}
aws_secret_access_key={SECRET2}

[temp]
aws_access_key_id = ASIAIOSFODNN7EXAMPLE
aws_secret_access_key = {SECRET}
aws_session_token = FQoGZXIvYXdzEXAMPLE
"""

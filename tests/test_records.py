"""awsv.records: values built in bulk are cheap, and still values.

At run time a `record` is a slotted dataclass with a hash; to mypy it is a
frozen dataclass. Both halves are checked: the run-time behaviour here
directly, the type checker's by running mypy on a file that assigns to a field.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from awsv.chain import RoleHop, Source
from awsv.config import AwsConfig, Profile

HELPER = Path(__file__).resolve().parent.parent / "helper"


def test_a_record_is_a_value_equal_and_hashable() -> None:
    one = Source(kind="vault", profile="base", mfa_serial="arn:aws:iam::123456789012:mfa/me")
    two = Source(kind="vault", profile="base", mfa_serial="arn:aws:iam::123456789012:mfa/me")
    assert one == two
    assert hash(one) == hash(two)
    assert len({one, two}) == 1
    assert dataclasses.replace(one, profile="other") == Source(
        kind="vault", profile="other", mfa_serial="arn:aws:iam::123456789012:mfa/me"
    )


def test_a_record_takes_no_new_attributes() -> None:
    hop = RoleHop(profile="admin", role_arn="arn:aws:iam::123456789012:role/Admin")
    with pytest.raises(AttributeError):
        hop.typo_of_a_field = 1  # type: ignore[attr-defined]


def test_profiles_are_shared_and_their_settings_read_only() -> None:
    config = AwsConfig.parse("[profile base]\nregion = eu-west-1\n")
    first = config.profile("base")
    assert first is config.profile("base")  # built once per config
    assert first == Profile("base", {"region": "eu-west-1"})
    with pytest.raises(TypeError):
        first.settings["region"] = "us-east-1"  # type: ignore[index]


def test_the_type_checker_refuses_an_assignment_to_a_field(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from awsv.chain import Chain, Source\n"
        "from awsv.config import Profile\n"
        "def f(s: Source, c: Chain, p: Profile) -> None:\n"
        "    s.kind = 'sso'\n"
        "    c.region = 'us-east-1'\n"
        "    p.name = 'x'\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", str(probe)],
        capture_output=True,
        text=True,
        env={"MYPYPATH": str(HELPER), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=240,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(": error: ")[1] for line in errors] == [
        'Property "kind" defined in "Source" is read-only  [misc]',
        'Property "region" defined in "Chain" is read-only  [misc]',
        'Property "name" defined in "Profile" is read-only  [misc]',
    ], result.stdout + result.stderr

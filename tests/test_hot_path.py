"""What the hot paths load: a cached session served by an unlocked agent needs no heavy import.

`awsv use P`, `awsv export --format credential-process P` and `awsv exec P --
true` run in fresh interpreters with `-X importtime`, which lists every module
imported after start-up on stderr (even for `exec`, whose process becomes
`true`). None of boto3/botocore, keyring (and its D-Bus stack), rich,
cryptography or awsv's own crypto modules may appear, nor any entry-point
scan (importlib.metadata, pkg_resources). The agent does the crypto.

Timing is not asserted here (the machine is shared and noisy): `bench/run`
measures it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSPHRASE
from tests.support import secret_service as secret_service_support
from tests.support.agent_world import COUNTER, cleanup_agents
from tests.support.hot_path import Hot, forbidden_in, not_on_fast_path, setup_world
from tests.support.moto_server import create_user_with_key, moto, moto_url  # noqa: F401  (fixtures)
from tests.support.secret_service import SecretService

secret_service = secret_service_support.secret_service


HOT_COMMANDS = {
    "use": ["use", "admin", "--shell", "bash"],
    "credential_process": ["export", "--format", "credential-process", "admin"],
    "exec": ["exec", "admin", "--", "true"],
}


def asked_file(home: Path) -> Path:
    """Where file_world's passphrase command records each time it runs."""
    return home.parent / "asked"


@pytest.fixture
def file_world(home: Path, moto: str) -> Iterator[Hot]:
    count = asked_file(home)
    script = home.parent / "pw"
    script.write_text(COUNTER.format(count=count, passphrase=TEST_PASSPHRASE))
    script.chmod(0o700)
    hot = setup_world(home, moto, {"AWSV_PASSPHRASE_COMMAND": str(script), "AWSV_TEST_MARK": home.parent.name})
    try:
        yield hot
    finally:
        cleanup_agents(hot.awsv, home.parent.name)


def test_hot_paths_of_the_file_vault_import_nothing_heavy(file_world: Hot) -> None:
    first = file_world.awsv("use", "admin", "--shell", "bash")  # STS once; starts the agent
    assert first.returncode == 0, first.stderr
    asked = asked_file(file_world.home).read_text()
    assert asked.count("asked") == 1

    out, modules = file_world.run(HOT_COMMANDS["use"])
    assert "AWS_SESSION_TOKEN=" in out
    assert forbidden_in(modules) == []
    assert "awsv.agent.client" in modules and "awsv.agent.launch" not in modules
    # The agent answered: the client parsed no config and ran no command code.
    assert not_on_fast_path(modules) == []

    out, modules = file_world.run(HOT_COMMANDS["credential_process"])
    assert json.loads(out)["Version"] == 1
    assert forbidden_in(modules) == [] and not_on_fast_path(modules) == []

    out, modules = file_world.run(HOT_COMMANDS["exec"])
    assert forbidden_in(modules) == [] and not_on_fast_path(modules) == []
    # Inside another session (`awsv use dev` ran in this shell) the fast path still answers.
    out, modules = file_world.run(HOT_COMMANDS["exec"], {"AWSV_PROFILE": "dev", "AWS_VAULT": "dev"})
    assert forbidden_in(modules) == [] and not_on_fast_path(modules) == []

    # Other commands stayed unloaded: only the one command module was imported.
    _, modules = file_world.run(HOT_COMMANDS["use"])
    assert not {"awsv.commands.add", "awsv.commands.import_", "awsv.commands.whoami"} & modules
    assert asked_file(file_world.home).read_text().count("asked") == 1


def test_without_the_agent_the_crypto_is_loaded(file_world: Hot) -> None:
    """The control: the same command opening the vault itself does import cryptography."""
    assert file_world.awsv("use", "admin", "--shell", "bash").returncode == 0
    _, modules = file_world.run(HOT_COMMANDS["use"], {"AWSV_AGENT": "off"})
    assert "cryptography" in modules and "awsv.vault.file" in modules


def test_hot_path_of_the_keyring_imports_no_keyring(
    home: Path,
    moto: str,
    secret_service: SecretService,
) -> None:
    extra = {**secret_service.extra, "AWSV_BACKEND": "keyring", "AWSV_TEST_MARK": home.parent.name}
    hot = setup_world(home, moto, extra)
    hot.env.pop("AWSV_FILE_PASSPHRASE", None)
    try:
        r = hot.awsv("unlock")
        assert r.returncode == 0, r.stderr
        assert hot.awsv("use", "admin", "--shell", "bash").returncode == 0  # STS once, cached
        for args in HOT_COMMANDS.values():
            _, modules = hot.run(args)
            assert forbidden_in(modules) == [], args
        _, modules = hot.run(HOT_COMMANDS["use"], {"AWSV_AGENT": "off"})
        assert "keyring" in modules  # the control: without the agent, keyring loads
    finally:
        cleanup_agents(hot.awsv, home.parent.name)


def eval_bash(code: str) -> dict[str, str]:
    import subprocess

    script = code + "\nenv -0"
    out = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script], capture_output=True, env={"PATH": "/usr/bin:/bin"}, check=True
    ).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def test_fast_path_prints_what_the_full_command_prints(file_world: Hot) -> None:
    """The agent's answer and the full command agree, variable for variable."""
    assert file_world.awsv("use", "admin", "--shell", "bash").returncode == 0  # cache + agent
    fast, modules = file_world.run(HOT_COMMANDS["use"])
    assert not_on_fast_path(modules) == []
    full, modules = file_world.run(HOT_COMMANDS["use"], {"AWSV_AGENT": "off"})
    assert "awsv.sessions" in modules  # the control really took the full path
    assert eval_bash(fast) == eval_bash(full)
    fast_cp, _ = file_world.run(HOT_COMMANDS["credential_process"])
    full_cp, _ = file_world.run(HOT_COMMANDS["credential_process"], {"AWSV_AGENT": "off"})
    assert json.loads(fast_cp) == json.loads(full_cp)
    # a profile the agent cannot answer falls back to the full command's error
    r = file_world.awsv("use", "admn", "--shell", "bash")
    assert r.returncode == 1 and "did you mean admin?" in r.stderr and r.stdout == "(builtin exit 1)\n"

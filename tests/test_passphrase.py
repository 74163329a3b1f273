"""Where the vault passphrase comes from: a command, the environment, or the terminal.

Terminal prompts are driven through a real pty (pexpect), which is also how
we prove the prompt works while stdout is captured.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import TEST_PASSPHRASE, AwsvRunner
from tests.support.keys import KEY_ID, SECRET, add


def write_script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o700)
    return path


def test_passphrase_command_without_shell(awsv: AwsvRunner, tmp_path: Path) -> None:
    log = tmp_path / "ran"
    script = write_script(tmp_path / "pw", f'touch {log}\nprintf "%s\\n" "{TEST_PASSPHRASE}"\n')
    env = {"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": str(script)}
    r = awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env=env)
    assert r.returncode == 0, r.stderr
    assert log.exists()
    # the same vault opens with the environment passphrase: the trailing newline was stripped
    assert add(awsv, "prod", "--force").returncode == 0


def test_passphrase_command_with_a_pipe(awsv: AwsvRunner) -> None:
    env = {"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": f"echo '{TEST_PASSPHRASE} x' | cut -d' ' -f1-4"}
    assert add(awsv, "prod").returncode == 0
    assert awsv("list", env=env).returncode == 0


def test_passphrase_command_wins_over_env(awsv: AwsvRunner) -> None:
    add(awsv, "prod")
    r = awsv("list", env={"AWSV_PASSPHRASE_COMMAND": "printf wrong"})
    assert r.returncode == 1 and "passphrase" in r.stderr


def test_passphrase_command_failure(awsv: AwsvRunner) -> None:
    r = awsv(
        "add",
        "prod",
        input=f"{KEY_ID}\n{SECRET}\n",
        env={"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": "sh -c 'exit 3'"},
    )
    assert r.returncode == 1
    assert "passphrase command failed with exit status 3" in r.stderr
    r = awsv(
        "add",
        "prod",
        input=f"{KEY_ID}\n{SECRET}\n",
        env={"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": "/nonexistent/pw-tool"},
    )
    assert r.returncode == 1 and "passphrase command not found" in r.stderr


def test_passphrase_command_does_not_see_env_passphrase(awsv: AwsvRunner, tmp_path: Path) -> None:
    out = tmp_path / "env"
    script = write_script(tmp_path / "pw", f'env > {out}\nprintf "%s" "{TEST_PASSPHRASE}"\n')
    r = awsv(
        "add",
        "prod",
        input=f"{KEY_ID}\n{SECRET}\n",
        env={"AWS_VAULT_FILE_PASSPHRASE": "leak-me", "AWSV_PASSPHRASE_COMMAND": str(script)},
    )
    assert r.returncode == 0, r.stderr
    assert "leak-me" not in out.read_text() and TEST_PASSPHRASE not in out.read_text()


def test_aws_vault_variable_honoured(awsv: AwsvRunner) -> None:
    env = {"AWSV_FILE_PASSPHRASE": None, "AWS_VAULT_FILE_PASSPHRASE": TEST_PASSPHRASE}
    assert add(awsv, "prod").returncode == 0
    assert awsv("list", env=env).returncode == 0


def spawn(env: dict[str, str], *args: str) -> pexpect.spawn:
    env = {k: v for k, v in env.items() if k not in ("AWSV_FILE_PASSPHRASE",)}
    return pexpect.spawn(sys.executable, ["-m", "awsv", *args], env=env, encoding="utf-8", timeout=30)


def test_first_use_asks_twice_on_the_terminal(env: dict[str, str], awsv: AwsvRunner) -> None:
    child = spawn(env, "add", "prod")
    child.expect_exact("Access Key ID: ")
    child.sendline(KEY_ID)
    child.expect_exact("Secret Access Key: ")
    child.sendline(SECRET)
    vault = Path(env["XDG_DATA_HOME"]) / "awsv" / "vault.awsv"
    child.expect_exact(f"creating a new vault at {vault}")  # what is happening, and where
    child.expect_exact("New awsv vault passphrase: ")
    child.sendline("")  # empty: refused, asked again
    child.expect_exact("must not be empty")
    child.expect_exact("New awsv vault passphrase: ")
    child.sendline("first of two phrases")
    child.expect_exact("Repeat the passphrase: ")
    child.sendline("different phrase")
    child.expect_exact("differ")
    child.expect_exact("New awsv vault passphrase: ")
    child.sendline("typed pass phrase")
    child.expect_exact("Repeat the passphrase: ")
    child.sendline("typed pass phrase")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert SECRET not in (child.before or "")  # the hidden prompt did not echo
    assert "warning" not in (child.before or "")  # long enough: no warning
    # the vault now opens with what was typed, once, and not with the test passphrase
    assert awsv("list", env={"AWSV_FILE_PASSPHRASE": "typed pass phrase"}).returncode == 0
    assert awsv("list").returncode == 1


def test_a_short_new_passphrase_is_warned_about_and_confirmed(env: dict[str, str], awsv: AwsvRunner) -> None:
    child = spawn(env, "add", "prod")
    child.expect_exact("Access Key ID: ")
    child.sendline(KEY_ID)
    child.expect_exact("Secret Access Key: ")
    child.sendline(SECRET)
    child.expect_exact("New awsv vault passphrase: ")
    child.sendline("abc")
    child.expect_exact("only 3 character(s); use at least 12")
    child.expect_exact("attacked offline")
    child.expect_exact("Use this short passphrase anyway? [y/N] ")
    child.sendline("")  # no: asked for another one
    child.expect_exact("New awsv vault passphrase: ")
    child.sendline("abc")
    child.expect_exact("Use this short passphrase anyway? [y/N] ")
    child.sendline("y")  # the user's call, after the warning
    child.expect_exact("Repeat the passphrase: ")
    child.sendline("abc")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert awsv("list", env={"AWSV_FILE_PASSPHRASE": "abc"}).returncode == 0


@pytest.mark.parametrize("source", ["AWSV_FILE_PASSPHRASE", "AWS_VAULT_FILE_PASSPHRASE", "AWSV_PASSPHRASE_COMMAND"])
def test_a_short_passphrase_from_a_source_is_warned_about(awsv: AwsvRunner, source: str) -> None:
    value = "printf abc" if source == "AWSV_PASSPHRASE_COMMAND" else "abc"
    env = {"AWSV_FILE_PASSPHRASE": None, source: value}
    r = awsv("add", "prod", input=f"{KEY_ID}\n{SECRET}\n", env=env)
    assert r.returncode == 0, r.stderr
    assert f"awsv: warning: creating the vault with the passphrase from {source}" in r.stderr
    assert "use at least 12" in r.stderr and "attacked offline" in r.stderr
    r = awsv("add", "other", input=f"{KEY_ID}\n{SECRET}\n", env=env)  # the vault exists: no warning
    assert r.returncode == 0 and "warning" not in r.stderr


@pytest.mark.parametrize("source", ["AWSV_FILE_PASSPHRASE", "AWS_VAULT_FILE_PASSPHRASE", "AWSV_PASSPHRASE_COMMAND"])
def test_a_wrong_passphrase_names_its_source(awsv: AwsvRunner, source: str) -> None:
    assert add(awsv, "prod").returncode == 0
    value = "printf wrong-passphrase" if source == "AWSV_PASSPHRASE_COMMAND" else "wrong-passphrase"
    r = awsv("list", env={"AWSV_FILE_PASSPHRASE": None, source: value})
    assert r.returncode == 1
    error, hint = r.stderr.splitlines()
    assert error.startswith(f"awsv: error: wrong passphrase (from {source}) for the vault ")
    assert hint.startswith(f"awsv: hint: check {'what ' if 'COMMAND' in source else ''}{source}")
    assert "try again" not in r.stderr and "wrong-passphrase" not in r.stderr


def test_a_wrong_typed_passphrase_says_try_again(env: dict[str, str], awsv: AwsvRunner) -> None:
    add(awsv, "prod")
    child = spawn(env, "list")
    child.expect_exact("awsv vault passphrase: ")
    child.sendline("not the passphrase")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "wrong passphrase (from the terminal)" in child.before
    assert "try again" in child.before


def test_existing_vault_asks_once_and_captured_stdout(env: dict[str, str], awsv: AwsvRunner) -> None:
    add(awsv, "prod")
    child = spawn(env, "list", "--json")
    child.expect_exact("awsv vault passphrase: ")
    child.sendline(TEST_PASSPHRASE)
    child.expect_exact('"profile": "prod"')
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_at_the_prompt_changes_nothing(env: dict[str, str], home: Path) -> None:
    child = spawn(env, "add", "prod")
    child.expect_exact("Access Key ID: ")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert not (home / ".local" / "share" / "awsv" / "vault.awsv").exists()


def test_passphrase_command_printing_non_utf8(awsv: AwsvRunner) -> None:
    r = awsv(
        "add",
        "prod",
        input=f"{KEY_ID}\n{SECRET}\n",
        env={"AWSV_FILE_PASSPHRASE": None, "AWSV_PASSPHRASE_COMMAND": r"printf '\377\376'"},
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "not UTF-8 text" in r.stderr

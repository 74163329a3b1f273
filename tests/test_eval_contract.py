"""The eval contract without any shell integration: `eval "$(awsv use P)"` in real shells.

The contract: on failure stdout carries only code that fails, never a partial
set of exports, so `eval "$(awsv use P)" && deploy` stops. An empty output
would not do: `eval ""` succeeds. Each case runs in a real bash, zsh and fish
(no rc files), at top level and inside a function (where a `return` in the
output would end the caller instead of failing), against moto's server
through the real file vault (the `World` of tests/support/use_world.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.moto_server import moto_url  # noqa: F401  (pytest fixture)
from tests.support.use_world import BEFORE, World, load, world  # noqa: F401  (pytest fixture)

POSIX_CASES = """\
eval "$(awsv use base)" && echo "ok-use"
eval "$(awsv use nope)" && echo BAD-unknown
echo "status-unknown=$?"
eval "$(awsv use --duration)" && echo BAD-usage
echo "status-usage=$?"
eval "$(awsv use --prompt nosuchdriver base)" && echo BAD-driver
echo "status-driver=$?"
AWSV_FILE_PASSPHRASE= eval "$(AWSV_FILE_PASSPHRASE= awsv use --no-prompt base)" && echo BAD-input
echo "status-input=$?"
f() {
  eval "$(awsv use nope)" && echo BAD-in-function
  echo "in-function=$?"
}
f
echo "after-function=$?"
dump {tmp}/env.json
"""

FISH_CASES = """\
awsv use base | source; and echo ok-use
awsv use nope | source; and echo BAD-unknown
echo "status-unknown=$status"
awsv use --duration | source; and echo BAD-usage
echo "status-usage=$status"
function f
  awsv use nope | source; and echo BAD-in-function
  echo "in-function=$status"
end
f
echo "after-function=$status"
dump {tmp}/env.json
"""


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_failed_use_makes_eval_fail_and_changes_nothing(
    world: World,
    shell: str,
    tmp_path: Path,
) -> None:
    r = world.shell(shell, BEFORE + POSIX_CASES.replace("{tmp}", str(tmp_path)))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "BAD" not in r.stdout, r.stdout
    # The helper's status survives the eval (1 error, 3 needs input); a usage error or
    # an unknown --prompt driver, found before the shell is known, prints the plain
    # `false` every shell reads.
    assert lines == [
        "ok-use",
        "status-unknown=1",
        "status-usage=1",
        "status-driver=1",
        "status-input=3",
        "in-function=1",
        "after-function=0",
    ], r.stdout
    env = load(tmp_path / "env.json")
    assert env["AWSV_PROFILE"] == "base"  # the successful use, untouched by the failures
    assert env["AWS_ACCESS_KEY_ID"] != "AKIABEFOREBEFORE1234" and env["AWS_SESSION_TOKEN"] != "before-token"


def test_failed_use_makes_source_fail_in_fish(world: World, tmp_path: Path) -> None:
    r = world.shell("fish", FISH_CASES.replace("{tmp}", str(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert "BAD" not in r.stdout, r.stdout
    assert r.stdout.splitlines() == [
        "ok-use",
        "status-unknown=1",
        "status-usage=1",
        "in-function=1",
        "after-function=0",
    ], r.stdout
    assert load(tmp_path / "env.json")["AWSV_PROFILE"] == "base"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_failing_code_is_only_a_status(shell: str, tmp_path: Path) -> None:
    """`Shell.fail` at top level and in a function: a non-zero status, nothing ends."""
    from awsv.shells import get_shell

    code = get_shell(shell).fail(3)
    if shell == "fish":
        script = (
            "function f\n  printf '%s' \"$CODE\" | source\n  echo in-f=$status\nend\n"
            "f\necho top-f=$status\nprintf '%s' \"$CODE\" | source\necho top=$status\n"
        )
        argv = ["fish", "--no-config", "-c", script]
        expected = "in-f=1\ntop-f=0\ntop=1\n"
    else:
        script = 'f() { eval "$CODE"; echo in-f=$?; }\nf\necho top-f=$?\neval "$CODE"\necho top=$?\n'
        argv = [shell, "-f" if shell == "zsh" else "--norc", "-c", script]
        expected = "in-f=3\ntop-f=0\ntop=3\n"
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env={**os.environ, "CODE": code})
    assert (r.stdout, r.stderr) == (expected, "")

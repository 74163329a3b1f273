"""Prompts without a terminal: the passphrase and MFA code through native dialogs.

zenity, kdialog, osascript, notify-send and ykman cannot show anything here
(no desktop, no macOS, no YubiKey), so each is a stub program on PATH: a
small script that records the arguments it got (one file per run) and
answers from a file, or exits 1 as Cancel does. Everything else is real: the
CLI runs as a process with no controlling terminal (`start_new_session`),
with the real file vault and moto's server over HTTP, and in one test it is
the real AWS CLI that starts awsv as its credential_process.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from awsv import dialogs
from tests.conftest import TEST_PASSPHRASE, AwsvRunner
from tests.support.moto_server import ACCOUNT_ID, moto_url  # noqa: F401  (pytest fixture)
from tests.support.use_world import World, make_world

CONFIG = f"""\
[profile base]
region = eu-west-1

[profile mfa]
role_arn = arn:aws:iam::{ACCOUNT_ID}:role/Admin
source_profile = base
mfa_serial = arn:aws:iam::{ACCOUNT_ID}:mfa/alice
region = us-west-2

[profile viaawsv]
region = eu-west-1
credential_process = {{python}} -m awsv exec -j base
"""

STUB = """\
#!/bin/sh
# A stand-in dialog program: records its arguments, answers from a file.
n=$(ls "$STUB_DIR/log" | wc -l)
for a in "$0" "$@"; do printf '%s\\n' "$a"; done > "$STUB_DIR/log/$n"
if [ -f "$STUB_DIR/status" ]; then exit "$(cat "$STUB_DIR/status")"; fi
if [ -f "$STUB_DIR/answer.$(basename "$0")" ]; then cat "$STUB_DIR/answer.$(basename "$0")"; fi
exit 0
"""


class Stubs:
    """Stub programs in a directory put first on PATH, and what they recorded."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        (root / "log").mkdir()

    def add(self, *names: str) -> None:
        for name in names:
            path = self.bin / name
            path.write_text(STUB)
            path.chmod(0o755)

    def answer(self, name: str, text: str) -> None:
        (self.root / f"answer.{name}").write_text(text)

    def cancel(self) -> None:
        (self.root / "status").write_text("1\n")

    def runs(self) -> list[list[str]]:
        """The argv of every run, in order (argv[0] as a bare name)."""
        logs = sorted((self.root / "log").iterdir(), key=lambda p: int(p.name))
        out = []
        for log in logs:
            argv = log.read_text().splitlines()
            out.append([Path(argv[0]).name, *argv[1:]])
        return out

    def env(self, world: World, **extra: str) -> dict[str, str]:
        env = dict(world.env)
        env.pop("AWSV_FILE_PASSPHRASE", None)
        env.update(PATH=f"{self.bin}:{env['PATH']}", STUB_DIR=str(self.root), DISPLAY=":77")
        env.update(extra)
        return env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_url: str) -> World:
    return make_world(tmp_path_factory, moto_url, CONFIG)


@pytest.fixture
def stubs(tmp_path: Path) -> Stubs:
    return Stubs(tmp_path / "stubs")


def run(world: World, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with exactly `env` and no controlling terminal (AwsvRunner starts a new session)."""
    return AwsvRunner(env)(*args)


# -- through the real CLI, no terminal ---------------------------------------------


def test_credential_process_without_a_terminal_asks_the_passphrase_in_zenity(world: World, stubs: Stubs) -> None:
    """The real AWS CLI starts awsv as its credential_process, with no terminal:
    the passphrase comes from the (stub) zenity's hidden entry, never from argv."""
    stubs.add("zenity", "kdialog")
    stubs.answer("zenity", TEST_PASSPHRASE + "\n")
    r = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--profile", "viaawsv", "--query", "Arn", "--output", "text"],
        env=stubs.env(world),
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    # GetSessionToken's credentials (moto answers them as its static user).
    assert r.stdout.startswith(f"arn:aws:sts::{ACCOUNT_ID}:")
    runs = stubs.runs()
    assert len(runs) == 1 and runs[0][0] == "zenity"
    assert "--entry" in runs[0] and "--hide-text" in runs[0]
    assert "--text=awsv vault passphrase:" in runs[0]
    assert not any(TEST_PASSPHRASE in a for a in runs[0])


def test_mfa_code_in_a_dialog_and_kdialog_by_aws_vault_spelling(world: World, stubs: Stubs) -> None:
    stubs.add("zenity", "kdialog")
    stubs.answer("kdialog", "123456\n")
    env = stubs.env(world, AWSV_FILE_PASSPHRASE=TEST_PASSPHRASE, AWS_VAULT_PROMPT="kdialog")
    run(world, env, "clear", "mfa")
    r = run(world, env, "exec", "-j", "mfa")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["AccessKeyId"].startswith("ASIA")
    runs = stubs.runs()
    assert [run[0] for run in runs] == ["kdialog"]
    assert runs[0][1:3] == ["--title", "awsv"] and runs[0][3] == "--inputbox"
    # The code opens the MFA session of the source profile that holds the key.
    assert "profile base" in runs[0][4] and f"arn:aws:iam::{ACCOUNT_ID}:mfa/alice" in runs[0][4]


def test_cancel_in_the_dialog_changes_nothing(world: World, stubs: Stubs) -> None:
    stubs.add("zenity")
    stubs.cancel()
    r = run(world, stubs.env(world), "exec", "-j", "base")
    assert r.returncode == 130
    assert r.stdout == ""
    assert "cancelled in the zenity dialog" in r.stderr


def test_awsv_prompt_none_terminal_and_no_desktop_never_show_a_dialog(world: World, stubs: Stubs) -> None:
    stubs.add("zenity")
    stubs.answer("zenity", TEST_PASSPHRASE + "\n")
    r = run(world, stubs.env(world, AWSV_PROMPT="none"), "exec", "-j", "base")
    assert r.returncode == 3, r.stderr
    r = run(world, stubs.env(world, AWSV_PROMPT="terminal"), "exec", "-j", "base")
    assert r.returncode == 1 and "no terminal to ask on" in r.stderr
    no_desktop = stubs.env(world)
    del no_desktop["DISPLAY"]
    r = run(world, no_desktop, "exec", "-j", "base")
    assert r.returncode == 1 and "no terminal to ask on" in r.stderr
    assert "zenity or kdialog" in r.stderr  # the hint says what would make a dialog possible
    r = run(world, dict(no_desktop, AWSV_PROMPT="gui"), "exec", "-j", "base")
    assert r.returncode == 1 and "no desktop session" in r.stderr
    assert stubs.runs() == []


def test_ykman_prompt_notifies_for_the_touch(world: World, stubs: Stubs) -> None:
    stubs.add("zenity", "notify-send", "ykman")
    stubs.answer("ykman", "654321\n")
    env = stubs.env(world, AWSV_FILE_PASSPHRASE=TEST_PASSPHRASE, AWSV_PROMPT="ykman")
    run(world, env, "clear", "mfa")
    r = run(world, env, "exec", "-j", "mfa")
    assert r.returncode == 0, r.stderr
    assert "touch your YubiKey for an MFA code for profile base" in r.stderr
    runs = stubs.runs()
    assert runs[0][0] == "notify-send" and "Touch your YubiKey" in runs[0][2]
    assert runs[1] == ["ykman", "oath", "accounts", "code", "--single", f"arn:aws:iam::{ACCOUNT_ID}:mfa/alice"]


# -- the choice and the programs' argument shapes ------------------------------------


def which_of(*present: str):  # type: ignore[no-untyped-def]
    return lambda name, path=None: f"/usr/bin/{name}" if name in present else None


@pytest.mark.parametrize(
    ("env", "terminal", "present", "platform", "want"),
    [
        ({"DISPLAY": ":0"}, True, ("zenity",), "linux", "terminal"),
        ({"DISPLAY": ":0"}, False, ("zenity", "kdialog"), "linux", "zenity"),
        ({"WAYLAND_DISPLAY": "w"}, False, ("kdialog",), "linux", "kdialog"),
        ({}, False, ("zenity",), "linux", "terminal"),  # no desktop: the terminal's error
        ({}, False, ("osascript",), "darwin", "osascript"),
        ({"AWSV_PROMPT": "gui", "DISPLAY": ":0"}, True, ("zenity",), "linux", "zenity"),
        ({"AWS_VAULT_PROMPT": "osascript"}, True, ("osascript",), "darwin", "osascript"),
        ({"AWSV_PROMPT": "terminal", "DISPLAY": ":0"}, False, ("zenity",), "linux", "terminal"),
        ({"AWSV_PROMPT": "none"}, True, (), "linux", "none"),
        ({"AWSV_PROMPT": "terminal", "AWS_VAULT_PROMPT": "zenity"}, True, ("zenity",), "linux", "terminal"),
    ],
)
def test_choose_way(env: dict[str, str], terminal: bool, present: tuple[str, ...], platform: str, want: str) -> None:
    way = dialogs.choose_way(env, has_terminal=terminal, which=which_of(*present), platform=platform)
    assert (way.program if isinstance(way, dialogs.Dialog) else way) == want


def test_a_required_dialog_that_is_missing_is_one_clear_error() -> None:
    with pytest.raises(dialogs.DialogUnavailable) as err:
        dialogs.choose_way(
            {"AWSV_PROMPT": "kdialog", "DISPLAY": ":0"}, has_terminal=True, which=which_of("zenity"), platform="linux"
        )
    assert "kdialog was not found" in err.value.message and err.value.hint


def test_osascript_gets_the_text_as_an_argument_never_as_code(stubs: Stubs) -> None:
    """osascript cannot run here: a stub stands in, and the real runner runs it.
    A hostile profile name in the text stays an argument of the fixed script."""
    stubs.add("osascript")
    stubs.answer("osascript", "123456\n")
    env = {"PATH": f"{stubs.bin}:/usr/bin:/bin", "STUB_DIR": str(stubs.root)}
    way = dialogs.choose_way(env, has_terminal=False, platform="darwin")
    assert isinstance(way, dialogs.Dialog)
    hostile = 'x" & (do shell script "touch /tmp/pwned") & "'
    code = dialogs.ask_mfa_code(
        way, serial="arn:mfa", profile=hostile, env=env, is_code=lambda c: c.isdigit() and len(c) == 6
    )
    assert code == "123456"
    argv = stubs.runs()[0]
    script = " ".join(argv[1 : argv.index("end run") + 1])
    assert hostile not in script and "with hidden answer" not in script
    assert argv[-2] == f"MFA code for profile {hostile} (arn:mfa):" and argv[-1] == "awsv"


def test_a_dialog_that_prints_too_much_gives_no_answer(tmp_path: Path) -> None:
    flood = tmp_path / "zenity"
    flood.write_text("#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' a\n")
    flood.chmod(0o755)
    status, out = dialogs.run_bounded([str(flood)], {"PATH": "/usr/bin:/bin"}, 30)
    assert status != 0 and out == b""


def test_a_dialog_that_never_answers_is_stopped_with_its_children(tmp_path: Path) -> None:
    """A hung dialog (and a child it started) is killed at the deadline."""
    marker = tmp_path / "child.pid"
    hung = tmp_path / "zenity"
    hung.write_text(f"#!/bin/sh\nsleep 600 &\necho $! > {marker}\nwait\n")
    hung.chmod(0o755)
    with pytest.raises(subprocess.TimeoutExpired):
        dialogs.run_bounded([str(hung)], {"PATH": "/usr/bin:/bin"}, 1.0)
    child = int(marker.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        # A killed child lingers as a zombie until init reaps it: that counts as gone.
        if "Z" in Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]:
            break
        time.sleep(0.05)
    alive = (
        Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
    )
    assert not alive


def test_ykman_account_name_override(stubs: Stubs) -> None:
    stubs.add("ykman")
    stubs.answer("ykman", "111222\n")
    env = {"PATH": f"{stubs.bin}:/usr/bin:/bin", "STUB_DIR": str(stubs.root), "YKMAN_OATH_CREDENTIAL_NAME": "aws:work"}
    assert dialogs.ykman_code("arn:mfa", profile="p", env=env) == "111222"
    assert stubs.runs()[0][-1] == "aws:work"


def test_prompt_flag_chooses_the_dialog_program(world: World, stubs: Stubs) -> None:
    """aws-vault's `--prompt=kdialog` (awsv.prompt_driver) picks kdialog over zenity."""
    stubs.add("zenity", "kdialog")
    stubs.answer("kdialog", TEST_PASSPHRASE + "\n")
    r = run(world, stubs.env(world), "--prompt=kdialog", "exec", "-j", "base")
    assert r.returncode == 0, r.stderr
    assert [argv[:3] for argv in stubs.runs()] == [["kdialog", "--title", "awsv"]]
    assert stubs.runs()[0][3] == "--password"

"""Hostile configs and hostile helper commands: each is one clean error, in bounded time.

Helper commands (credential_process, mfa_process, the passphrase command) are
real programs: garbage, deep nesting, huge output, hangs, grandchildren that
hold stdout, output that never ends. Configs are real files read by the real
CLI: garbage bytes, FIFOs, device files, directories, oversized files,
include/source loops and chains past the depth limit.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from awsv.chain import MAX_CHAIN_DEPTH
from awsv.config import MAX_INCLUDE_DEPTH
from awsv.credential_process import CredentialProcessError, run_credential_process
from awsv.credentials import InvalidCredentials
from awsv.errors import AwsvError
from awsv.mfa import MfaUnavailable, run_mfa_process
from awsv.passphrase import run_passphrase_command
from awsv.user_command import MAX_OUTPUT
from tests.hardening.conftest import FULL, Tally, size
from tests.support.hostile_inputs import chained_config, helper_script, make_file_of_kind, run_limited

pytestmark = pytest.mark.slow

#: Helper bodies (Python) and the words their error must contain.
HELPERS: dict[str, tuple[str, str]] = {
    "garbage": ("import os, sys; sys.stdout.buffer.write(os.urandom(5000))", ""),
    "deep nesting": ("print('[' * 200000)", "nested too deeply"),
    "deep object nesting": ("print('{\"a\":' * 200000)", "nested too deeply"),
    "huge output": (f"import sys; sys.stdout.write('x' * {MAX_OUTPUT * 3})", "printed more than"),
    "endless output": ("import sys\nwhile True: sys.stdout.write('x' * 65536)", "printed more than"),
    # helpers that hang: the hang is the thing under test
    "hang": ("import time; time.sleep(600)", "did not finish within"),
    "hang, silent grandchild holds stdout": (
        "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])",
        "did not finish within",
    ),
    "exit 3": ("import sys; sys.exit(3)", "exit status 3"),
    "killed by a signal": ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "exit status -9"),
    "empty": ("pass", ""),
    "NUL bytes": ("import sys; sys.stdout.buffer.write(b'\\0' * 1000)", ""),
}

RUNNERS: dict[str, Callable[[str, dict[str, str]], object]] = {
    "credential_process": lambda cmd, env: run_credential_process("p", cmd, env, timeout=2),
    "mfa_process": lambda cmd, env: run_mfa_process(cmd, profile="p", env=env, timeout=2),
}
ERRORS = (CredentialProcessError, InvalidCredentials, MfaUnavailable)


@pytest.mark.hardening_row("hostile configs and helper commands")
@pytest.mark.parametrize("runner", RUNNERS)
def test_hostile_helper_commands(runner: str, tmp_path: Path, tally: Tally) -> None:
    for _ in range(size(1, 3)):
        for name, (body, words) in HELPERS.items():
            if runner == "mfa_process" and words == "nested too deeply":
                words = "did not print a 6-digit code"  # mfa_process output is not JSON
            script = helper_script(tmp_path, "helper", body + "\n")
            started = time.monotonic()
            try:
                RUNNERS[runner](str(script), dict(os.environ))
            except ERRORS as exc:
                ok = words in exc.message and "'p'" in exc.message and "\n" not in exc.message
                tally.attempt(ok and time.monotonic() - started < 30, f"{runner}, {name}: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - anything else is what this test looks for
                tally.attempt(False, f"{runner}, {name}: {type(exc).__name__}")
            else:
                tally.attempt(False, f"{runner}, {name}: accepted")


@pytest.mark.hardening_row("hostile configs and helper commands")
def test_hostile_passphrase_commands(tmp_path: Path, tally: Tally) -> None:
    bodies = {k: HELPERS[k] for k in ("huge output", "endless output", "exit 3", "empty")}
    for name, (body, _) in bodies.items():
        script = helper_script(tmp_path, "pw", body + "\n")
        try:
            run_passphrase_command(str(script), dict(os.environ))
        except AwsvError as exc:
            tally.attempt("\n" not in exc.message, f"{name}: {exc.message}")
        else:
            tally.attempt(False, f"{name}: accepted")


def _garbage_config(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randint(1, 5000))
    if kind == 1:
        return b"[profile a]\n" + bytes(rng.choice(b"[]=;#\n \t\\\"'%$") for _ in range(2000))
    if kind == 2:
        return b"[profile a]\nregion = " + "é".encode("latin-1") * 10 + b"\n"
    return b"\n".join(b"[profile p%d]\ninclude_profile = p%d" % (i, rng.randrange(50)) for i in range(50))


@pytest.mark.hardening_row("hostile configs and helper commands")
def test_hostile_config_files(home: Path, env: dict[str, str], tally: Tally) -> None:
    config = home / ".aws" / "config"
    rng = random.Random(99)
    cases: list[tuple[str, Callable[[], None]]] = []
    for kind in ("fifo", "dev-zero", "directory", "oversized"):
        cases.append((kind, lambda kind=kind: (_clear(config), make_file_of_kind(kind, config)) and None))
    cases.append(("/dev/null symlink", lambda: (_clear(config), config.symlink_to("/dev/null")) and None))
    cases.append(("symlink loop", lambda: (_clear(config), config.symlink_to(config)) and None))
    for i in range(size(2, 60)):
        cases.append((f"garbage {i}", lambda: (_clear(config), config.write_bytes(_garbage_config(rng))) and None))
    cases.append(
        (
            "include loop",
            lambda: (
                (
                    _clear(config),
                    config.write_text("[profile a]\ninclude_profile = b\n[profile b]\ninclude_profile = a\n"),
                )
                and None
            ),
        )
    )
    cases.append(
        (
            "include chain past the limit",
            lambda: (
                (
                    _clear(config),
                    config.write_text(
                        "".join(f"[profile i{n}]\ninclude_profile = i{n + 1}\n" for n in range(MAX_INCLUDE_DEPTH + 5))
                        + f"[profile i{MAX_INCLUDE_DEPTH + 5}]\n"
                    ),
                )
                and None
            ),
        )
    )
    cases.append(
        (
            "source loop",
            lambda: (
                (
                    _clear(config),
                    config.write_text(
                        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
                    ),
                )
                and None
            ),
        )
    )
    cases.append(
        (
            "source chain past the limit",
            lambda: (_clear(config), config.write_text(chained_config(MAX_CHAIN_DEPTH + size(10, 5000)))) and None,
        )
    )
    for name, make in cases:
        make()
        for args in (["list"], ["export", "a"]) if FULL else (["export", "a"],):
            r = run_limited(env, *args, timeout=60)
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            clean = (
                "Traceback" not in r.stderr
                and len(lines) <= 2
                and (r.returncode == 0 or lines[0].startswith("awsv: error:"))
            )
            tally.attempt(clean and r.returncode in (0, 1), f"{name}, {args[0]}: {r.stderr[-300:]}")


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    else:
        path.unlink(missing_ok=True)

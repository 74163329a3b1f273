"""The picker's first screen at 1,000 profiles, on a real pseudo-terminal.

    /work/main/.venv-test/bin/python bench/pick.py [-n RUNS] [--profiles N]

Starts `awsv pick` (the built-in picker; and fzf when installed) with its
stdout captured as the shell integration does, on a pty made by pexpect,
and times from the start of the process to the moment the first screen,
with the profile count, has been written to the terminal; then sends Esc.
The floor is `python -c pass` started the same way. Target (issue 14):
first screen under 150 ms. Prints a table and writes
bench/results/pick-latest.json.

awsv is byte-compiled first and `PYTHONDONTWRITEBYTECODE` is dropped from
the children's environment: an installed awsv (install.sh, pip) has its .pyc
files, and compiling 50 modules on every start would add ~80 ms that no user
pays.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGET_MS = 150.0


def config(count: int) -> str:
    return "[profile base]\nregion = eu-west-1\n" + "".join(
        f"\n[profile p{i:04d}]\nrole_arn = arn:aws:iam::123456789012:role/R{i}\n"
        f"source_profile = base\nregion = eu-west-{i % 3 + 1}\n"
        for i in range(count)
    )


def env_for(home: Path, picker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS", "XDG_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWSV_AGENT="off",
        PYTHONPATH=str(REPO / "helper"),
        TERM="xterm-256color",
        AWSV_PICKER=picker,
        XDG_STATE_HOME=str(home / "state"),
        XDG_DATA_HOME=str(home / "data"),
    )
    return env


def first_screen_ms(cmd: str, env: dict[str, str], expect: str) -> float:
    """Milliseconds from spawn until `expect` shows; then Esc and wait for the end."""
    started = time.perf_counter()
    child = pexpect.spawn("/bin/sh", ["-c", cmd], env=env, dimensions=(40, 120), timeout=30)
    # fzf asks where the cursor is (DSR) before it draws; answer as a terminal would.
    while child.expect([expect, "\x1b\\[6n"]) == 1:
        child.send("\x1b[1;1R")
    elapsed = (time.perf_counter() - started) * 1000
    child.send("\x1b")
    child.expect(pexpect.EOF)
    child.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="runs per measurement (default 15)")
    parser.add_argument("--profiles", type=int, default=1000)
    args = parser.parse_args()
    compileall.compile_dir(REPO / "helper" / "awsv", quiet=1)
    home = Path(tempfile.mkdtemp(prefix="awsv-bench-pick-"))
    try:
        (home / "config").write_text(config(args.profiles))
        total = args.profiles + 1
        py = sys.executable
        cases = {
            "python -c pass (floor)": (f"{py} -c 'print(\"READY\")'", "builtin", "READY"),
            "awsv pick, built-in": (f"{py} -m awsv pick --shell bash >/dev/null", "builtin", f"{total}/{total}"),
        }
        if shutil.which("fzf"):
            cases["awsv pick, fzf"] = (f"{py} -m awsv pick --shell bash >/dev/null", "fzf", f"{total}/{total}")
        results = {}
        for name, (cmd, picker, expect) in cases.items():
            env = env_for(home, picker)
            first_screen_ms(cmd, env, expect)  # warm the page cache and .pyc files
            runs = [first_screen_ms(cmd, env, expect) for _ in range(args.n)]
            results[name] = {
                "median_ms": round(statistics.median(runs), 1),
                "min_ms": round(min(runs), 1),
                "max_ms": round(max(runs), 1),
                "runs": args.n,
            }
            print(
                f"{name:<28} median {results[name]['median_ms']:7.1f} ms   "
                f"min {results[name]['min_ms']:7.1f}   max {results[name]['max_ms']:7.1f}"
            )
        builtin = results["awsv pick, built-in"]["median_ms"]
        ok = builtin < TARGET_MS
        print(
            f"target: first screen at {args.profiles} profiles < {TARGET_MS:g} ms: "
            f"{'met' if ok else 'MISSED'} ({builtin:.1f} ms)"
        )
        out = HERE / "results"
        out.mkdir(exist_ok=True)
        (out / "pick-latest.json").write_text(
            json.dumps({"profiles": args.profiles, "target_ms": TARGET_MS, "results": results}, indent=2) + "\n"
        )
        return 0 if ok else 1
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""`awsv doctor`: run the health checks and show them; non-zero exit on any fail."""

from __future__ import annotations

import argparse
import json

from awsv.context import Context
from awsv.doctor import FAIL, plural, run_checks

_MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "info": "INFO"}


def doctor(ctx: Context, args: argparse.Namespace) -> int:
    findings = run_checks(ctx.env)
    failed = any(f.status == FAIL for f in findings)
    if args.json:
        json.dump({"ok": not failed, "checks": [f.as_dict() for f in findings]}, ctx.stdout, indent=2)
        print(file=ctx.stdout)
    else:
        for f in findings:
            print(f"{_MARK[f.status]}  {f.check:<18} {f.message}", file=ctx.stdout)
            if f.fix and f.status != "pass":
                print(f"      {'':<18} fix: {f.fix}", file=ctx.stdout)
        counts = {s: sum(f.status == s for f in findings) for s in ("pass", "warn", "fail")}
        print(
            f"\n{counts['pass']} passed, {plural(counts['warn'], 'warning')}, {counts['fail']} failed", file=ctx.stdout
        )
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "doctor",
        help="check plaintext keys, permissions, backend, agent, config, clock",
        description="Run health checks; each is pass, warn or fail with a fix. Exits 1 if any check fails.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=doctor)

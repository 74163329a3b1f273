"""Many processes fetching one absent or expired session at once: one STS call per step.

Real processes race through `sessions.get_credentials` (tests/test_sessions.py's
racer) against moto behind the counting fault proxy, which delays each answer
so the losers really queue on the single-flight lock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.hardening.conftest import FULL, Tally, size
from tests.support import fault_proxy as _proxy
from tests.support import moto_server as _moto
from tests.support.fault_proxy import AwsvWorld
from tests.test_sessions import _RACER, _roles

moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world

pytestmark = pytest.mark.slow

#: scenario -> (profile, STS calls expected per round by action, extra environment)
SCENARIOS = {
    "absent session": ("base", {"GetSessionToken": 1}, {}),
    "absent role chain of 2": ("r2", {"AssumeRole": 2}, {}),
    "expired role chain of 2": ("r2", {"AssumeRole": 2}, {"expire": "1"}),
}
#: At CI size one scenario covers both the queueing and the chain; full size runs all.
CI_SCENARIOS = ("absent role chain of 2",)


def _race(world: AwsvWorld, profile: str, racers: int, env: dict[str, str]) -> list[dict[str, object]]:
    go = world.home / "go"
    go.unlink(missing_ok=True)
    procs = []
    for i in range(racers):
        ready = world.home / f"ready-{i}"
        ready.unlink(missing_ok=True)
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", _RACER, profile, str(ready), str(go)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                ),
            )
        )
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready, _ in procs):
        assert time.monotonic() < deadline, "racers did not start"
        assert all(p.poll() is None for _, p in procs), [p.stderr.read() for _, p in procs if p.poll()]
        time.sleep(0.01)
    go.touch()
    results = []
    for _, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-1000:]
        results.append(json.loads(out))
    return results


@pytest.mark.hardening_row("concurrent fetches of one absent or expired session (one STS call per step)")
@pytest.mark.parametrize("scenario", SCENARIOS if FULL else CI_SCENARIOS)
def test_one_sts_call_per_step(world: AwsvWorld, scenario: str, tally: Tally) -> None:
    profile, calls, extra = SCENARIOS[scenario]
    world.config(_roles(2))
    world.add_key("base")
    for action in calls:
        world.proxy.delay(action, 0.3)
    racers = size(3, 20)
    for _ in range(size(1, 2)):
        env = dict(world.env)
        if extra.get("expire"):
            _race(world, profile, 1, env)  # a cached chain first, then make all of it too short to use
            env["AWSV_MIN_TTL"] = "11h"
            env["AWSV_SESSION_TTL"] = "12h"
            env["AWSV_ASSUME_ROLE_TTL"] = "12h"
        before = {a: world.proxy.count(a) for a in calls}
        results = _race(world, profile, racers, env)
        made = {a: world.proxy.count(a) - before[a] for a in calls}
        fresh = sum(1 for r in results if not r["from_cache"])
        one_token = len({r["token"] for r in results}) == 1
        tally.attempt(
            made == calls and fresh == 1 and one_token,
            f"{scenario}: {made} STS calls for {racers} racers, {fresh} fetched, one token: {one_token}",
        )
        for r in results[1:]:
            tally.attempt(r["token"] == results[0]["token"], f"{scenario}: racers got different tokens")
        world.proxy.reset()
        for action in calls:
            world.proxy.delay(action, 0.3)
        # Next round starts from nothing again.
        subprocess.run(
            [sys.executable, "-m", "awsv", "clear"],
            env=world.env,
            check=True,
            capture_output=True,
            start_new_session=True,
        )

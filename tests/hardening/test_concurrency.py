"""Many processes refreshing one expired session at once: one STS call per step.

Each racer is a real `awsv export PROFILE --format json` process (the CLI's own
entry point, its imports warmed before a start barrier so the race starts at
the command). Every cached step of the profile is left in the vault with one
minute to live — inside AWSV_MIN_TTL, so each racer must refresh — and then
all racers go at once, with and without the agent (started by the real CLI,
`awsv unlock`, and serving every vault read and write of the racers).

STS is moto behind the counting fault proxy, which delays each answer so the
losers really queue on the single-flight lock. What must hold: every racer
prints the same credentials, the race makes exactly the STS calls one process
makes (one per step), an mfa_process or credential_process runs once, and
with the agent the passphrase is asked once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import TEST_PASSPHRASE, AwsvRunner
from tests.hardening.conftest import FULL, Tally, size
from tests.support import fault_proxy as _proxy
from tests.support import moto_server as _moto
from tests.support.agent_world import COUNTER, cleanup_agents
from tests.support.fault_proxy import AwsvWorld

moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world

pytestmark = pytest.mark.slow

MFA = "arn:aws:iam::123456789012:mfa/racer"
CP_OUTPUT = (
    '{"Version": 1, "AccessKeyId": "AKIACPSOURCE00000001", '
    '"SecretAccessKey": "cp-source-secret-never-shown", "Expiration": "2099-01-01T00:00:00Z"}'
)

#: scenario -> (profile, its STS calls by action, counted helper command or None)
SCENARIOS: dict[str, tuple[str, dict[str, int], str | None]] = {
    "plain session": ("base", {"GetSessionToken": 1}, None),
    "MFA session from mfa_process": ("mfa-base", {"GetSessionToken": 1}, "mfa"),
    "role on an MFA session": ("mfa-role", {"GetSessionToken": 1, "AssumeRole": 1}, "mfa"),
    "two-hop role chain": ("r2", {"AssumeRole": 2}, None),
    "role on a credential_process source": ("cp-role", {"AssumeRole": 1}, "cp"),
}
MODES = ("without the agent", "with the agent")
#: CI runs one case per mode, between them an MFA session, a role and a chain; full size runs all.
CI_CASES = [("role on an MFA session", "without the agent"), ("two-hop role chain", "with the agent")]
CASES = [(s, m) for s in SCENARIOS for m in MODES] if FULL else CI_CASES

#: One racer: imports warmed, then the real CLI entry point once the barrier opens.
RACER = """
import os, sys, time
ready, go = sys.argv[1], sys.argv[2]
sys.argv = ["awsv", *sys.argv[3:]]
import awsv.entry, awsv.cli, awsv.fastpath, awsv.sessions, botocore.session
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
raise SystemExit(awsv.entry.main())
"""


def _config(world: AwsvWorld) -> None:
    mfa = world.script("mfa", f"echo run >> '{world.home / 'mfa.count'}'\necho 123456\n")
    cp = world.script("cp", f"echo run >> '{world.home / 'cp.count'}'\ncat <<'EOF'\n{CP_OUTPUT}\nEOF\n")
    world.config(f"""
        [profile base]
        region = eu-west-1
        [profile r1]
        role_arn = arn:aws:iam::111111111111:role/role1
        source_profile = base
        [profile r2]
        role_arn = arn:aws:iam::222222222222:role/role2
        source_profile = r1
        [profile mfa-base]
        mfa_serial = {MFA}
        mfa_process = {mfa}
        [profile mfa-role]
        role_arn = arn:aws:iam::333333333333:role/mfa-role
        source_profile = mfa-base
        [profile cp]
        credential_process = {cp}
        [profile cp-role]
        role_arn = arn:aws:iam::444444444444:role/cp-role
        source_profile = cp
    """)
    world.add_key("base")
    world.add_key("mfa-base")


def _runs(world: AwsvWorld, helper: str | None) -> int:
    count = world.home / f"{helper}.count"
    return len(count.read_text().splitlines()) if helper and count.exists() else 0


def _export(env: dict[str, str], profile: str) -> dict[str, object]:
    r = AwsvRunner(env)("export", profile, "--format", "json", timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _expire_every_step(world: AwsvWorld) -> int:
    """Leave every cached session with one minute to live (inside AWSV_MIN_TTL); returns how many."""
    world.new_process()
    vault = world.ctx.vault
    soon = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0).isoformat()
    items = world.session_items()
    for name, item in items.items():
        vault.set(name, {**item, "expiration": soon})
    world.new_process()
    return len(items)


def _race(world: AwsvWorld, env: dict[str, str], profile: str, racers: int) -> list[subprocess.CompletedProcess[str]]:
    go = world.home / "go"
    go.unlink(missing_ok=True)
    procs = []
    for i in range(racers):
        ready = world.home / f"ready-{i}"
        ready.unlink(missing_ok=True)
        argv = [sys.executable, "-c", RACER, str(ready), str(go), "export", profile, "--format", "json"]
        procs.append(
            (
                ready,
                argv,
                subprocess.Popen(
                    argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
                ),
            )
        )
    deadline = time.monotonic() + 180
    while not all(ready.exists() for ready, _, _ in procs):
        assert time.monotonic() < deadline, "racers did not start"
        assert all(p.poll() is None for _, _, p in procs), [p.communicate() for _, _, p in procs if p.poll()]
        time.sleep(0.01)
    go.touch()
    results = []
    for _, argv, proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(argv, proc.returncode, out, err))
    return results


@pytest.mark.hardening_row(
    "20 concurrent fetches of one expired session, 5 scenarios, with and without the agent (one STS call per step)"
)
@pytest.mark.parametrize("scenario, mode", CASES)
def test_one_sts_call_per_step(world: AwsvWorld, scenario: str, mode: str, tally: Tally) -> None:
    profile, calls, helper = SCENARIOS[scenario]
    _config(world)
    env = dict(world.env)
    _export(env, profile)  # every step cached once…
    steps = _expire_every_step(world)  # …then all of them too close to expiry to use
    assert steps == sum(calls.values()), f"{steps} cached steps for {calls}"
    runner = AwsvRunner(env)
    if mode == "with the agent":
        mark = uuid.uuid4().hex
        script = world.home.parent / "passphrase-command"
        script.write_text(COUNTER.format(count=world.home.parent / "asked", passphrase=TEST_PASSPHRASE))
        script.chmod(0o700)
        del env["AWSV_FILE_PASSPHRASE"]
        env.update(AWSV_AGENT="auto", AWSV_PASSPHRASE_COMMAND=str(script), AWSV_TEST_MARK=mark)
        runner = AwsvRunner(env)
        r = runner("unlock")  # the real CLI starts the agent
        assert r.returncode == 0, r.stderr
    try:
        world.proxy.reset()
        for action in calls:
            world.proxy.delay(action, 0.3)  # keep the winner busy while the others queue
        helper_runs = _runs(world, helper)
        racers = size(4, 20)
        results = _race(world, env, profile, racers)
        made = {a: world.proxy.count(a) for a in calls}
        ran = _runs(world, helper) - helper_runs
        asked = len((world.home.parent / "asked").read_text().splitlines()) if mode == "with the agent" else 1
    finally:
        if mode == "with the agent":
            cleanup_agents(runner, env["AWSV_TEST_MARK"])
    tokens = [json.loads(r.stdout)["SessionToken"] if r.returncode == 0 else None for r in results]
    common = max(set(tokens), key=tokens.count)
    round_ok = made == calls and (helper is None or ran == 1) and asked == 1
    for r, token in zip(results, tokens, strict=True):
        tally.attempt(
            round_ok and r.returncode == 0 and token == common,
            f"{scenario} {mode}: STS calls {made} (one per step: {calls}), {helper} ran {ran}, "
            f"passphrase asked {asked}, exit {r.returncode}, {r.stderr.strip()[-300:]}",
        )

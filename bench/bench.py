"""awsv's benchmark: the speed budgets (README, "Performance"), measured side by side in one run.

Run it through `bench/run` (which builds the virtual environment). It sets up
a temporary HOME with a file vault, a role profile (`admin`, assuming a role
with the key of `base`), a credential_process profile calling awsv, a cached
session and an unlocked agent, starts moto's server as the AWS endpoint, and
then runs every measured command N times, interleaved round-robin so that
machine noise hits all of them alike. It reports medians, ratios to the
`python -c pass` floor and to awsume, peak memory, and checks the targets:

* `awsv use P` and credential_process: median <= 3x the floor;
* both at least 6x faster than `awsumepy P -s` on the same role profile;
* `awsv list` on a config of 1,000 profiles: under 150 ms;
* peak RSS of `awsv use`: under 30 MiB;

and the costs that must not grow with the work (issue 13), each beside its
small case so the growth per item can be quoted:

* `awsv use P` with 10,000 profiles in the config: <= 3x the floor;
* `awsv use P` without `--shell` (the README's eval form), the refresh
  hook's spelling (`use --no-prompt --quiet --shell zsh --region R -- P`)
  and `export --format json`: the same cost as `use --shell`;
* `awsv list` with 1,000 cached sessions and `awsv clear` of 1,000
  sessions: under 200 ms each (a vault of its own, with its own agent);
* `awsv lock`: under 100 ms (a fresh agent before each run);
* `awsv list` on 10,000 profiles: under 300 ms.

awsume is measured as `awsumepy admin -s` (its Python program, without the
bash wrapper that would add a shell), with the source key in
~/.aws/credentials, which is what awsume reads; awsv never reads that file.
Everything talks to moto over HTTP on 127.0.0.1.

This is not a test: it never runs under pytest, and timing assertions live
nowhere else.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
RESULTS = HERE / "results" / "latest.json"
PASSPHRASE = "bench passphrase, not a secret"
ROLE_ARN = "arn:aws:iam::123456789012:role/Admin"

TARGET_FLOOR_RATIO = 3.0
TARGET_AWSUME_RATIO = 6.0
TARGET_LIST_MS = 150.0
TARGET_RSS_MIB = 30.0
TARGET_SESSIONS_MS = 200.0
TARGET_LOCK_MS = 100.0
TARGET_LIST_BIG_MS = 300.0
#: Sizes of the scale cases.
BIG_PROFILES = 10_000
SESSIONS = 1_000


@dataclass
class Measure:
    name: str
    argv: list[str]
    env: dict[str, str]
    runs: int
    samples: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    def summary(self) -> dict[str, object]:
        ordered = sorted(self.samples)
        return {
            "command": " ".join(self.argv),
            "runs": len(ordered),
            "median_ms": round(self.median_ms, 2),
            "p10_ms": round(ordered[len(ordered) // 10] * 1000, 2),
            "p90_ms": round(ordered[(len(ordered) * 9) // 10] * 1000, 2),
            "min_ms": round(ordered[0] * 1000, 2),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(home: Path) -> dict[str, str]:
    """The environment every measured command gets: nothing of the caller's AWS or awsv setup."""
    drop = ("AWS_", "AWSV_", "PYTHON", "XDG_", "DBUS_SESSION", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        HOME=str(home),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_RUNTIME_DIR=str(home / "run"),
        AWS_CONFIG_FILE=str(home / ".aws/config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws/credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        LC_ALL="C.UTF-8",
    )
    return env


def start_moto(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("bench: moto_server did not start") from None
            time.sleep(0.05)


def create_key(url: str) -> tuple[str, str]:
    import boto3

    iam = boto3.session.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    ).client("iam", endpoint_url=url)
    iam.create_user(UserName="bench")
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def run(argv: list[str], env: dict[str, str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(argv, env=env, input=stdin or "", capture_output=True, text=True, timeout=120, check=False)
    if r.returncode != 0:
        raise SystemExit(f"bench: setup step failed: {' '.join(argv)}\n{r.stderr[-2000:]}")
    return r


def many_profiles(count: int) -> str:
    """A config of `count` profiles: plain, role and credential_process ones, like a big org's."""
    parts = ["[profile base]\nregion = eu-west-1\n"]
    for i in range(count - 1):
        kind = i % 4
        if kind == 0:
            parts.append(f"[profile acct{i:04d}]\nregion = us-east-1\n")
        elif kind in (1, 2):
            parts.append(
                f"[profile role{i:04d}]\nrole_arn = arn:aws:iam::{100000000000 + i}:role/Dev\n"
                f"source_profile = base\nregion = eu-central-1\n"
            )
        else:
            parts.append(f"[profile proc{i:04d}]\ncredential_process = /bin/echo {i}\n")
    return "\n".join(parts)


ADMIN = f"[profile admin]\nrole_arn = {ROLE_ARN}\nsource_profile = base\nregion = us-east-2\n"


def fake_sessions(count: int) -> dict[str, dict[str, object]]:
    """`count` cached role sessions, shaped as awsv stores them (fake keys, valid for an hour)."""
    expires = datetime.fromtimestamp(time.time() + 3600, UTC).isoformat()
    items: dict[str, dict[str, object]] = {}
    for i in range(count):
        items[f"session/bench{i:05d}"] = {
            "type": "session",
            "access_key_id": f"ASIABENCH{i:011d}",
            "secret_access_key": "bench-secret-" + "x" * 27,
            "session_token": "bench-token-" + "y" * 300,
            "expiration": expires,
            "account_id": f"{100000000000 + i}",
            "arn": f"arn:aws:sts::{100000000000 + i}:assumed-role/Dev/bench",
            "cache": {
                "profile": f"role{i:04d}",
                "kind": "role",
                "source_profile": "base",
                "role_arn": f"arn:aws:iam::{100000000000 + i}:role/Dev",
                "created": expires,
            },
        }
    return items


def write_sessions_vault(env: dict[str, str], sizes: tuple[int, ...]) -> dict[int, bytes]:
    """A file vault (in env's data dir) grown to each of `sizes` sessions; its bytes at each size.

    Written once with awsv's own vault module (one `set` per item: slow, but
    only at setup); each `clear` run starts from a copy of these bytes.
    """
    from awsv.vault.file import FileVault

    vault = FileVault.at_default_location(env=env, passphrase_provider=lambda creating: PASSPHRASE)
    snapshots: dict[int, bytes] = {}
    items = list(fake_sessions(max(sizes)).items())
    for done, (name, item) in enumerate(items, start=1):
        vault.set(name, item)
        if done in sizes:
            snapshots[done] = vault.path.read_bytes()
    return snapshots


def restore_file(path: Path, data: bytes) -> None:
    """Put `data` back at `path` atomically, mode 0600 (the agent may be reading it).

    Synced to disk here, so the measured command's own fsync does not also
    pay for flushing the bench's write.
    """
    tmp = path.with_name(path.name + ".bench-restore")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    r = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, check=False
    )
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed: {r.stderr.decode()[-2000:]}")
    return elapsed


def growth_us(big: float, small: float, items: int) -> float:
    """Microseconds added per item between the small and the big case (medians in ms)."""
    return round((big - small) * 1000 / items, 2)


#: Runs a program in-process, then reports VmHWM: the peak resident memory of
#: this process image. (wait4's ru_maxrss would also count the pages of the
#: benchmark itself, shared by the child between fork and exec.)
_HWM = """
import os, runpy, sys
sys.argv = sys.argv[1:]
try:
    if sys.argv[0] != "-":
        runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
finally:
    with open("/proc/self/status") as fh:
        hwm = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    os.write(int(os.environ["BENCH_HWM_FD"]), hwm.encode())
"""


def peak_rss_kib(script: list[str], env: dict[str, str]) -> int:
    """Peak resident memory (KiB) of the Python program `script` (a path and its arguments; "-": nothing)."""
    read, write = os.pipe()
    try:
        subprocess.run(
            [str(BIN / "python"), "-c", _HWM, *script],
            env={**env, "BENCH_HWM_FD": str(write)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write,),
            timeout=60,
            check=False,
        )
        os.close(write)
        write = -1
        return int(os.read(read, 64).decode() or 0)
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def measure_all(measures: list[Measure]) -> None:
    """Round-robin: one run of each in turn, so noise spreads evenly."""
    rounds = max(m.runs for m in measures)
    for i in range(rounds):
        for m in measures:
            if i >= m.runs:
                continue
            start = time.perf_counter()
            subprocess.run(
                m.argv,
                env=m.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            m.samples.append(time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=30, help="runs per fast measurement (default 30)")
    parser.add_argument(
        "--slow-runs", type=int, default=10, help="runs per slow measurement: aws CLI, awsume, boto3 (default 10)"
    )
    parser.add_argument("--profiles", type=int, default=1000, help="profiles in the list config (default 1000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary HOME (path printed)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="awsv-bench-"))
    home = tmp / "home"
    (home / ".aws").mkdir(parents=True)
    (home / "run").mkdir(mode=0o700)
    env = clean_env(home)
    moto, url = start_moto(env)
    env["AWS_ENDPOINT_URL"] = url
    asked = tmp / "asked"
    pw = tmp / "passphrase-command"
    pw.write_text(f"#!/bin/sh\necho asked >> '{asked}'\nprintf '%s\\n' '{PASSPHRASE}'\n")
    pw.chmod(0o700)
    awsv_env = {**env, "AWSV_PASSPHRASE_COMMAND": str(pw)}
    awsv = str(BIN / "awsv")
    python = str(BIN / "python")
    agent_envs = [awsv_env]  # every agent the bench starts, locked on the way out
    try:
        key_id, secret = create_key(url)
        (home / ".aws/config").write_text(
            f"[profile base]\nregion = eu-west-1\n\n"
            f"[profile admin]\nrole_arn = {ROLE_ARN}\nsource_profile = base\nregion = us-east-2\n\n"
            f"[profile viaawsv]\ncredential_process = {awsv} export --format credential-process admin\n"
            f"region = us-east-2\n"
        )
        run([awsv, "add", "base"], awsv_env, stdin=f"{key_id}\n{secret}\n")  # asks once, starts the agent
        run([awsv, "use", "admin", "--shell", "bash"], awsv_env)  # AssumeRole once: the cached session
        status = json.loads(run([awsv, "unlock", "--status", "--json"], awsv_env).stdout)
        if not status.get("unlocked"):
            raise SystemExit("bench: the agent is not running after setup")
        creds = json.loads(run([awsv, "export", "--format", "env-json", "admin"], awsv_env).stdout)
        env_creds = {
            **env,
            **{
                k: v
                for k, v in creds.items()
                if k
                in (
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN",
                    "AWS_REGION",
                    "AWS_DEFAULT_REGION",
                )
            },
        }
        # awsume and boto3 read the source key from the plaintext credentials file (awsv does not).
        theirs = tmp / "credentials"
        theirs.write_text(f"[base]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
        their_env = {**env, "AWS_SHARED_CREDENTIALS_FILE": str(theirs)}
        run([str(BIN / "awsumepy"), "admin", "-s"], their_env)  # first run writes ~/.awsume
        big = tmp / "config-1000"
        big.write_text(many_profiles(args.profiles))
        big_env = {**awsv_env, "AWS_CONFIG_FILE": str(big)}
        run([awsv, "list"], big_env)
        # Scale (issue 13): 10,000 profiles around the same admin profile (the same cached session).
        huge = tmp / f"config-{BIG_PROFILES}"
        huge.write_text(many_profiles(BIG_PROFILES) + "\n" + ADMIN)
        huge_env = {**awsv_env, "AWS_CONFIG_FILE": str(huge)}
        huge_theirs = {**their_env, "AWS_CONFIG_FILE": str(huge)}
        run([awsv, "use", "admin", "--shell", "bash"], huge_env)
        run([str(BIN / "awsumepy"), "admin", "-s"], huge_theirs)
        # 1,000 cached sessions: a vault and an agent of their own (same config as the main HOME).
        sess_env = {
            **awsv_env,
            "XDG_DATA_HOME": str(tmp / "sessions-data"),
            "XDG_RUNTIME_DIR": str(tmp / "sessions-run"),
        }
        (tmp / "sessions-run").mkdir(mode=0o700)
        print(f"bench: writing a vault of {SESSIONS} sessions ...", file=sys.stderr)
        sess_vaults = write_sessions_vault(sess_env, (10, SESSIONS))
        sess_path = tmp / "sessions-data" / "awsv" / "vault.awsv"
        agent_envs.append(sess_env)
        run([awsv, "unlock"], sess_env)
        # `lock` needs an agent to stop each time: one on its own socket, serving the main vault.
        lock_env = {**awsv_env, "XDG_RUNTIME_DIR": str(tmp / "lock-run")}
        (tmp / "lock-run").mkdir(mode=0o700)
        agent_envs.append(lock_env)
        asked_before = asked.read_text().count("asked")

        n, slow = args.runs, args.slow_runs
        boto3_code = "import boto3; boto3.Session(profile_name='admin').get_credentials().get_frozen_credentials()"
        measures = {
            "floor": Measure("python -c pass", [python, "-c", "pass"], env, n),
            "use": Measure("awsv use (cached)", [awsv, "use", "admin", "--shell", "bash"], awsv_env, n),
            "credential_process": Measure(
                "awsv credential_process (cached)",
                [awsv, "export", "--format", "credential-process", "admin"],
                awsv_env,
                n,
            ),
            "exec": Measure("awsv exec -- true (cached)", [awsv, "exec", "admin", "--", "true"], awsv_env, n),
            "list_names": Measure(
                f"awsv list --names ({args.profiles} profiles)", [awsv, "list", "--names"], big_env, n
            ),
            "list": Measure(f"awsv list ({args.profiles} profiles)", [awsv, "list"], big_env, n),
            "use_detect": Measure("awsv use admin (no --shell: detected)", [awsv, "use", "admin"], awsv_env, n),
            "use_hook": Measure(
                "awsv use (the refresh hook's spelling)",
                [awsv, "use", "--no-prompt", "--quiet", "--shell", "zsh", "--region", "eu-west-1", "--", "admin"],
                awsv_env,
                n,
            ),
            "export_json": Measure(
                "awsv export --format json admin", [awsv, "export", "--format", "json", "admin"], awsv_env, n
            ),
            "use_big": Measure(
                f"awsv use ({BIG_PROFILES} profiles)", [awsv, "use", "admin", "--shell", "bash"], huge_env, n
            ),
            "list_small": Measure("awsv list (3 profiles, 2 sessions)", [awsv, "list"], awsv_env, n),
            "list_big": Measure(f"awsv list ({BIG_PROFILES} profiles)", [awsv, "list"], huge_env, n),
            "list_sessions": Measure(f"awsv list ({SESSIONS} cached sessions)", [awsv, "list"], sess_env, n),
            "aws_credential_process": Measure(
                "aws sts get-caller-identity via credential_process",
                [str(BIN / "aws"), "sts", "get-caller-identity", "--profile", "viaawsv"],
                awsv_env,
                slow,
            ),
            "aws_env": Measure(
                "aws sts get-caller-identity via env variables",
                [str(BIN / "aws"), "sts", "get-caller-identity"],
                env_creds,
                slow,
            ),
            "awsume": Measure("awsumepy admin -s", [str(BIN / "awsumepy"), "admin", "-s"], their_env, slow),
            "boto3": Measure("boto3 Session(admin).get_credentials()", [python, "-c", boto3_code], their_env, slow),
            "awsume_big": Measure(
                f"awsumepy admin -s ({BIG_PROFILES} profiles)",
                [str(BIN / "awsumepy"), "admin", "-s"],
                huge_theirs,
                slow,
            ),
        }
        print(f"bench: measuring ({n} runs, {slow} for the slow ones), interleaved ...", file=sys.stderr)
        measure_all(list(measures.values()))
        rss_use = max(peak_rss_kib([awsv, "use", "admin", "--shell", "bash"], awsv_env) for _ in range(5))
        rss_floor = max(peak_rss_kib(["-"], env) for _ in range(5))
        asked_during = asked.read_text().count("asked") - asked_before
        # Stateful cases, one at a time: each run starts from the same state.
        print("bench: measuring clear and lock ...", file=sys.stderr)
        for size, key in ((SESSIONS, "clear"), (10, "clear_small")):
            m = measures[key] = Measure(f"awsv clear ({size} sessions)", [awsv, "clear"], sess_env, n)
            for _ in range(n):
                restore_file(sess_path, sess_vaults[size])
                m.samples.append(timed(m.argv, sess_env))
        m = measures["lock"] = Measure("awsv lock (agent started before each run)", [awsv, "lock"], lock_env, n)
        for _ in range(n):
            run([awsv, "unlock"], lock_env)
            m.samples.append(timed(m.argv, lock_env))
    finally:
        for agent_env in agent_envs:
            subprocess.run([awsv, "lock"], env=agent_env, capture_output=True, timeout=30, check=False)
        moto.terminate()
        moto.wait(timeout=10)
        if args.keep:
            print(f"bench: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    med = {k: m.median_ms for k, m in measures.items()}
    floor = med["floor"]
    ratios = {f"{k}_vs_floor": round(v / floor, 2) for k, v in med.items() if k != "floor"}
    ratios["awsume_vs_use"] = round(med["awsume"] / med["use"], 2)
    ratios["awsume_vs_credential_process"] = round(med["awsume"] / med["credential_process"], 2)
    ratios["aws_credential_process_vs_aws_env"] = round(med["aws_credential_process"] / med["aws_env"], 2)
    ratios["awsume_big_vs_use_big"] = round(med["awsume_big"] / med["use_big"], 2)
    for k in ("use_detect", "use_hook", "export_json"):
        ratios[f"{k}_vs_use"] = round(med[k] / med["use"], 2)
    growth = {
        "use_us_per_profile": growth_us(med["use_big"], med["use"], BIG_PROFILES),
        "list_us_per_profile": growth_us(med["list_big"], med["list"], BIG_PROFILES - args.profiles),
        "list_us_per_session": growth_us(med["list_sessions"], med["list_small"], SESSIONS - 2),
        "clear_us_per_session": growth_us(med["clear"], med["clear_small"], SESSIONS - 10),
    }
    targets = {
        "use <= 3x floor": ratios["use_vs_floor"] <= TARGET_FLOOR_RATIO,
        "credential_process <= 3x floor": ratios["credential_process_vs_floor"] <= TARGET_FLOOR_RATIO,
        "use >= 6x faster than awsume": ratios["awsume_vs_use"] >= TARGET_AWSUME_RATIO,
        "credential_process >= 6x faster than awsume": ratios["awsume_vs_credential_process"] >= TARGET_AWSUME_RATIO,
        f"list ({args.profiles} profiles) < 150 ms": med["list"] < TARGET_LIST_MS,
        "peak RSS of use < 30 MiB": rss_use / 1024 < TARGET_RSS_MIB,
        f"use ({BIG_PROFILES} profiles) <= 3x floor": ratios["use_big_vs_floor"] <= TARGET_FLOOR_RATIO,
        "use without --shell costs what use --shell does (<= 1.2x)": ratios["use_detect_vs_use"] <= 1.2,
        "the refresh hook's use costs what use --shell does (<= 1.2x)": ratios["use_hook_vs_use"] <= 1.2,
        "export --format json costs what use --shell does (<= 1.2x)": ratios["export_json_vs_use"] <= 1.2,
        f"list ({SESSIONS} sessions) < 200 ms": med["list_sessions"] < TARGET_SESSIONS_MS,
        f"clear ({SESSIONS} sessions) < 200 ms": med["clear"] < TARGET_SESSIONS_MS,
        "lock < 100 ms": med["lock"] < TARGET_LOCK_MS,
        f"list ({BIG_PROFILES} profiles) < 300 ms": med["list_big"] < TARGET_LIST_BIG_MS,
    }
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg": os.getloadavg(),
        },
        "medians_ms": {k: round(v, 2) for k, v in med.items()},
        "measures": {k: m.summary() for k, m in measures.items()},
        "ratios": ratios,
        "growth_us_per_item": growth,
        "peak_rss_mib": {"use": round(rss_use / 1024, 1), "floor": round(rss_floor / 1024, 1)},
        "passphrase_asked_during_measurement": asked_during,
        "targets": targets,
        "all_targets_met": all(targets.values()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    width = max(len(m.name) for m in measures.values())
    print(f"{'measurement':<{width}}  {'median':>9}  {'x floor':>7}")
    for m in measures.values():
        print(f"{m.name:<{width}}  {m.median_ms:7.1f}ms  {m.median_ms / floor:7.2f}")
    print(
        f"\nawsume / awsv use: {ratios['awsume_vs_use']:.1f}x   "
        f"awsume / credential_process: {ratios['awsume_vs_credential_process']:.1f}x   "
        f"aws via credential_process / via env: {ratios['aws_credential_process_vs_aws_env']:.2f}x"
    )
    print(f"awsume / awsv use at {BIG_PROFILES} profiles: {ratios['awsume_big_vs_use_big']:.1f}x")
    print("growth per item: " + ", ".join(f"{k} {v:g}" for k, v in growth.items()))
    print(f"peak RSS: awsv use {rss_use / 1024:.1f} MiB (python -c pass {rss_floor / 1024:.1f} MiB)")
    print(f"passphrase asked during the measurement: {asked_during} time(s)")
    print("\ntargets:")
    for name, ok in targets.items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    return 0 if result["all_targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Endpoint benchmark: how long a client takes to get credentials from awsv's local endpoint.

    bench/run endpoint [-n RUNS]

Compares, side by side and interleaved (so machine noise hits both alike):

* `aws sts get-caller-identity` with the credentials in environment variables,
  against the same command finding them through `awsv serve`'s endpoint
  (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN);
  target: the endpoint within 1.2x of the variables;
* boto3 resolving its credentials (`Session().get_credentials()
  .get_frozen_credentials()`) both ways, which isolates the credential
  lookup from the STS call;
* one raw HTTP GET of the endpoint, in-process (the endpoint's own cost).

Setup: a temporary HOME with a file vault holding the key of a moto user as
`base`, the role profile `admin` on top, moto's server on 127.0.0.1 as STS,
and `awsv serve admin` running for the whole measurement. Never run as a test.
Writes bench/results/endpoint.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench import BIN, REPO, ROLE_ARN, Measure, clean_env, create_key, measure_all, run, start_moto

RESULTS = Path(__file__).resolve().parent / "results" / "endpoint.json"
TARGET_CLI_RATIO = 1.2
PASSPHRASE = "bench passphrase, not a secret"


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/run endpoint", description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=20, help="runs per measurement (default 20)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="awsv-bench-endpoint-"))
    home = tmp / "home"
    (home / ".aws").mkdir(parents=True)
    (home / "run").mkdir(mode=0o700)
    env = clean_env(home)
    moto, url = start_moto(env)
    env["AWS_ENDPOINT_URL"] = url
    awsv_env = {**env, "PYTHONPATH": str(REPO / "helper"), "AWSV_FILE_PASSPHRASE": PASSPHRASE, "AWSV_AGENT": "off"}
    awsv = [str(BIN / "python"), "-m", "awsv"]
    serve = None
    try:
        key_id, secret = create_key(url)
        (home / ".aws/config").write_text(
            f"[profile base]\nregion = eu-west-1\n\n"
            f"[profile admin]\nrole_arn = {ROLE_ARN}\nsource_profile = base\nregion = us-east-2\n"
        )
        run([*awsv, "add", "--env", "base"], {**awsv_env, "AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
        creds = json.loads(run([*awsv, "export", "--format", "json", "admin"], awsv_env).stdout)
        keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION")
        env_vars = {**env, **{k: v for k, v in creds.items() if k in keys}}
        serve = subprocess.Popen(
            [*awsv, "serve", "admin", "--format", "json"],
            env=awsv_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert serve.stdout is not None
        lines = []
        for line in serve.stdout:
            lines.append(line)
            if line.startswith("}"):
                break
        served = json.loads("".join(lines))
        env_endpoint = {**env, **served}
        uri, token = served["AWS_CONTAINER_CREDENTIALS_FULL_URI"], served["AWS_CONTAINER_AUTHORIZATION_TOKEN"]

        aws = [str(BIN / "aws"), "sts", "get-caller-identity"]
        boto3_code = "import boto3; boto3.Session().get_credentials().get_frozen_credentials()"
        python = str(BIN / "python")
        for check_env in (env_vars, env_endpoint):  # both ways work before anything is timed
            run(aws, check_env)
        n = args.runs
        measures = {
            "aws_env": Measure("aws sts get-caller-identity, variables", aws, env_vars, n),
            "aws_endpoint": Measure("aws sts get-caller-identity, endpoint", aws, env_endpoint, n),
            "boto3_env": Measure("boto3 get_credentials(), variables", [python, "-c", boto3_code], env_vars, n),
            "boto3_endpoint": Measure("boto3 get_credentials(), endpoint", [python, "-c", boto3_code], env_endpoint, n),
        }
        print(f"bench: measuring ({n} runs each), interleaved ...", file=sys.stderr)
        measure_all(list(measures.values()))
        gets = []
        request = urllib.request.Request(uri, headers={"Authorization": token})
        for _ in range(200):
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            gets.append(time.perf_counter() - start)
    finally:
        if serve is not None:
            serve.terminate()
            serve.wait(timeout=30)
        moto.terminate()
        moto.wait(timeout=10)

    med = {k: m.median_ms for k, m in measures.items()}
    ratios = {
        "aws_endpoint_vs_env": round(med["aws_endpoint"] / med["aws_env"], 3),
        "boto3_endpoint_vs_env": round(med["boto3_endpoint"] / med["boto3_env"], 3),
    }
    get_ms = statistics.median(gets) * 1000
    targets = {
        f"aws CLI via endpoint <= {TARGET_CLI_RATIO}x via variables": ratios["aws_endpoint_vs_env"] <= TARGET_CLI_RATIO
    }
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "medians_ms": {k: round(v, 2) for k, v in med.items()},
        "measures": {k: m.summary() for k, m in measures.items()},
        "endpoint_get_median_ms": round(get_ms, 3),
        "ratios": ratios,
        "targets": targets,
        "all_targets_met": all(targets.values()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(m.name) for m in measures.values())
    for m in measures.values():
        print(f"{m.name:<{width}}  {m.median_ms:7.1f}ms")
    print(
        f"\naws CLI endpoint / variables: {ratios['aws_endpoint_vs_env']:.3f}x   "
        f"boto3 endpoint / variables: {ratios['boto3_endpoint_vs_env']:.3f}x   "
        f"one GET of the endpoint: {get_ms:.2f} ms"
    )
    for name, ok in targets.items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    return 0 if result["all_targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())

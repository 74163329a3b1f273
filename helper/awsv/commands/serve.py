"""`awsv serve PROFILE`: a local credential endpoint in the foreground, until Ctrl-C.

For what cannot be started by `awsv exec --server`: an IDE, a container, a
service started elsewhere. It prints the variables to give those programs
(stdout: shell code for `--shell`, or `--format env|json`), then serves
credentials that renew themselves ahead of expiry (`awsv.delivery`) until
Ctrl-C or SIGTERM. The token exists only in this process and in what it
printed; the endpoint is gone when awsv exits.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from awsv.commands.use import add_session_arguments
from awsv.context import Context
from awsv.delivery.shell import describe_expiry, render
from awsv.environment import ENDPOINT_TOKEN_VAR, ENDPOINT_URI_VAR, REGION_VARS, set_values
from awsv.names import validate_profile_name


def run(ctx: Context, args: argparse.Namespace) -> int:
    from awsv.delivery.endpoint import LOOPBACK, parse_listen
    from awsv.delivery.served import listen_warnings, serve_profile
    from awsv.durations import parse_duration
    from awsv.sessions import SessionOptions

    profile = validate_profile_name(args.profile)
    host, port = parse_listen(args.listen) if args.listen else (LOOPBACK, 0)
    for line in listen_warnings(host):
        ctx.warn(line)
    opts = SessionOptions(
        duration=parse_duration(args.duration, "--duration") if args.duration else None,
        no_session=bool(args.no_session),
        region=args.region,
        mfa_token=args.mfa_token,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    served = serve_profile(ctx, profile, opts, host=host, port=port)
    # From here Ctrl-C is the documented way to stop, whenever it comes (also while the
    # variables are being printed): it ends the loop like SIGTERM, not as an interruption.
    previous_int = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        changes = served.changes()
        if args.format == "shell":
            ctx.stdout.write(render(ctx, args.shell, changes))
        else:
            names = (ENDPOINT_URI_VAR, ENDPOINT_TOKEN_VAR, *REGION_VARS)
            values = {k: v for k, v in set_values(changes).items() if k in names}
            if args.format == "json":
                ctx.stdout.write(json.dumps(values, indent=2) + "\n")
            else:
                ctx.stdout.write("".join(f"{k}={v}\n" for k, v in values.items()))
        ctx.stdout.flush()
        ctx.info(
            f"serving credentials for {profile!r} on {served.url} "
            f"(renewed ahead of expiry; now {describe_expiry(served.resolved)}); Ctrl-C stops it"
        )
        while not stop.wait(0.5):
            pass
    finally:
        served.stop()
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous)
    ctx.info("credential endpoint stopped")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run a local credential endpoint for a profile until Ctrl-C",
        description="Serve temporary credentials for PROFILE in the container-"
        "credentials format the AWS SDKs and CLI read, renewed ahead of expiry, on "
        "127.0.0.1 (default). Prints the variables to set "
        "(AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN), "
        "then runs until Ctrl-C.",
    )
    p.add_argument("profile")
    p.add_argument(
        "--listen",
        metavar="ADDR[:PORT]",
        help="address for the endpoint (default 127.0.0.1, a random port); anything but "
        "loopback is reachable by others",
    )
    p.add_argument(
        "--format",
        choices=("shell", "env", "json"),
        default="shell",
        help="how to print the variables: shell code (default), NAME=value lines, JSON",
    )
    p.add_argument("--shell", "-s", metavar="SHELL", help="with --format shell: bash, zsh or fish (default: detected)")
    add_session_arguments(p)
    p.set_defaults(func=run)

"""`awsv whoami [PROFILE]`: ask STS who the credentials belong to.

Without a profile it checks the credentials this shell actually holds
(AWS_ACCESS_KEY_ID & co, as set by `awsv use`), which is the question a user
has when a prompt badge and reality might disagree; with a profile it checks
that profile's credentials. botocore is imported only through `awsv.aws` (by
`awsv.sts`), and only when the call is made.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from awsv.commands.use import add_session_arguments
from awsv.context import Context
from awsv.credentials import Credentials, check_values
from awsv.delivery.resolve import resolve_credentials
from awsv.errors import AwsvError

_ENV_LABELS = {
    "AccessKeyId": "AWS_ACCESS_KEY_ID",
    "SecretAccessKey": "AWS_SECRET_ACCESS_KEY",
    "SessionToken": "AWS_SESSION_TOKEN",
}


def _environment_credentials(ctx: Context) -> Credentials:
    key_id = ctx.env.get("AWS_ACCESS_KEY_ID", "")
    secret = ctx.env.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id or not secret:
        raise AwsvError(
            "this environment has no AWS credentials (AWS_ACCESS_KEY_ID is not set)",
            hint='run `eval "$(awsv use PROFILE)"`, or ask about a profile: awsv whoami PROFILE',
        )
    expiration = None
    raw = ctx.env.get("AWS_CREDENTIAL_EXPIRATION")
    if raw:
        try:
            expiration = datetime.fromisoformat(raw)
        except ValueError:
            expiration = None
    creds = Credentials(key_id, secret, ctx.env.get("AWS_SESSION_TOKEN") or None, expiration)
    # Checked before signing anything: a stray newline would otherwise surface as a network error.
    check_values(creds, "the credentials in this environment", _ENV_LABELS)
    return creds


def whoami(ctx: Context, args: argparse.Namespace) -> int:
    from awsv import sts

    if args.profile:
        resolved = resolve_credentials(ctx, args.profile, args, action="using")
        creds, profile, region = resolved.credentials, args.profile, resolved.region
        target = resolved.chain.target
        signer = f"the credentials of profile {profile!r}"
    else:
        creds = _environment_credentials(ctx)
        profile = ctx.env.get("AWSV_PROFILE") or None
        region = args.region or ctx.env.get("AWS_REGION") or ctx.env.get("AWS_DEFAULT_REGION")
        target = None
        signer = "the credentials in this environment"
    factory = sts.make_factory(sts.ClientSettings.from_env(ctx.env, target))
    account, arn = sts.get_caller_identity(factory(creds, region), what="GetCallerIdentity", signer=signer)
    result = {"Account": account, "Arn": arn, "Profile": profile, "Expiration": creds.expiration_iso()}
    if args.json:
        ctx.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            ctx.stdout.write(f"{key + ':':<{width + 1}} {value if value is not None else '-'}\n")
    ctx.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "whoami",
        help="show the AWS identity of this shell's (or a profile's) credentials",
        description="Call STS GetCallerIdentity with the credentials in this "
        "environment, or with PROFILE's credentials when a profile is given.",
    )
    p.add_argument("profile", nargs="?", help="ask about this profile instead of the environment")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_session_arguments(p)
    p.set_defaults(func=whoami)

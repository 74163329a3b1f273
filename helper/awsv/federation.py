"""AWS console sign-in through the federation endpoint, as AWS documents it.

AWS's "custom identity broker" recipe (IAM User Guide, "Enable custom
identity broker access to the AWS console") has two requests:

1. `getSigninToken`: a GET to the partition's federation endpoint with
   `Action=getSigninToken`, `Session=` a JSON object
   `{"sessionId": …, "sessionKey": …, "sessionToken": …}` holding *temporary*
   credentials, and optionally `SessionDuration` (the console session length,
   900–43200 seconds). The answer is `{"SigninToken": "…"}`.
2. `login`: the URL the browser opens, on the same endpoint, with
   `Action=login`, `Issuer`, `Destination` (the console page) and the
   `SigninToken`. It is valid for 15 minutes and is a bearer secret: whoever
   opens it is signed in.

Which credentials may carry `SessionDuration` (the rules this module and
`awsv.commands.login` follow):

- Role credentials from AssumeRole signed by an IAM user's long-term key:
  yes, 900–43200 s, whatever the role's own duration.
- Role credentials obtained by role chaining (AssumeRole signed by temporary
  credentials: a GetSessionToken session, another role, a credential_process):
  no — AWS refuses the request. The console session then lasts as long as the
  credentials, which role chaining caps at one hour.
- GetFederationToken credentials: no — AWS refuses it. The console session
  lasts as long as the federation token (its DurationSeconds, 900–129600 s;
  AWS caps it at one hour for root).
- GetSessionToken credentials cannot sign in to the console at all, which is
  why a profile with only a long-term key goes through GetFederationToken.

Endpoints per partition: `https://signin.aws.amazon.com/federation` (aws),
`https://signin.amazonaws.cn/federation` (aws-cn),
`https://signin.amazonaws-us-gov.com/federation` (aws-us-gov). The partition
comes from the credentials' ARN when known, else from the region.
`AWSV_FEDERATION_URL` replaces the endpoint (a VPC endpoint for sign-in, a
proxy, a test stand-in) for both requests; it must be https, or http on the
loopback interface only, since the credentials travel in the request.

The HTTP requests use `urllib` from the standard library (no `requests`),
honour `HTTPS_PROXY`/`NO_PROXY` and `AWS_CA_BUNDLE` from awsv's environment,
and never follow redirects (a redirect would resend the credentials to
another host). Errors never contain the request URL, the credentials, the
token or the response body.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from awsv import sts
from awsv.credentials import Credentials, account_from_arn, check_values
from awsv.durations import MIN_DURATION
from awsv.errors import AwsvError, UsageError

FEDERATION_URL_VAR = "AWSV_FEDERATION_URL"
#: Shown by the console as the party that built the link.
ISSUER = "awsv"
#: Bounds AWS documents, in seconds (the shortest one, MIN_DURATION, is in awsv.durations).
MAX_SESSION_DURATION = 43200  # SessionDuration on getSigninToken
MAX_FEDERATION_DURATION = 129600  # GetFederationToken DurationSeconds
#: GetFederationToken's Name: 2-32 characters of these.
_NAME_CHARS = re.compile(r"[^\w+=,.@-]")
#: A session policy allowing everything: the federated session gets exactly the
#: user's own permissions (the intersection of this and the user's policies).
OWN_PERMISSIONS_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, separators=(",", ":")
)
_MAX_BODY = 64 * 1024
_TOKEN = re.compile(r"[A-Za-z0-9_\-.~+/=%]{16,8192}\Z")


class FederationError(AwsvError):
    """The federation endpoint could not be reached or gave no sign-in token."""


@dataclass(frozen=True)
class Partition:
    name: str
    #: The federation endpoint.
    signin: str
    console_host: str
    #: Whether `REGION.<console_host>` exists (only in the aws partition).
    regional_console: bool


PARTITIONS = {
    "aws": Partition("aws", "https://signin.aws.amazon.com/federation", "console.aws.amazon.com", True),
    "aws-cn": Partition("aws-cn", "https://signin.amazonaws.cn/federation", "console.amazonaws.cn", False),
    "aws-us-gov": Partition(
        "aws-us-gov", "https://signin.amazonaws-us-gov.com/federation", "console.amazonaws-us-gov.com", False
    ),
}
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}\Z")
_ISOLATED = re.compile(r"(?:us-iso[a-z]?|eu-isoe|eusc)-")


# -- partitions and URLs -----------------------------------------------------


def partition_of_region(region: str) -> str:
    """`cn-north-1` -> `aws-cn`, `us-gov-west-1` -> `aws-us-gov`, others -> `aws`.

    Raises UsageError for something that is not a region name, and for the
    isolated partitions, which have no public console sign-in.
    """
    if not _REGION.match(region):
        raise UsageError(f"{region!r} is not a valid AWS region name", hint="check --region and the profile's region")
    if _ISOLATED.match(region):
        raise UsageError(f"region {region} is in an isolated partition: awsv cannot build a console sign-in link there")
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def partition_of_arn(arn: str | None) -> str | None:
    """The partition field of an ARN (`arn:aws-cn:sts::…` -> `aws-cn`), or None."""
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[1] else None


def choose_partition(region: str | None, arn: str | None) -> Partition:
    """The partition to sign in to: the credentials' (from their ARN), else the region's.

    A region outside the credentials' partition is a UsageError: the link
    would send the browser to a console that does not know the credentials.
    """
    by_region = partition_of_region(region) if region else None
    by_arn = partition_of_arn(arn)
    if by_arn is not None and by_arn not in PARTITIONS:
        raise UsageError(
            f"the credentials are from partition {by_arn}, which has no public console sign-in awsv knows of"
        )
    if by_arn and by_region and by_arn != by_region:
        raise UsageError(
            f"region {region} is in partition {by_region} but the credentials belong to partition {by_arn}",
            hint="pick a region of that partition with --region",
        )
    return PARTITIONS[by_arn or by_region or "aws"]


def console_destination(partition: Partition, region: str | None, path: str | None = None) -> str:
    """The console page to land on: `path` (default `console/home`), with `region=` added.

    `path` is a console path such as `ec2/home#Instances:` or `s3/buckets`,
    never a host: a leading `//` cannot smuggle another host in.
    """
    raw = (path or "console/home").strip()
    if not raw or any(not ch.isprintable() or ch.isspace() for ch in raw):
        raise UsageError("--path must be a console path such as ec2/home or s3/buckets")
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", raw):
        raise UsageError("--path takes a console path (e.g. ec2/home), not a URL")
    parts = urllib.parse.urlsplit("/" + raw.lstrip("/"))
    query = parts.query
    if region and "region" not in dict(urllib.parse.parse_qsl(query, keep_blank_values=True)):
        query = f"{query}&region={region}" if query else f"region={region}"
    host = f"{region}.{partition.console_host}" if region and partition.regional_console else partition.console_host
    safe_path = urllib.parse.quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    return urllib.parse.urlunsplit(("https", host, safe_path, query, parts.fragment))


def federation_endpoint(partition: Partition, env: Mapping[str, str]) -> str:
    """The federation endpoint: `AWSV_FEDERATION_URL` when set (validated), else the partition's."""
    override = env.get(FEDERATION_URL_VAR)
    if not override:
        return partition.signin
    parts = urllib.parse.urlsplit(override)
    bad = UsageError(
        f"{FEDERATION_URL_VAR} must be an https:// URL without user, query or "
        "fragment (http:// only on the loopback interface)",
        hint="e.g. https://signin.aws.amazon.com/federation",
    )
    if parts.query or parts.fragment or parts.username or parts.password or not parts.hostname:
        raise bad
    if parts.scheme == "https":
        return override
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return override
    raise bad


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def login_url(endpoint: str, token: str, destination: str, issuer: str = ISSUER) -> str:
    """The `Action=login` URL a browser opens to land signed-in on `destination`."""
    query = urllib.parse.urlencode(
        {"Action": "login", "Issuer": issuer, "Destination": destination, "SigninToken": token}
    )
    return f"{endpoint}?{query}"


def shown(endpoint: str) -> str:
    """The endpoint as it may appear in a message: scheme, host and path only."""
    parts = urllib.parse.urlsplit(endpoint)
    host = parts.hostname or "?"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


# -- durations -----------------------------------------------------------------


def check_duration(duration: int, maximum: int, what: str) -> int:
    """`duration` if within [900, maximum]; else a UsageError saying AWS's bounds for `what`."""
    if not MIN_DURATION <= duration <= maximum:
        raise UsageError(
            f"--duration {duration}s is outside what AWS allows for {what} ({MIN_DURATION}s to {maximum}s)"
        )
    return duration


# -- getSigninToken ------------------------------------------------------------


def request_signin_token(
    endpoint: str,
    creds: Credentials,
    *,
    env: Mapping[str, str],
    session_duration: int | None = None,
    timeout: float = 15.0,
    origin: str = "the console credentials",
) -> str:
    """Exchange temporary credentials for a SigninToken at `endpoint`.

    `session_duration` becomes `SessionDuration` and must be None unless the
    credentials came from AssumeRole signed by a long-term key (see the module
    docstring). Raises FederationError with one line that names the endpoint
    (without any query) and never the credentials or the answer's body, and
    InvalidCredentials (naming the field and `origin`) before anything is sent
    when a value could not be a real credential.
    """
    if not creds.session_token:
        raise FederationError("console sign-in needs temporary credentials, and these have no session token")
    check_values(creds, origin)
    session = json.dumps(
        {"sessionId": creds.access_key_id, "sessionKey": creds.secret_access_key, "sessionToken": creds.session_token},
        separators=(",", ":"),
    )
    params = {"Action": "getSigninToken"}
    if session_duration is not None:
        params["SessionDuration"] = str(check_duration(session_duration, MAX_SESSION_DURATION, "a console session"))
    params["Session"] = session
    # The endpoint is the https sign-in URL or the one the user configured.
    request = urllib.request.Request(  # noqa: S310
        f"{endpoint}?{urllib.parse.urlencode(params)}",
        method="GET",
        headers={"Accept": "application/json"},
    )
    where = f"getSigninToken at {shown(endpoint)}"
    try:
        with _opener(env, request.host or "").open(request, timeout=timeout) as response:
            status = response.status
            body = response.read(_MAX_BODY + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FederationError(
            f"{where}: the endpoint answered HTTP {exc.code}", hint=_status_hint(exc.code, session_duration)
        ) from None
    except TimeoutError:
        raise FederationError(
            f"{where}: no answer within {timeout:g}s", hint="try again; AWSV_STS_READ_TIMEOUT sets the wait (seconds)"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise FederationError(
                f"{where}: no connection within {timeout:g}s",
                hint=f"check the network, HTTPS_PROXY and {FEDERATION_URL_VAR}",
            ) from None
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else type(reason).__name__
        raise FederationError(
            f"{where}: cannot connect ({text})", hint=f"check the network, HTTPS_PROXY and {FEDERATION_URL_VAR}"
        ) from None
    except (OSError, ValueError) as exc:
        raise FederationError(f"{where}: the request failed ({type(exc).__name__})") from None
    if status != 200:
        raise FederationError(
            f"{where}: the endpoint answered HTTP {status}", hint=_status_hint(status, session_duration)
        )
    return _token_from(body, where)


def _token_from(body: bytes, where: str) -> str:
    """The SigninToken in the endpoint's JSON answer; anything else is one FederationError."""
    failure = FederationError(
        f"{where}: the answer is not a JSON document with a SigninToken",
        hint=f"is {FEDERATION_URL_VAR} (or a proxy) pointing at the real federation endpoint?",
    )
    if len(body) > _MAX_BODY:
        raise failure
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise failure from None
    token = document.get("SigninToken") if isinstance(document, dict) else None
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise failure
    return token


def _status_hint(status: int, session_duration: int | None) -> str:
    if status == 400 and session_duration is not None:
        return (
            "AWS refused the credentials or the session length; --duration with role "
            "chaining or GetFederationToken credentials is not allowed"
        )
    if status == 400:
        return "AWS refused these credentials for console sign-in; `awsv clear` and try again"
    if status in (301, 302, 303, 307, 308):
        return f"redirects are not followed; check {FEDERATION_URL_VAR} and any proxy"
    return "try again later"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: it would resend the credentials in the query elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(env: Mapping[str, str], host: str) -> urllib.request.OpenerDirector:
    """An opener for `host` using awsv's environment (not os.environ): proxies, NO_PROXY, CA bundle."""
    proxies = {}
    for scheme in ("https", "http"):
        value = env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY")
        if value:
            proxies[scheme] = value
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # missing from typeshed
    if no_proxy and bypass(host, proxies={"no": no_proxy}):
        proxies = {}
    context = ssl.create_default_context(cafile=env.get("AWS_CA_BUNDLE") or None)
    return urllib.request.build_opener(
        _NoRedirect(), urllib.request.HTTPSHandler(context=context), urllib.request.ProxyHandler(proxies)
    )


# -- GetFederationToken ------------------------------------------------------


def federated_user_name(arn: str) -> str:
    """GetFederationToken's Name for the caller `arn`: the user name, cut to AWS's 32 characters.

    `arn:aws:iam::123456789012:user/dev/alice` -> `alice`; root -> `root`.
    """
    resource = arn.split(":", 5)[-1]
    name = resource.rsplit("/", 1)[-1] or "awsv"
    name = _NAME_CHARS.sub("-", name)[:32]
    return name if len(name) >= 2 else f"{name}-awsv"


def get_federation_token(client: Any, *, what: str, name: str, duration: int, signer: str) -> Credentials:
    """GetFederationToken with the user's own permissions (OWN_PERMISSIONS_POLICY).

    `client` is an STS client signed with a long-term key; errors are the
    `sts.StsError` family, one line each.
    """
    check_duration(duration, MAX_FEDERATION_DURATION, "GetFederationToken")
    with sts.sts_errors(client, what, signer):  # sts's one error mapping, shared on purpose
        response = client.get_federation_token(Name=name, DurationSeconds=duration, Policy=OWN_PERMISSIONS_POLICY)
        creds = sts.parse_credentials(response)  # the same parsing as every STS call
        arn = response.get("FederatedUser", {}).get("Arn")
        if not isinstance(arn, str):
            raise KeyError("FederatedUser")
    # Outside the mapping above: a bad value is the answer's fault, named as such, not a network error.
    check_values(creds, f"the credentials STS returned for {what}")
    return Credentials(
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token,
        creds.expiration,
        account_id=account_from_arn(arn),
        arn=arn,
    )

"""`awsv login`: console sign-in links built through the federation endpoint.

Real components: the CLI as a subprocess, the file vault, moto's server over
HTTP for STS (behind the recording fault proxy), credential_process scripts,
and a `$BROWSER` script that fetches what it is given with curl. The one
stand-in is the federation endpoint (tests/support/federation_server.py),
which cannot be reached from here: awsv is pointed at it with its documented
AWSV_FEDERATION_URL setting, and it checks each request as AWS documents it.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from awsv import federation as fedlib
from awsv.browser import _argv, browser_commands
from awsv.errors import UsageError
from tests.conftest import AwsvRunner
from tests.support import fault_proxy as _proxy
from tests.support import federation_server as _fed
from tests.support import moto_server as _moto
from tests.support.fault_proxy import AwsvWorld
from tests.support.federation_server import FederationServer
from tests.support.login_world import MFA, login_params, lw, one_token_request  # noqa: F401  (lw: a fixture)

# pytest fixtures used by this module
moto_url = _moto.moto_url
fault_proxy_server, fault_proxy, world = _proxy.fault_proxy_server, _proxy.fault_proxy, _proxy.world
federation_server, federation = _fed.federation_server, _fed.federation


def _url(proc: object) -> str:
    """The one line `awsv login --stdout` printed."""
    out = proc.stdout  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    lines = out.splitlines()
    assert len(lines) == 1 and out.endswith("\n"), out
    return lines[0]


def _no_secrets(text: str, federation: FederationServer, *more: str) -> None:
    for r in federation.token_requests():
        if r.session:
            assert r.session["sessionKey"] not in text
            assert r.session["sessionToken"] not in text
        if r.token:
            assert r.token not in text
    for secret in more:
        assert secret not in text
    assert "SigninToken=" not in text and "Session=" not in text and "Traceback" not in text


# -- role profiles -------------------------------------------------------------------


def test_role_profile_stdout_prints_only_the_link(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    proc = awsv("login", "admin", "--stdout")
    url = _url(proc)
    params = login_params(url, federation)
    request = one_token_request(federation)
    assert params["Action"] == "login"
    assert params["Issuer"] == "awsv"
    assert params["Destination"] == "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
    assert params["SigninToken"] == request.token
    # The role credentials went to getSigninToken as documented, without SessionDuration.
    assert request.one("SessionDuration") is None
    assert request.arn is not None and ":assumed-role/Admin/" in request.arn
    assert request.session is not None and request.session["sessionId"].startswith("ASIA")
    assert lw.proxy.count("AssumeRole") == 1 and lw.proxy.count("GetSessionToken") == 0
    # The message is on stderr and holds no part of the secret link.
    assert "sign-in link for 'admin'" in proc.stderr and "arn:aws:sts::111111111111" in proc.stderr
    _no_secrets(proc.stderr, federation)
    # The link really signs in (the stand-in accepts the token it issued).
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
    assert federation.logins()[-1].token == request.token


def test_duration_on_a_role_assumed_from_a_key_is_the_session_duration(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    """The source has MFA: without --duration the role comes from an MFA session (chained);
    with --duration it is assumed straight from the key, carrying the MFA code, so that
    getSigninToken accepts SessionDuration."""
    url = _url(awsv("login", "mfa-admin", "--stdout", "--mfa-token", "123456"))
    assert one_token_request(federation).one("SessionDuration") is None
    assert lw.proxy.count("GetSessionToken") == 1
    assert lw.proxy.params("GetSessionToken")[0]["SerialNumber"] == MFA
    assert login_params(url, federation)["Destination"].startswith("https://eu-west-1.")

    federation.reset()
    lw.proxy.reset()
    _url(awsv("login", "mfa-admin", "--stdout", "--duration", "8h", "--mfa-token", "654321"))
    request = one_token_request(federation)
    assert request.one("SessionDuration") == "28800"
    assert lw.proxy.count("GetSessionToken") == 0
    (assume,) = lw.proxy.params("AssumeRole")
    assert assume["SerialNumber"] == MFA and assume["TokenCode"] == "654321"


def test_chained_role_never_sends_session_duration(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    federation.chained_roles = {"Chained"}  # reached through the Admin role
    _url(awsv("login", "chained", "--stdout", "--duration", "30m"))
    assert one_token_request(federation).one("SessionDuration") is None
    # The console lasts as long as the credentials, so they were asked for 30 minutes.
    assert [p["DurationSeconds"] for p in lw.proxy.params("AssumeRole")] == ["3600", "1800"]

    federation.reset()
    proc = awsv("login", "chained", "--stdout", "--duration", "2h")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "role chaining" in proc.stderr and "1h" in proc.stderr
    assert federation.requests == []


@pytest.mark.parametrize("duration, message", [("10m", "900s to 43200s"), ("13h", "900s to 43200s")])
def test_duration_outside_aws_bounds_is_refused(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, duration: str, message: str
) -> None:
    proc = awsv("login", "admin", "--stdout", "--duration", duration)
    assert proc.returncode == 2 and message in proc.stderr
    assert federation.requests == [] and lw.proxy.count() == 0


# -- long-term keys and credential_process -----------------------------------------------


def test_plain_key_goes_through_get_federation_token(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    url = _url(awsv("login", "alice", "--stdout", "--duration", "20h"))
    (params,) = lw.proxy.params("GetFederationToken")
    assert params["Name"] == "alice"
    assert params["DurationSeconds"] == "72000"
    assert json.loads(params["Policy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    assert lw.proxy.count("GetSessionToken") == 0
    request = one_token_request(federation)
    # GetFederationToken credentials must not carry SessionDuration.
    assert request.one("SessionDuration") is None
    assert request.session is not None and request.session["sessionId"] == "AKIAIOSFODNN7EXAMPLE"
    assert login_params(url, federation)["SigninToken"] == request.token

    lw.proxy.reset()
    _url(awsv("login", "alice", "--stdout"))
    assert lw.proxy.params("GetFederationToken")[0]["DurationSeconds"] == "3600"


def test_plain_key_refuses_mfa_token_instead_of_ignoring_it(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    proc = awsv("login", "alice", "--stdout", "--mfa-token", "123456")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "GetFederationToken" in proc.stderr and "cannot carry MFA" in proc.stderr
    assert lw.proxy.count() == 0 and federation.requests == []
    # A plain key with an MFA device is warned about: the console session has no MFA.
    proc = awsv("login", "mfa-base", "--stdout")
    assert _url(proc).startswith(federation.url)
    assert "warning" in proc.stderr and "MFA" in proc.stderr


def test_credential_process_profiles(lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer) -> None:
    url = _url(awsv("login", "ext", "--stdout"))
    request = one_token_request(federation)
    assert request.session == {
        "sessionId": "ASIACPEXAMPLE0000001",
        "sessionKey": "cp-secret-never-shown",
        "sessionToken": "cp-token-never-shown",
    }
    assert request.one("SessionDuration") is None
    assert lw.proxy.count() == 0  # used as they are: no STS call
    assert "region=us-east-2" in login_params(url, federation)["Destination"]

    proc = awsv("login", "ext", "--stdout", "--duration", "1h")
    assert proc.returncode == 2 and "credential_process" in proc.stderr

    federation.reset()
    federation.chained_roles = {"FromCp"}  # assumed with the process's temporary credentials
    proc = awsv("login", "ext-role", "--stdout")
    _url(proc)
    request = one_token_request(federation)
    assert request.one("SessionDuration") is None and ":assumed-role/FromCp/" in (request.arn or "")
    _no_secrets(proc.stderr, federation, "cp-secret-never-shown", "cp-token-never-shown")


# -- partitions and destinations ------------------------------------------------------


def test_partition_endpoints_and_console_hosts() -> None:
    aws, cn, gov = (fedlib.PARTITIONS[p] for p in ("aws", "aws-cn", "aws-us-gov"))
    assert fedlib.choose_partition("eu-west-1", None) is aws
    assert fedlib.choose_partition(None, None) is aws
    assert fedlib.choose_partition("cn-northwest-1", None) is cn
    assert fedlib.choose_partition("us-gov-west-1", None) is gov
    assert fedlib.choose_partition(None, "arn:aws-cn:sts::1:assumed-role/r/s") is cn
    assert aws.signin == "https://signin.aws.amazon.com/federation"
    assert cn.signin == "https://signin.amazonaws.cn/federation"
    assert gov.signin == "https://signin.amazonaws-us-gov.com/federation"
    assert fedlib.federation_endpoint(cn, {}) == cn.signin
    assert (
        fedlib.console_destination(gov, "us-gov-east-1")
        == "https://console.amazonaws-us-gov.com/console/home?region=us-gov-east-1"
    )
    assert fedlib.console_destination(aws, None) == "https://console.aws.amazon.com/console/home"
    assert (
        fedlib.console_destination(aws, "sa-east-1", "//evil.example/x?a=1")
        == "https://sa-east-1.console.aws.amazon.com/evil.example/x?a=1&region=sa-east-1"
    )
    with pytest.raises(UsageError, match="partition aws but the credentials belong to partition aws-cn"):
        fedlib.choose_partition("us-east-1", "arn:aws-cn:sts::1:assumed-role/r/s")
    with pytest.raises(UsageError, match="isolated partition"):
        fedlib.choose_partition("us-iso-east-1", None)
    with pytest.raises(UsageError, match="not a valid AWS region"):
        fedlib.choose_partition("Mars", None)
    with pytest.raises(UsageError, match="not a URL"):
        fedlib.console_destination(aws, "us-east-1", "https://evil.example/")


def test_china_role_lands_on_the_china_console(lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer) -> None:
    url = _url(awsv("login", "china", "--stdout"))
    assert login_params(url, federation)["Destination"] == "https://console.amazonaws.cn/console/home?region=cn-north-1"
    assert (one_token_request(federation).arn or "").startswith("arn:aws-cn:sts::444444444444:")
    proc = awsv("login", "china", "--stdout", "--region", "eu-west-1")
    assert proc.returncode == 2 and "partition" in proc.stderr


def test_path_and_region_choose_the_page(lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer) -> None:
    url = _url(awsv("login", "admin", "--stdout", "--region", "us-west-2", "--path", "ec2/home#Instances:"))
    assert (
        login_params(url, federation)["Destination"]
        == "https://us-west-2.console.aws.amazon.com/ec2/home?region=us-west-2#Instances:"
    )


def test_federation_url_override_must_be_safe() -> None:
    aws = fedlib.PARTITIONS["aws"]
    for bad in (
        "http://signin.example.com/federation",
        "https://u:p@h/federation",
        "https://h/federation?x=1",
        "ftp://h/",
    ):
        with pytest.raises(UsageError, match="AWSV_FEDERATION_URL"):
            fedlib.federation_endpoint(aws, {"AWSV_FEDERATION_URL": bad})
    for good in (
        "https://vpce-1.signin.eu-west-1.vpce.amazonaws.com/federation",
        "http://127.0.0.1:8080/federation",
        "http://[::1]:81/federation",
        "http://localhost/federation",
    ):
        assert fedlib.federation_endpoint(aws, {"AWSV_FEDERATION_URL": good}) == good


def test_federated_user_name() -> None:
    assert fedlib.federated_user_name("arn:aws:iam::1:user/dev/team/alice") == "alice"
    assert fedlib.federated_user_name("arn:aws:iam::1:root") == "root"
    long = "a-very-long-user.name@example.com-with-more-than-32"
    assert fedlib.federated_user_name(f"arn:aws:iam::1:user/{long}") == long[:32]
    assert fedlib.federated_user_name("arn:aws:iam::1:user/x") == "x-awsv"


# -- errors from the federation endpoint ---------------------------------------------


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (500, b"<html>oops</html>", "answered HTTP 500"),
        (400, b"<html>Invalid credentials parameter</html>", "answered HTTP 400"),
        (200, b"{not json", "not a JSON document with a SigninToken"),
        (200, b'{"Token": "x"}', "not a JSON document with a SigninToken"),
    ],
)
def test_federation_errors_are_one_line_without_secrets(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, status: int, body: bytes, expected: str
) -> None:
    federation.fail_next(status, body, "application/json" if status == 200 else "text/html")
    proc = awsv("login", "admin", "--stdout")
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("awsv: error: getSigninToken at http://127.0.0.1:")
    assert expected in lines[0]
    assert all(line.startswith(("awsv: error:", "awsv: hint:")) for line in lines)
    assert len(lines) <= 2
    (request,) = federation.token_requests()
    assert request.session is not None  # the secret was sent; it must not come back out
    _no_secrets(proc.stderr, federation, request.session["sessionId"], body.decode())


def test_unreachable_federation_endpoint(lw: AwsvWorld, awsv: AwsvRunner) -> None:
    with _proxy.unanswered_endpoint() as url:
        proc = awsv(
            "login", "admin", "--stdout", env={"AWSV_FEDERATION_URL": f"{url}/federation", "AWSV_STS_READ_TIMEOUT": "1"}
        )
    assert proc.returncode == 1 and proc.stdout == ""
    assert "getSigninToken at http://127.0.0.1:" in proc.stderr
    assert "within 1s" in proc.stderr


# -- the browser ------------------------------------------------------------------------


def _fake_browser(world: AwsvWorld, name: str = "browser", extra: str = "") -> Path:
    """A $BROWSER that records its argv and environment, then fetches its argument twice."""
    out = world.home / "bin" / name  # where world.script puts it
    return world.script(
        name,
        f"""\
        printf '%s\\n' "$@" > '{out}.argv'
        env > '{out}.env'
        {extra}
        curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}\\n' "$1" > '{out}.fetch'
        curl -s -o /dev/null -w '%{{http_code}}\\n' "$1" >> '{out}.fetch'
        """,
    )


def test_browser_gets_a_one_shot_loopback_address_not_the_link(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer
) -> None:
    assert shutil.which("curl"), "curl is needed to play the browser"
    browser = _fake_browser(lw)
    proc = awsv("login", "admin", env={"BROWSER": str(browser)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "opened the console for 'admin'" in proc.stderr
    (arg,) = Path(f"{browser}.argv").read_text().splitlines()
    request = one_token_request(federation)
    assert request.token is not None
    # What the browser's argv (visible in ps) shows: a random loopback path, not the link.
    assert arg.startswith("http://127.0.0.1:") and len(urllib.parse.urlsplit(arg).path) > 40
    for leak in (request.token, federation.url, "SigninToken", "federation"):
        assert leak not in arg
    first, second = Path(f"{browser}.fetch").read_text().splitlines()
    status, location = first.split(" ", 1)
    assert status == "302"
    assert login_params(location, federation)["SigninToken"] == request.token
    assert second in ("404", "000")  # used once: then dead (or the server is already gone)
    names = {line.split("=", 1)[0] for line in Path(f"{browser}.env").read_text().splitlines()}
    assert "HOME" in names and "AWSV_FILE_PASSPHRASE" not in names
    _no_secrets(proc.stderr, federation)
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.status == 200


def test_browser_list_falls_through_failures(lw: AwsvWorld, awsv: AwsvRunner) -> None:
    broken = lw.script("broken", "exit 3\n")
    good = _fake_browser(lw)
    proc = awsv("login", "admin", env={"BROWSER": f"/nonexistent/browser:{broken}:{good} %s"})
    assert proc.returncode == 0, proc.stderr
    assert Path(f"{good}.fetch").read_text().startswith("302 ")

    proc = awsv("login", "admin", env={"BROWSER": f"/nonexistent/browser:{broken}"})
    assert proc.returncode == 1 and proc.stdout == ""
    assert "awsv: error: the browser command from $BROWSER exited with status 3" in proc.stderr
    assert "--stdout" in proc.stderr


def test_browser_that_never_fetches_times_out(lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer) -> None:
    idle = lw.script("idle", "exit 0\n")  # hands off to "a running browser" that never comes
    proc = awsv("login", "admin", env={"BROWSER": str(idle), "AWSV_LOGIN_TIMEOUT": "1"})
    assert proc.returncode == 1
    assert "no browser fetched the sign-in link within 1s" in proc.stderr
    _no_secrets(proc.stderr, federation)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root and runuser to fetch as another user"
)
def test_another_user_cannot_take_the_redirect(lw: AwsvWorld, awsv: AwsvRunner) -> None:
    """The loopback address is in the browser's argv, which other users can read; they must
    not be able to race the browser to it (the peer's uid is checked in /proc/net/tcp)."""
    browser = _fake_browser(
        lw,
        extra=(f"runuser -u nobody -- curl -s -o /dev/null -w '%{{http_code}}\\n' \"$1\" > '{lw.home}/browser.other'"),
    )
    proc = awsv("login", "admin", env={"BROWSER": str(browser)})
    assert proc.returncode == 0, proc.stderr
    assert Path(f"{lw.home}/browser.other").read_text().strip() == "403"
    assert Path(f"{browser}.fetch").read_text().startswith("302 ")


def test_browser_command_parsing() -> None:
    assert browser_commands({}) is None
    assert browser_commands({"BROWSER": "lynx:/usr/bin/w3m %s:www-browser"}) == []
    assert browser_commands({"BROWSER": "w3m:firefox"}) == [["firefox"]]
    assert browser_commands({"BROWSER": "firefox --new-tab:'/opt/my browser' %s"}) == [
        ["firefox", "--new-tab"],
        ["/opt/my browser", "%s"],
    ]
    assert _argv(["firefox", "--new-tab"], "http://x") == ["firefox", "--new-tab", "http://x"]
    assert _argv(["open", "-a", "X", "--args", "%s"], "http://x") == ["open", "-a", "X", "--args", "http://x"]


#: Terminal browsers as Debian installs them; Python's webbrowser falls back to these.
TEXT_BROWSER_STUBS = ("www-browser", "lynx", "links", "elinks", "w3m")


def _stub_path(world: AwsvWorld, names: tuple[str, ...]) -> tuple[str, Path]:
    """A PATH of recording stubs named `names` and curl only; returns (PATH, log).

    Nothing else is on it, so no graphical opener this machine happens to have
    (gio, xdg-open, firefox) is found by webbrowser: the stubs are the choice.
    """
    curl = shutil.which("curl")
    assert curl, "curl is needed to play the browser"
    stubs, tools = world.home / "stub-bin", world.home / "stub-tools"
    stubs.mkdir(exist_ok=True)
    tools.mkdir(exist_ok=True)
    if not (tools / "curl").exists():
        (tools / "curl").symlink_to(curl)
    log = world.home / "stub-browsers.log"
    for name in names:
        stub = stubs / name
        stub.write_text(f"#!/bin/sh\nprintf '%s %s\\n' '{name}' \"$*\" >> '{log}'\ncurl -s -o /dev/null \"$1\"\n")
        stub.chmod(0o755)
    return f"{stubs}:{tools}", log


@pytest.mark.parametrize(
    "browser_var",
    [None, "www-browser:lynx %s:/usr/bin/w3m"],
    ids=["webbrowser-fallback", "BROWSER-names-text-browsers"],
)
def test_login_never_starts_a_text_mode_browser(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, browser_var: str | None
) -> None:
    """No graphical session: say what to do (--stdout) instead of taking over the terminal."""
    path, log = _stub_path(lw, TEXT_BROWSER_STUBS)
    for display in (None, ":0"):  # even with a display, a console browser is never the choice
        env = {
            "PATH": path,
            "TERM": "xterm-256color",
            "DISPLAY": display,
            "WAYLAND_DISPLAY": None,
            "BROWSER": browser_var,
        }
        proc = awsv("login", "admin", env=env)  # type: ignore[arg-type]
        assert proc.returncode == 1 and proc.stdout == ""
        assert not log.exists(), f"a text browser was started: {log.read_text()}"
        assert "awsv: error: no graphical browser" in proc.stderr
        assert "never starts a text-mode browser" in proc.stderr
        assert "awsv login --stdout" in proc.stderr
        _no_secrets(proc.stderr, federation)


def test_login_with_a_display_uses_the_graphical_opener(lw: AwsvWorld, awsv: AwsvRunner) -> None:
    """The control: with a display, webbrowser's graphical opener (xdg-open) gets the address."""
    assert shutil.which("curl"), "curl is needed to play the browser"
    path, log = _stub_path(lw, (*TEXT_BROWSER_STUBS, "xdg-open"))
    proc = awsv("login", "admin", env={"PATH": path, "TERM": "xterm-256color", "DISPLAY": ":0", "BROWSER": None})  # type: ignore[dict-item]
    assert proc.returncode == 0, proc.stderr
    (line,) = log.read_text().splitlines()
    assert line.startswith("xdg-open http://127.0.0.1:")

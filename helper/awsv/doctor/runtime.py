"""Checks on what runs around awsv: the backend, the agent, the shell, PATH, endpoints, the clock.

Network checks are bounded by short timeouts and say "not checked" (warn)
when they cannot reach anything, instead of passing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from awsv.doctor.findings import FAIL, INFO, PASS, WARN, Finding
from awsv.errors import AwsvError

#: SigV4 rejects requests more than 5 minutes off; warn well before that.
SKEW_FAIL_SECONDS = 300
SKEW_WARN_SECONDS = 30
DEFAULT_STS_URL = "https://sts.amazonaws.com/"


def backend(env: Mapping[str, str]) -> Iterator[Finding]:
    """The chosen backend can work here."""
    from awsv.settings import choose_backend

    try:
        name = choose_backend(None, env)
    except AwsvError as exc:
        yield Finding("backend", FAIL, exc.message, exc.hint)
        return
    from awsv.vault import backend_module

    for status, message, fix in backend_module(name).doctor_checks(env):
        yield Finding("backend", status, message, fix)


def agent(env: Mapping[str, str]) -> Iterator[Finding]:
    """Whether a vault agent holds the key, until when, and whether its memory is locked."""
    from awsv.agent import client, protocol

    if protocol.agent_mode(env) == "off":
        yield Finding("agent", INFO, "the agent is disabled (AWSV_AGENT=off): every command asks for the passphrase")
        return
    try:
        status = client.status(env)
    except AwsvError as exc:
        yield Finding("agent", FAIL, exc.message, exc.hint)
        return
    if status is None:
        yield Finding(
            "agent",
            INFO,
            "no agent running: the vault is locked",
            "`awsv unlock` (or the next command that needs the vault) starts one",
        )
        return
    until = datetime.fromtimestamp(float(status.get("expires", 0)), UTC)
    yield Finding(
        "agent", PASS, f"agent pid {status.get('pid')} holds the {status.get('backend')} vault until {until:%H:%M} UTC"
    )
    if not status.get("memory_locked"):
        yield Finding(
            "agent",
            WARN,
            "the agent's memory is not locked against swap",
            "use encrypted swap, or raise `ulimit -l` (see the README)",
        )


def shell_integration(env: Mapping[str, str]) -> Iterator[Finding]:
    """Whether `awsv doctor` was run through the shell integration's `awsv` function.

    The function marks the helper's environment (AWSV_SHELL_INTEGRATION) for
    that one call; a bare `command awsv doctor`, or a shell without the
    plugin, lacks it.
    """
    loaded = env.get("AWSV_SHELL_INTEGRATION")
    if loaded in ("zsh", "bash", "fish"):
        yield Finding("shell", PASS, f"the {loaded} integration is loaded in this shell")
        return
    shell = os.path.basename(env.get("SHELL", "")) or "your shell"
    which = "zsh" if shell == "zsh" else "bash"
    if shell == "fish":
        yield Finding(
            "shell",
            WARN,
            "the shell integration is not loaded here: `awsv use` cannot change this shell "
            "and there is no prompt badge",
            "add `awsv shell-init fish | source` to ~/.config/fish/config.fish "
            "(./install.sh puts it in ~/.config/fish/conf.d/ for you)",
        )
        return
    yield Finding(
        "shell",
        WARN,
        "the shell integration is not loaded here: `awsv use` cannot change this shell and there is no prompt badge",
        f'add `eval "$(awsv shell-init {which})"` to ~/.{which}rc (or `awsv` to plugins=(…) with oh-my-zsh)',
    )


def on_path(env: Mapping[str, str]) -> Iterator[Finding]:
    """`awsv` resolves on PATH, so the shell plugin and credential_process lines find it."""
    found = shutil.which("awsv", path=env.get("PATH"))
    if found:
        yield Finding("path", PASS, f"awsv on PATH: {found}")
    else:
        yield Finding(
            "path",
            WARN,
            "awsv is not on PATH",
            'run ./install.sh, and add export PATH="$HOME/.local/bin:$PATH" to your shell rc',
        )


def clock(
    env: Mapping[str, str], *, now: Callable[[], datetime] | None = None, timeout: float = 3.0
) -> Iterator[Finding]:
    """Clock skew against STS's Date header: SigV4 fails beyond 5 minutes."""
    import urllib.error
    import urllib.request

    from awsv.sts import endpoint_url

    url = endpoint_url(env, None) or DEFAULT_STS_URL
    # The STS endpoint: the default https URL or the one the user configured.
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": "awsv-doctor"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - see above
            date = response.headers.get("Date")
    except urllib.error.HTTPError as exc:  # STS answers 4xx to a bare GET, still with a Date
        date = exc.headers.get("Date") if exc.headers else None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        yield Finding(
            "clock",
            WARN,
            f"could not reach {url} to compare clocks ({_reason(exc)})",
            "check the network; the check is skipped",
        )
        return
    if not date:
        yield Finding("clock", WARN, f"{url} sent no Date header; clock not checked")
        return
    try:
        remote = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        yield Finding("clock", WARN, f"{url} sent an unreadable Date header; clock not checked")
        return
    from awsv.clock import utcnow

    local = (now or utcnow)()
    skew = (local - remote).total_seconds()
    direction = "ahead of" if skew > 0 else "behind"
    text = f"local clock is {abs(skew):.0f}s {direction} {url}"
    if abs(skew) >= SKEW_FAIL_SECONDS:
        yield Finding(
            "clock",
            FAIL,
            text + ": AWS will reject signed requests",
            "sync the clock (e.g. enable NTP: timedatectl set-ntp true)",
        )
    elif abs(skew) >= SKEW_WARN_SECONDS:
        yield Finding("clock", WARN, text, "sync the clock (NTP)")
    else:
        yield Finding("clock", PASS, text)


def container_endpoint(env: Mapping[str, str], *, timeout: float = 1.0) -> Iterator[Finding]:
    """A container-credentials endpoint named in the environment, and whether it still answers.

    An SDK that finds no key variables and no credentials in its profile takes
    AWS_CONTAINER_CREDENTIALS_FULL_URI (or _RELATIVE_URI) before instance
    metadata, and when nothing answers there it fails instead of trying
    anything else. Such a variable outlives the endpoint that set it (a shell
    started under `awsv exec --server`, lines pasted from `awsv serve`), so a
    stale one breaks every AWS command that relied on another source.
    """
    import ipaddress
    import socket
    import urllib.parse

    full, relative = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if not full and not relative:
        yield Finding("endpoint", PASS, "no container credential endpoint is set in this environment")
        return
    name = "AWS_CONTAINER_CREDENTIALS_FULL_URI" if full else "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    url = full or f"http://169.254.170.2{relative}"
    fix = (
        "unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
        "AWS_CONTAINER_AUTHORIZATION_TOKEN (`awsv off` and `awsv use` clear them too)"
    )
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        loopback = ipaddress.ip_address(host).is_loopback if host != "localhost" else True
    except ValueError:
        yield Finding("endpoint", FAIL, f"{name} is set to something that is not a usable URL", fix)
        return
    if not loopback:
        yield Finding(
            "endpoint",
            INFO,
            f"{name} points at {host}:{port} (not on this machine, not "
            "checked): SDKs without key variables or profile credentials take theirs from it",
        )
        return
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        yield Finding(
            "endpoint",
            FAIL,
            f"{name} points at {host}:{port}, where nothing answers (an endpoint that has "
            "stopped?): SDKs that find no key variables or profile credentials use it "
            "before anything else and fail there",
            fix,
        )
        return
    yield Finding(
        "endpoint",
        INFO,
        f"{name} points at a credential endpoint that answers on "
        f"{host}:{port}: SDKs here take their credentials from it unless key variables are set",
    )


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return " ".join(str(reason).split())[:120] or type(exc).__name__

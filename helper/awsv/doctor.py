"""Health checks for `awsv doctor`: each says pass, warn or fail, and how to fix it.

Honest means: a check that cannot run says so (warn, with why) instead of
passing, and nothing here changes any state. Checks never open the vault
with a passphrase: doctor must work when the user is locked out.
"""

from __future__ import annotations

import configparser
import os
import shutil
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from awsv import paths
from awsv.errors import AwsvError
from awsv.safe_read import read_text_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from awsv.config import AwsConfig

PASS, WARN, FAIL, INFO = "pass", "warn", "fail", "info"
#: SigV4 rejects requests more than 5 minutes off; warn well before that.
SKEW_FAIL_SECONDS = 300
SKEW_WARN_SECONDS = 30
DEFAULT_STS_URL = "https://sts.amazonaws.com/"


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    message: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


Check = Callable[[Mapping[str, str]], Iterator[Finding]]


def plaintext_credentials(env: Mapping[str, str]) -> Iterator[Finding]:
    """Long-term secrets in ~/.aws/credentials are exactly what awsv exists to end."""
    path = paths.aws_credentials_file(env)
    if not path.exists():
        yield Finding("plaintext-keys", PASS, f"no plaintext credentials file ({path})")
        return
    parser = configparser.RawConfigParser(default_section="\0none\0", interpolation=None)
    try:
        parser.read_string(read_text_file(path, what="credentials file"))
    except (OSError, AwsvError, configparser.Error):
        yield Finding(
            "plaintext-keys",
            WARN,
            f"cannot parse {path} to check it for secrets",
            "inspect it by hand; `awsv import` moves keys into the vault",
        )
        return
    long_term = [
        s
        for s in parser.sections()
        if parser.has_option(s, "aws_secret_access_key") and not parser.has_option(s, "aws_session_token")
    ]
    temporary = [s for s in parser.sections() if parser.has_option(s, "aws_session_token")]
    if long_term:
        yield Finding(
            "plaintext-keys",
            FAIL,
            f"{len(long_term)} long-term secret key(s) in plaintext in {path}: " + ", ".join(long_term),
            "awsv import --delete-plaintext",
        )
    if temporary:
        yield Finding(
            "plaintext-keys",
            WARN,
            f"{len(temporary)} temporary credential set(s) in plaintext in {path}: " + ", ".join(temporary),
            "delete them from the file; `awsv use` keeps them in the shell only",
        )
    if not long_term and not temporary:
        yield Finding("plaintext-keys", PASS, f"no secrets in {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and (long_term or temporary):
        yield Finding(
            "plaintext-keys", FAIL, f"{path} is readable by other users (mode {mode:03o})", f"chmod 600 {path}"
        )


def plaintext_sso_tokens(env: Mapping[str, str]) -> Iterator[Finding]:
    """SSO tokens in the AWS CLI's cache are bearer secrets in plaintext (silent when none)."""
    from awsv.sso.tokens import aws_cli_cache_dir

    directory = aws_cli_cache_dir(env)
    try:
        holding = [
            p
            for p in sorted(directory.glob("*.json"))
            if p.stat().st_size < 65536 and b'"accessToken"' in p.read_bytes()
        ]
    except OSError:
        return
    if holding:
        yield Finding(
            "plaintext-keys",
            WARN,
            f"{len(holding)} SSO token file(s) in plaintext in {directory}",
            "awsv keeps its own tokens in the vault (and imports a valid one from here); "
            "`awsv sso logout` or `aws sso logout` removes these files",
        )


def _private(path: Path, want: int, what: str) -> Finding:
    from awsv.private import KIND, OWNER, not_private

    st = path.lstat()
    problem = not_private(st, is_dir=want == 0o700)
    if problem is not None:
        kind, wrong = problem
        fix = {KIND: f"move {path} aside", OWNER: f"chown {os.geteuid()} {path}"}.get(kind, f"chmod {want:o} {path}")
        return Finding("vault-permissions", FAIL, f"{what} {path} {wrong}", fix)
    return Finding("vault-permissions", PASS, f"{what} {path} is private ({stat.S_IMODE(st.st_mode):03o})")


def vault_files(env: Mapping[str, str]) -> Iterator[Finding]:
    """The file vault's directory and files are private to the user."""
    from awsv.vault.file import VAULT_FILE

    directory = paths.data_dir(env)
    if not directory.exists():
        yield Finding(
            "vault-permissions", INFO, f"no vault directory yet ({directory})", "`awsv add PROFILE` creates it"
        )
        return
    yield _private(directory, 0o700, "vault directory")
    vault = directory / VAULT_FILE
    if vault.exists():
        yield _private(vault, 0o600, "vault file")
        try:
            from awsv.vault.file_format import parse_header

            header = parse_header(vault.read_bytes())
        except AwsvError as exc:
            yield Finding("vault-format", FAIL, f"{vault}: {exc.message}", "restore it from a backup")
        else:
            kdf = header.params
            yield Finding(
                "vault-format",
                PASS,
                f"vault format v1, Argon2id {kdf.memory_cost // 1024} MiB, {kdf.iterations} passes, {kdf.lanes} lanes",
            )
    loose = [path for path in directory.iterdir() if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077]
    for path in loose:
        yield Finding("vault-permissions", FAIL, f"{path} is readable by other users", f"chmod 600 {path}")


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


def plural(count: int, noun: str) -> str:
    """`1 warning`, `2 warnings`, `0 warnings`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def config(env: Mapping[str, str]) -> Iterator[Finding]:
    """Every profile in the AWS config resolves; MFA settings are consistent; self-references explained."""
    from awsv.chain import Resolver
    from awsv.config import AwsConfig
    from awsv.names import is_valid_profile_name
    from awsv.paths import aws_config_file

    path = aws_config_file(env)
    if not path.exists() and not path.is_symlink():
        # A vault-only setup is valid (`awsv add prod` + `awsv use prod`): a warning, not a fail.
        yield Finding(
            "config",
            WARN,
            f"the AWS config file {path} does not exist",
            "fine for keys used as they are (`awsv add NAME`, `awsv use NAME`); for "
            "regions, roles or MFA create it with [profile NAME] sections "
            "(AWS_CONFIG_FILE points elsewhere)",
        )
        return
    try:
        cfg = AwsConfig.load(env)
    except AwsvError as exc:
        yield Finding("config", FAIL, exc.message, exc.hint)
        return
    problems = 0
    resolver = Resolver(cfg, in_vault=lambda _name: True, env=env)  # shared chain tails: linear time
    for name in cfg.names():
        if not is_valid_profile_name(name):
            problems += 1
            yield Finding(
                "config",
                WARN,
                f"profile {name!r}: awsv refuses this name",
                "rename it to letters, digits and _ . @ + = , -",
            )
            continue
        try:
            chain = resolver.resolve(name)
        except AwsvError as exc:
            problems += 1
            yield Finding("config", FAIL, exc.message, exc.hint)
            continue
        profile = cfg.profile(name)
        source_profile = cfg.profile(chain.source.profile, allow_missing=True)
        if chain.hops and source_profile.mfa_serial and not profile.mfa_serial:
            problems += 1
            yield Finding(
                "config",
                WARN,
                f"role {name!r} has no mfa_serial but its source {chain.source.profile!r} has one: "
                "awsv assumes it from the MFA session, the AWS CLI and SDKs would not use MFA",
                f"add `mfa_serial = {source_profile.mfa_serial}` to [profile {name}]",
            )
    for finding in _needing_a_stored_key(env, cfg):
        problems += finding.status in (FAIL, WARN)
        yield finding
    if not problems:
        count = len(cfg.names())
        yield Finding(
            "config",
            PASS,
            f"{plural(count, 'profile')} in {cfg.path} {'resolves' if count == 1 else 'resolve'} cleanly",
        )


def _needing_a_stored_key(env: Mapping[str, str], cfg: AwsConfig) -> Iterator[Finding]:
    """Explain the two patterns that work only with a key stored for the profile itself.

    aws-vault's recipe `credential_process = awsv exec -j P` on P itself, and
    a role with no source_profile (aws-vault's `work`): fine with a key for P
    in the vault (the key wins), an error without one.
    Whether the key is there is asked of the agent only: doctor never asks
    for the passphrase, so a locked vault gets the explanation, not a verdict.
    """
    from awsv.names import is_valid_profile_name
    from awsv.recursion import runs_awsv_back

    stored: Callable[[str], bool | None] | None = None
    for name in cfg.names():
        if not is_valid_profile_name(name):
            continue
        try:
            profile = cfg.profile(name)
        except AwsvError:
            continue  # reported by the resolution check above
        command = profile.credential_process
        if stored is None and (command or (profile.role_arn and not profile.source_profile)):
            stored = _key_lookup(env)
        if profile.role_arn and not profile.source_profile and stored is not None:
            yield from _own_key_role(
                name, stored(name), bool(profile.get("credential_source") or profile.get("web_identity_token_file"))
            )
            continue
        if not command or runs_awsv_back(cfg, command, [name]) is None or stored is None:
            continue
        pattern = f"profile {name!r}: its credential_process runs awsv for itself"
        has_key = stored(name)
        if has_key:
            yield Finding(
                "config",
                PASS,
                f"{pattern}; awsv uses the key stored for it, and the "
                "line serves the AWS CLI and SDKs (aws-vault's recipe)",
            )
        elif has_key is False:
            yield Finding(
                "config",
                FAIL,
                f"{pattern} and no key for it is in the vault: awsv refuses it, and the AWS CLI gets that error",
                f"awsv add {name}",
            )
        else:
            yield Finding(
                "config",
                INFO,
                f"{pattern}: fine when a key for it is in the vault "
                "(the key wins), an error without one; the vault is locked, so not checked",
                f"`awsv unlock`, then run doctor again (or `awsv add {name}`)",
            )


def _own_key_role(name: str, has_key: bool | None, other_source: bool) -> Iterator[Finding]:
    """A role with no source_profile assumes itself with its own stored key (aws-vault's `work`)."""
    if other_source or has_key:
        return  # the resolution check reports the unsupported sources; with a key all is well
    pattern = (
        f"profile {name!r} has role_arn but no source_profile: it assumes the role with "
        "its own key in the vault (aws-vault's rule)"
    )
    if has_key is False:
        yield Finding(
            "config",
            FAIL,
            f"{pattern}, and there is none",
            f"awsv add {name}, or add `source_profile = NAME` to [profile {name}]",
        )
    else:
        yield Finding(
            "config",
            WARN,
            f"{pattern}; the vault is locked, so not checked",
            f"`awsv unlock`, then run doctor again (or `awsv add {name}`)",
        )


def _key_lookup(env: Mapping[str, str]) -> Callable[[str], bool | None]:
    """name -> key stored? through a running agent; None (unknown) when none holds the vault."""
    try:
        from awsv.agent.client import connect
        from awsv.settings import choose_backend
        from awsv.vault.items import key_item_name

        vault = connect(env, choose_backend(None, env))
    except AwsvError:
        vault = None
    if vault is None:
        return lambda _name: None

    def lookup(name: str) -> bool | None:
        try:
            return vault.get(key_item_name(name)) is not None
        except AwsvError:
            return None

    return lookup


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


CHECKS: list[Check] = [
    plaintext_credentials,
    plaintext_sso_tokens,
    vault_files,
    backend,
    agent,
    config,
    shell_integration,
    on_path,
    container_endpoint,
    clock,
]


def run_checks(env: Mapping[str, str], checks: list[Check] | None = None) -> list[Finding]:
    """Run every check; a check that crashes on bad input is reported, not raised."""
    findings: list[Finding] = []
    for check in checks or CHECKS:
        try:
            findings.extend(check(env))
        except AwsvError as exc:
            findings.append(Finding(check.__name__.replace("_", "-"), FAIL, exc.message, exc.hint))
        except OSError as exc:
            findings.append(
                Finding(check.__name__.replace("_", "-"), WARN, f"check could not run: {exc.strerror or exc}")
            )
    return findings

"""`awsv login --isolate`: one browser session per AWS account.

The console keeps one sign-in per browser session, so signing in to prod in
the browser that shows dev signs dev out. Isolation gives each profile its
own session:

- Firefox (firefox, firefox-esr, librewolf) with a container add-on: the
  link opens in a container named after the profile, coloured from its
  `awsv_color`. Supported add-ons, found in the Firefox profiles'
  `extensions.json`: "Open external links in a container" (and its
  "Container Scheme" fork; `ext+container:` links) and "Granted" (its
  `ext+granted-containers:` links).
- Chromium-family browsers (chromium, google-chrome, brave, edge, vivaldi):
  a separate, persistent user-data directory per profile
  (`$XDG_DATA_HOME/awsv/browser/<profile>`, 0700), so each keeps its own
  cookies between logins.
- Anything else: an error saying what to install.

The browser is the first command of `$BROWSER` when it names one of these,
else the first of them found on PATH (Chromium-family and Firefox in
`BROWSERS` order). Text-mode browsers (lynx, w3m, links, elinks, browsh) are
never started: the console cannot be used in them, and a text browser would
take over the terminal awsv runs in.

What reaches the browser's argv is the one-shot loopback address of
`awsv.browser` (never the sign-in link) inside the container link or after
the user-data-dir option.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from awsv.errors import AwsvError

FIREFOX = ("firefox", "firefox-esr", "librewolf")
CHROMIUM = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "brave-browser",
    "brave",
    "microsoft-edge",
    "microsoft-edge-stable",
    "vivaldi",
    "vivaldi-stable",
)
#: Looked for on PATH in this order when $BROWSER names none of them.
BROWSERS = (*FIREFOX, *CHROMIUM)

#: Add-on names (as in extensions.json) -> the URL scheme their links use.
CONTAINER_ADDONS = {
    "open external links in a container": "ext+container",
    "container scheme": "ext+container",
    "granted": "ext+granted-containers",
}
#: Firefox's container colours, with the RGB used to pick the nearest for any awsv_color.
FIREFOX_COLORS = {
    "blue": (55, 173, 255),
    "turquoise": (0, 199, 230),
    "green": (81, 205, 0),
    "yellow": (255, 203, 0),
    "orange": (255, 159, 0),
    "red": (255, 97, 63),
    "pink": (255, 75, 218),
    "purple": (175, 81, 245),
    "toolbar": (124, 124, 125),
}
_NAMED = {
    "black": "toolbar",
    "white": "toolbar",
    "red": "red",
    "green": "green",
    "yellow": "yellow",
    "blue": "blue",
    "magenta": "pink",
    "cyan": "turquoise",
}
#: The xterm 16-colour palette, for awsv_color values 0-15.
_XTERM16 = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
]

ISOLATE_VAR = "AWSV_LOGIN_ISOLATE"
ISOLATE_SETTING = "login_isolate"


class IsolationUnavailable(AwsvError):
    """--isolate was asked for, and no browser here can keep the accounts apart."""


@dataclass(frozen=True)
class Plan:
    """How to start the isolated browser: the argv templates (`%s`: the address) and a
    one-line description for the user."""

    commands: list[list[str]]
    how: str


def isolate_by_default(env: Mapping[str, str]) -> bool:
    """AWSV_LOGIN_ISOLATE, else `login_isolate` in ~/.config/awsv/config: true/1/yes/on."""
    raw = env.get(ISOLATE_VAR)
    if raw is None or raw == "":
        from awsv.settings import settings_file_values

        raw = settings_file_values(env).get(ISOLATE_SETTING, "")
    return raw.strip().lower() in ("1", "true", "yes", "on")


def container_color(color: str | None) -> str:
    """The Firefox container colour nearest to an awsv_color (name, 0-255, #rrggbb)."""
    if not color:
        return "blue"
    color = color.strip().lower()
    if color in _NAMED:
        return _NAMED[color]
    rgb: tuple[int, int, int] | None = None
    if len(color) == 7 and color[0] == "#":
        try:
            rgb = (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))
        except ValueError:
            rgb = None
    elif color.isdigit() and int(color) <= 255:
        n = int(color)
        if n < 16:
            rgb = _XTERM16[n]
        elif n < 232:
            steps = (0, 95, 135, 175, 215, 255)
            n -= 16
            rgb = (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
        else:
            grey = 8 + (n - 232) * 10
            rgb = (grey, grey, grey)
    if rgb is None:
        return "blue"
    if max(rgb) - min(rgb) < 30:
        return "toolbar"  # a grey
    return min(
        FIREFOX_COLORS, key=lambda name: sum((a - b) ** 2 for a, b in zip(FIREFOX_COLORS[name], rgb, strict=True))
    )


def firefox_profile_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where Firefox keeps its profiles (Linux, the snap, Flatpak, macOS)."""
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    roots = [
        home / ".mozilla" / "firefox",
        home / "snap" / "firefox" / "common" / ".mozilla" / "firefox",
        home / ".var" / "app" / "org.mozilla.firefox" / ".mozilla" / "firefox",
        home / ".librewolf",
        home / "Library" / "Application Support" / "Firefox" / "Profiles",
    ]
    out: list[Path] = []
    for root in roots:
        try:
            out.extend(p for p in sorted(root.iterdir()) if (p / "extensions.json").is_file())
        except OSError:
            continue
    return out


def container_scheme(env: Mapping[str, str]) -> str | None:
    """The link scheme of an active container add-on in any Firefox profile, or None."""
    for profile in firefox_profile_dirs(env):
        try:
            with open(profile / "extensions.json", "rb") as fh:
                data = json.loads(fh.read(8 * 1024 * 1024))
        except (OSError, ValueError):
            continue
        addons = data.get("addons") if isinstance(data, dict) else None
        for addon in addons if isinstance(addons, list) else []:
            if not isinstance(addon, dict) or addon.get("active") is False:
                continue
            locale = addon.get("defaultLocale")
            name = locale.get("name") if isinstance(locale, dict) else None
            if isinstance(name, str) and name.strip().lower() in CONTAINER_ADDONS:
                return CONTAINER_ADDONS[name.strip().lower()]
    return None


def find_browser(env: Mapping[str, str], which: Callable[..., str | None] = shutil.which) -> tuple[str, str] | None:
    """(family, path): `firefox` or `chromium`, from $BROWSER's first command or PATH."""
    raw = env.get("BROWSER")
    if raw:
        for entry in raw.split(os.pathsep):
            try:
                argv = shlex.split(entry)
            except ValueError:
                continue
            if not argv:
                continue
            name = os.path.basename(argv[0])
            if name in FIREFOX or name in CHROMIUM:
                path = which(argv[0], path=env.get("PATH")) or argv[0]
                return ("firefox" if name in FIREFOX else "chromium"), path
    for name in BROWSERS:
        found = which(name, path=env.get("PATH"))
        if found:
            return ("firefox" if name in FIREFOX else "chromium"), found
    return None


def user_data_dir(env: Mapping[str, str], profile: str) -> Path:
    base = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "share")
    return Path(base) / "awsv" / "browser" / profile


def plan(
    env: Mapping[str, str], profile: str, color: str | None, which: Callable[..., str | None] = shutil.which
) -> Plan:
    """How to open `profile`'s console in its own browser session; IsolationUnavailable
    (saying what to install) when this machine has no way to."""
    found = find_browser(env, which)
    install = (
        'install Firefox with the "Open external links in a container" add-on, '
        "or a Chromium-family browser (chromium, google-chrome, brave, edge, vivaldi)"
    )
    if found is None:
        raise IsolationUnavailable(
            "--isolate needs Firefox with a container add-on or a Chromium-family browser, and none was found",
            hint=install,
        )
    family, path = found
    if family == "firefox":
        scheme = container_scheme(env)
        if scheme is None:
            raise IsolationUnavailable(
                f"{os.path.basename(path)} has no container add-on, so it cannot keep accounts apart",
                hint='install the "Open external links in a container" (open-url-in-container) '
                "or Granted add-on in Firefox, or set BROWSER to a Chromium-family browser",
            )
        colour = container_color(color)
        # The address awsv.browser substitutes for %s is http://127.0.0.1:PORT/<hex>:
        # nothing in it needs escaping inside the link's query.
        name = f"awsv {profile}"
        link = (
            f"{scheme}:name={name.replace(' ', '%20')}&color={colour}&icon=fingerprint&url=%s"
            if scheme == "ext+container"
            else f"{scheme}:name={name.replace(' ', '%20')}&url=%s"
        )
        return Plan([[path, link]], f"in the Firefox container {name!r} ({colour})")
    directory = user_data_dir(env, profile)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
    except OSError as exc:
        raise IsolationUnavailable(f"cannot create the browser data directory {directory}: {exc.strerror}") from None
    return Plan(
        [[path, f"--user-data-dir={directory}", "--no-first-run", "--no-default-browser-check", "--new-window", "%s"]],
        f"in {os.path.basename(path)} with its own data directory for {profile!r}",
    )


def logout_url(federation_endpoint: str) -> str:
    """The console's sign-out address for a partition's federation endpoint
    (https://signin.aws.amazon.com/federation -> .../oauth?Action=logout)."""
    base = federation_endpoint.rsplit("/federation", 1)[0]
    return f"{base}/oauth?Action=logout"

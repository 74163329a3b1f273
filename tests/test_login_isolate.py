"""`awsv login --isolate` and `--logout`: one browser session per profile.

No graphical browser can run here, so each browser is a stub program on
PATH under the real name awsv looks for (`firefox`, `chromium`,
`google-chrome`, `lynx`): it records the arguments it got and fetches the
address it was handed with curl, as the browser (or the container add-on,
for Firefox's `ext+container:` links) would. A Firefox container add-on is
"installed" by writing the `extensions.json` Firefox keeps in its profile
directory, which is what awsv reads. Everything else is real: the CLI as a
subprocess, the vault, moto's STS behind the recording proxy, and the
federation stand-in of tests/test_login.py.

Tried with real browsers (by hand, not here): see the README's "One browser
session per account" section.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from pathlib import Path

import pytest

from awsv import isolate
from tests.conftest import AwsvRunner
from tests.support.fault_proxy import AwsvWorld, fault_proxy, fault_proxy_server, world  # noqa: F401  (pytest fixtures)
from tests.support.federation_server import FederationServer, federation, federation_server  # noqa: F401  (pytest fixtures)
from tests.support.login_world import login_params, lw, one_token_request  # noqa: F401  (lw: a fixture)
from tests.support.moto_server import moto_url  # noqa: F401  (pytest fixture)

STUB = """\
#!/bin/sh
# A stand-in browser: records its argv, then fetches the loopback address it was given
# (inside an ext+container link, as the add-on does, or as the last argument).
printf '%s\\n' "$@" > "$0.argv"
last=""
for a in "$@"; do last=$a; done
case $last in
    ext+*) addr=${last##*url=} ;;
    *) addr=$last ;;
esac
curl -s -o /dev/null -w '%{http_code} %{redirect_url}\\n' "$addr" > "$0.fetch"
"""


@pytest.fixture
def browsers(tmp_path: Path) -> Path:
    """A bin directory with curl and sh only; tests add stub browsers to it."""
    bin_dir = tmp_path / "browser-bin"
    bin_dir.mkdir()
    for tool in ("curl", "sh"):
        found = shutil.which(tool)
        assert found, f"{tool} is needed to play the browser"
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def stub(bin_dir: Path, name: str) -> Path:
    path = bin_dir / name
    path.write_text(STUB)
    path.chmod(0o755)
    return path


def argv_of(path: Path) -> list[str]:
    return Path(f"{path}.argv").read_text().splitlines()


def fetched(path: Path) -> tuple[str, str]:
    status, location = Path(f"{path}.fetch").read_text().strip().split(" ", 1)
    return status, location


def install_addon(home: Path, name: str, *, active: bool = True) -> None:
    profile = home / ".mozilla" / "firefox" / "abcd1234.default-release"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "extensions.json").write_text(
        json.dumps(
            {
                "schemaVersion": 35,
                "addons": [
                    {"id": "uBlock0@raymondhill.net", "active": True, "defaultLocale": {"name": "uBlock Origin"}},
                    {"id": "{addon}", "active": active, "defaultLocale": {"name": name}},
                ],
            }
        )
    )


def env_with(bin_dir: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{bin_dir}:/bin", "BROWSER": "", "DISPLAY": ":77", **extra}


def add_colored_profile(world: AwsvWorld) -> None:
    path = Path(world.env["AWS_CONFIG_FILE"])
    path.write_text(
        path.read_text() + "\n[profile red]\nrole_arn = arn:aws:iam::111111111111:role/Red\n"
        "source_profile = alice\nawsv_color = #ff2000\n"
    )


# -- Chromium family -------------------------------------------------------------------


def test_chromium_gets_a_persistent_data_directory_per_profile(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, browsers: Path
) -> None:
    chromium = stub(browsers, "chromium")
    proc = awsv("login", "--isolate", "admin", env=env_with(browsers))
    assert proc.returncode == 0, proc.stderr
    data = Path(lw.env["XDG_DATA_HOME"]) / "awsv" / "browser" / "admin"
    args = argv_of(chromium)
    assert args[:4] == [f"--user-data-dir={data}", "--no-first-run", "--no-default-browser-check", "--new-window"]
    assert args[4].startswith("http://127.0.0.1:") and "SigninToken" not in args[4]
    assert data.is_dir() and data.stat().st_mode & 0o777 == 0o700
    status, location = fetched(chromium)
    assert status == "302"
    assert login_params(location, federation)["SigninToken"] == one_token_request(federation).token
    assert "with its own data directory for 'admin'" in proc.stderr

    proc = awsv("login", "--isolate", "alice", env=env_with(browsers))
    assert proc.returncode == 0, proc.stderr
    assert argv_of(chromium)[0] == f"--user-data-dir={data.parent / 'alice'}"


def test_browser_from_dollar_browser_when_it_is_a_known_family(
    lw: AwsvWorld, awsv: AwsvRunner, browsers: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "opt"
    elsewhere.mkdir()
    chrome = stub(elsewhere, "google-chrome")
    stub(browsers, "firefox")  # on PATH, but $BROWSER wins
    proc = awsv("login", "--isolate", "admin", env=env_with(browsers, BROWSER=f"{chrome} %s"))
    assert proc.returncode == 0, proc.stderr
    assert argv_of(chrome)[0].startswith("--user-data-dir=")


def test_a_text_browser_is_never_started(lw: AwsvWorld, awsv: AwsvRunner, browsers: Path, tmp_path: Path) -> None:
    lynx = stub(tmp_path, "lynx")
    chromium = stub(browsers, "chromium")
    proc = awsv("login", "--isolate", "admin", env=env_with(browsers, BROWSER=str(lynx)))
    assert proc.returncode == 0, proc.stderr
    assert not Path(f"{lynx}.argv").exists()
    assert Path(f"{chromium}.argv").exists()


# -- Firefox ---------------------------------------------------------------------------


def test_firefox_container_named_and_coloured_after_the_profile(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, browsers: Path
) -> None:
    add_colored_profile(lw)
    firefox = stub(browsers, "firefox")
    install_addon(lw.home, "Open external links in a container")
    proc = awsv("login", "--isolate", "red", env=env_with(browsers))
    assert proc.returncode == 0, proc.stderr
    (link,) = argv_of(firefox)
    scheme, _, query = link.partition(":")
    assert scheme == "ext+container"
    params = dict(part.split("=", 1) for part in query.split("&"))
    assert urllib.parse.unquote(params["name"]) == "awsv red"
    assert params["color"] == "red" and params["icon"] == "fingerprint"
    assert params["url"].startswith("http://127.0.0.1:") and "SigninToken" not in link
    assert fetched(firefox)[0] == "302"
    assert "in the Firefox container 'awsv red' (red)" in proc.stderr


def test_granted_containers_addon_and_default_colour(lw: AwsvWorld, awsv: AwsvRunner, browsers: Path) -> None:
    firefox = stub(browsers, "firefox")
    install_addon(lw.home, "Granted")
    proc = awsv("login", "--isolate", "admin", env=env_with(browsers))
    assert proc.returncode == 0, proc.stderr
    (link,) = argv_of(firefox)
    assert link.startswith("ext+granted-containers:name=awsv%20admin&url=http://127.0.0.1:")


def test_firefox_without_a_container_addon_says_what_to_install(
    lw: AwsvWorld, awsv: AwsvRunner, browsers: Path
) -> None:
    firefox = stub(browsers, "firefox")
    install_addon(lw.home, "Open external links in a container", active=False)  # disabled
    proc = awsv("login", "--isolate", "admin", env=env_with(browsers))
    assert proc.returncode == 1
    assert "firefox has no container add-on" in proc.stderr
    assert "open-url-in-container" in proc.stderr
    assert not Path(f"{firefox}.argv").exists()
    assert lw.proxy.count("AssumeRole") == 0  # refused before any credentials were made


def test_no_browser_at_all_says_what_to_install(lw: AwsvWorld, awsv: AwsvRunner, browsers: Path) -> None:
    proc = awsv("login", "--isolate", "admin", env=env_with(browsers))
    assert proc.returncode == 1
    assert "none was found" in proc.stderr and "Chromium-family browser" in proc.stderr


# -- the setting, and signing out --------------------------------------------------------


def test_the_setting_makes_isolation_the_default_and_no_isolate_overrides(
    lw: AwsvWorld, awsv: AwsvRunner, browsers: Path
) -> None:
    chromium = stub(browsers, "chromium")
    settings = Path(lw.env["XDG_CONFIG_HOME"]) / "awsv" / "config"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("[awsv]\nlogin_isolate = true\n")
    try:
        proc = awsv("login", "admin", env=env_with(browsers))
        assert proc.returncode == 0, proc.stderr
        assert argv_of(chromium)[0].startswith("--user-data-dir=")
        plain = stub(browsers, "plain-browser")
        proc = awsv("login", "--no-isolate", "admin", env=env_with(browsers, BROWSER=str(plain)))
        assert proc.returncode == 0, proc.stderr
        assert argv_of(plain)[0].startswith("http://127.0.0.1:")
    finally:
        settings.unlink()
    os.remove(f"{chromium}.argv")
    proc = awsv("login", "admin", env=env_with(browsers, AWSV_LOGIN_ISOLATE="1"))
    assert proc.returncode == 0, proc.stderr
    assert argv_of(chromium)[0].startswith("--user-data-dir=")


def test_logout_opens_the_sign_out_page_in_the_profiles_session(
    lw: AwsvWorld, awsv: AwsvRunner, federation: FederationServer, browsers: Path
) -> None:
    chromium = stub(browsers, "chromium")
    proc = awsv("login", "--logout", "--isolate", "admin", env=env_with(browsers))
    assert proc.returncode == 0, proc.stderr
    assert argv_of(chromium)[0].endswith("/awsv/browser/admin")
    status, location = fetched(chromium)
    assert status == "302"
    assert location == federation.url.rsplit("/federation", 1)[0] + "/oauth?Action=logout"
    assert federation.token_requests() == [] and lw.proxy.count("AssumeRole") == 0
    proc = awsv("login", "--logout", "--stdout")
    assert proc.returncode == 0 and proc.stdout == location + "\n"
    assert (
        isolate.logout_url("https://signin.aws.amazon.com/federation")
        == "https://signin.aws.amazon.com/oauth?Action=logout"
    )


@pytest.mark.parametrize(
    ("color", "want"),
    [
        (None, "blue"),
        ("red", "red"),
        ("magenta", "pink"),
        ("cyan", "turquoise"),
        ("white", "toolbar"),
        ("#ff2000", "red"),
        ("#00ff00", "green"),
        ("#808080", "toolbar"),
        ("208", "orange"),
        ("11", "yellow"),
        ("nonsense", "blue"),
    ],
)
def test_container_colour_from_awsv_color(color: str | None, want: str) -> None:
    assert isolate.container_color(color) == want


def test_no_display_starts_no_browser(lw: AwsvWorld, awsv: AwsvRunner, browsers: Path) -> None:
    chromium = stub(browsers, "chromium")
    env = env_with(browsers)
    del env["DISPLAY"]
    proc = awsv("login", "--isolate", "--logout", "admin", env={**env, "DISPLAY": None})  # type: ignore[dict-item]
    assert proc.returncode == 1
    assert "no display" in proc.stderr and "--stdout" in proc.stderr
    assert not Path(f"{chromium}.argv").exists()

"""A real Secret Service for tests: a private D-Bus session bus and an unlocked gnome-keyring.

Each test that asks for `secret_service` gets its own `dbus-daemon` (with a
minimal config: no service activation, so nothing but our gnome-keyring can
own `org.freedesktop.secrets`, and no desktop prompter can start) and its own
`gnome-keyring-daemon --unlock --components=secrets`, whose login keyring lives
under the test's HOME. Start-up takes ~30 ms. Everything is torn down after
the test.

The daemons are required, not optional: CI installs them (apt `gnome-keyring
dbus libsecret-tools`), so a missing binary FAILS the test with a message
saying what to install, instead of silently skipping the keyring tests.

Use it from a test module with
`secret_service = support.secret_service.secret_service` (a module-level name,
so pytest finds the fixture without an unused-import warning).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

KEYRING_PASSWORD = "test-keyring-pw"
SECRETS_BUS_NAME = "org.freedesktop.secrets"
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
_REQUIRED = {
    "dbus-daemon": "apt-get install dbus",
    "gnome-keyring-daemon": "apt-get install gnome-keyring",
}
# Variables that would let a daemon or client reach the developer's real desktop.
_SCRUB = ("DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK")

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class SecretService:
    """A running private Secret Service and the environment that reaches it."""

    #: A complete environment for subprocesses (the test's env plus `extra`).
    env: dict[str, str]
    #: Only the variables this fixture adds, e.g. for `awsv(..., env=ss.extra)`.
    extra: dict[str, str]
    home: Path
    bus_address: str
    keyring_process: subprocess.Popen[bytes]
    bus_process: subprocess.Popen[bytes]
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    def apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point this process at the service too (keyring and secretstorage read os.environ)."""
        for key in _SCRUB:
            monkeypatch.delenv(key, raising=False)
        for key, value in self.extra.items():
            monkeypatch.setenv(key, value)

    def secret_tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run libsecret's `secret-tool` against this service (independent of Python's keyring)."""
        if shutil.which("secret-tool") is None:
            pytest.fail("secret-tool is missing: apt-get install libsecret-tools", pytrace=False)
        return subprocess.run(["secret-tool", *args], env=self.env, capture_output=True, text=True, timeout=15)

    def lock_default_collection(self) -> None:
        """Lock the login keyring, as a screen lock or `secret-tool lock` would."""
        import secretstorage
        from jeepney.io.blocking import open_dbus_connection

        with closing(open_dbus_connection(self.bus_address)) as conn:
            secretstorage.get_default_collection(conn).lock()

    def stop_keyring(self) -> None:
        """Stop gnome-keyring-daemon, leaving the bus up: the service vanishes."""
        _stop(self.keyring_process)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _require_binaries() -> None:
    missing = [f"{name} ({fix})" for name, fix in _REQUIRED.items() if shutil.which(name) is None]
    if missing:
        pytest.fail(
            "a real Secret Service is needed for the keyring tests, but these are missing: " + ", ".join(missing),
            pytrace=False,
        )


def _log(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()[-2000:]
    except OSError:
        return ""


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with closing(open_dbus_connection(address)) as conn:
        reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2)
    return bool(reply.body[0])


@contextmanager
def running_secret_service(home: Path, env: Mapping[str, str]) -> Iterator[SecretService]:
    """Start dbus-daemon and an unlocked gnome-keyring for `home`; stop both on exit."""
    _require_binaries()
    # Sockets go in a short private dir: unix socket paths are capped at 108 bytes.
    sockdir = Path(tempfile.mkdtemp(prefix="awsv-ss-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        socket_path = sockdir / "bus"
        config = sockdir / "session.conf"
        config.write_text(_BUS_CONFIG.format(socket=escape(str(socket_path))))
        daemon_env = {k: v for k, v in env.items() if k not in _SCRUB}
        runtime = Path(daemon_env.get("XDG_RUNTIME_DIR") or home / "run")
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)

        bus_log = sockdir / "dbus.log"
        with open(bus_log, "wb") as log:
            bus = subprocess.Popen(
                ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=daemon_env,
            )
        procs.append(bus)
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        if not address:
            pytest.fail(f"dbus-daemon did not start: {_log(bus_log)}", pytrace=False)
        daemon_env["DBUS_SESSION_BUS_ADDRESS"] = address

        keyring_log = sockdir / "gnome-keyring.log"
        with open(keyring_log, "wb") as log:
            keyring = subprocess.Popen(
                [
                    "gnome-keyring-daemon",
                    "--foreground",
                    "--unlock",
                    "--components=secrets",
                    f"--control-directory={sockdir}",
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                env=daemon_env,
            )
        procs.append(keyring)
        assert keyring.stdin is not None
        keyring.stdin.write(KEYRING_PASSWORD.encode())
        keyring.stdin.close()

        deadline = time.monotonic() + 10
        while not _name_has_owner(address, SECRETS_BUS_NAME):
            if keyring.poll() is not None:
                pytest.fail(
                    f"gnome-keyring-daemon exited ({keyring.returncode}): {_log(keyring_log)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"gnome-keyring-daemon never registered {SECRETS_BUS_NAME}: {_log(keyring_log)}",
                    pytrace=False,
                )
            time.sleep(0.01)

        extra = {
            "DBUS_SESSION_BUS_ADDRESS": address,
            "PYTHON_KEYRING_BACKEND": SECRET_SERVICE_BACKEND,
            "GNOME_KEYRING_CONTROL": str(sockdir),
        }
        full_env = {k: v for k, v in env.items() if k not in _SCRUB}
        full_env.update(extra)
        yield SecretService(
            env=full_env,
            extra=extra,
            home=home,
            bus_address=address,
            keyring_process=keyring,
            bus_process=bus,
            _procs=procs,
        )
    finally:
        for proc in reversed(procs):  # keyring first, then the bus it talks to
            _stop(proc)
        shutil.rmtree(sockdir, ignore_errors=True)


@pytest.fixture
def secret_service(home: Path, env: dict[str, str]) -> Iterator[SecretService]:
    """A private, unlocked Secret Service for this test, its keyring under `home`."""
    with running_secret_service(home, env) as service:
        yield service

"""The real install.sh, run against temporary HOMEs.

Each install builds a real virtual environment and runs pip, so installs are
shared through module-scoped fixtures. The environments are created with
`--system-site-packages` (AWSV_VENV_ARGS) so pip finds the dependencies already
installed and downloads nothing; everything else is exactly what a user runs.
oh-my-zsh cannot be installed here, so a stand-in `$ZSH/oh-my-zsh.sh` marks it
as present, which is all the installer looks at.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, base_env
from tests.support.polling import wait_for

INSTALL = REPO / "install.sh"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]

# A real pip install into a new venv takes minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Files a user already has; every install and uninstall must leave them as they are.
USER_FILES = {
    ".zshrc": "export ZSH=$HOME/.oh-my-zsh\nplugins=(git)\n",
    ".bashrc": "alias ll='ls -l'\n",
    ".aws/config": "[profile dev]\nregion = eu-west-1\n",
    ".local/share/awsv/vault-something": "not really encrypted, but precious\n",
    ".config/awsv/config.toml": "backend = 'file'\n",
    ".local/bin/other": "#!/bin/sh\necho other\n",
}

Snapshot = dict[str, tuple[str, str, int]]


def make_user_files(home: Path) -> None:
    for rel, text in USER_FILES.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (home / ".local/bin/other").chmod(0o755)


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> Snapshot:
    """Every path under root: kind, content (or link target) and mode."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in skip]
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            mode = path.lstat().st_mode & 0o7777
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path), mode)
            elif path.is_dir():
                out[rel] = ("dir", "", mode)
            else:
                out[rel] = ("file", path.read_bytes().hex(), mode)
    return out


def installer_env(home: Path, pip_cache: Path, **extra: str) -> dict[str, str]:
    """A clean environment for install.sh: no PYTHONPATH into the checkout, no
    oh-my-zsh variables from the developer's shell, and a minimal PATH (pip
    probes `rustc` for its user agent, and rustup then writes ~/.rustup)."""
    env = base_env(home)
    for key in ("PYTHONPATH", "ZSH", "ZSH_CUSTOM"):
        env.pop(key, None)
    zsh = shutil.which("zsh")
    path = [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    if zsh:
        path.append(str(Path(zsh).parent))
    env.update(
        PATH=os.pathsep.join(dict.fromkeys(path)),
        AWSV_PYTHON=sys.executable,
        AWSV_VENV_ARGS="--system-site-packages",
        PIP_CACHE_DIR=str(pip_cache),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run cmd from HOME; the exit status is checked by the caller (see `ok`)."""
    return subprocess.run(
        cmd,
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_install(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([str(INSTALL), *args], env)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def need_zsh() -> str:
    zsh = shutil.which("zsh")
    assert zsh, "zsh is not installed: run ./scripts/test, which installs it"
    return zsh


def awsv_home(home: Path) -> Path:
    return home / ".local/lib/awsv"


def manifest_lines(home: Path) -> list[str]:
    return (awsv_home(home) / "manifest").read_text().splitlines()


@dataclass
class PlainInstall:
    """A HOME without oh-my-zsh, installed twice (PATH without, then with ~/.local/bin)."""

    home: Path
    env: dict[str, str]
    before: Snapshot
    first: subprocess.CompletedProcess[str]
    after_first: Snapshot
    manifest_first: list[str]
    second: subprocess.CompletedProcess[str]
    after_second: Snapshot


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pip-cache")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, pip_cache: Path) -> PlainInstall:
    home = tmp_path_factory.mktemp("plain") / "home"
    home.mkdir()
    make_user_files(home)
    env = installer_env(home, pip_cache)
    before = snapshot(home)
    first = ok(run_install(env))
    after_first = snapshot(home, skip=(".local/lib/awsv/venv",))
    manifest_first = manifest_lines(home)
    env2 = dict(env, PATH=f"{home}/.local/bin{os.pathsep}{env['PATH']}")
    second = ok(run_install(env2))
    after_second = snapshot(home, skip=(".local/lib/awsv/venv",))
    return PlainInstall(home, env, before, first, after_first, manifest_first, second, after_second)


@pytest.fixture(scope="module")
def omz(tmp_path_factory: pytest.TempPathFactory, pip_cache: Path) -> tuple[Path, dict[str, str], str]:
    """A HOME with oh-my-zsh at its default place (~/.oh-my-zsh, $ZSH unset)."""
    home = tmp_path_factory.mktemp("omz") / "home"
    (home / ".oh-my-zsh").mkdir(parents=True)
    (home / ".oh-my-zsh/oh-my-zsh.sh").write_text("# stand-in for oh-my-zsh\n")
    env = installer_env(home, pip_cache)
    proc = ok(run_install(env))
    return home, env, proc.stdout


# --- (a) a plain install ------------------------------------------------------


def test_install_makes_a_working_awsv_on_the_path(plain: PlainInstall) -> None:
    home = plain.home
    venv = awsv_home(home) / "venv"
    link = home / ".local/bin/awsv"
    assert (venv / "bin/python").exists()
    assert link.is_symlink() and Path(os.readlink(link)) == venv / "bin/awsv"

    proc = ok(run([str(link), "--version"], plain.env))
    assert VERSION in proc.stdout

    # A real install, not editable: the package lives in the venv, not in the checkout.
    where = ok(
        run(
            [str(venv / "bin/python"), "-c", "import awsv; print(awsv.__file__)"],
            plain.env,
        )
    )
    assert Path(where.stdout.strip()).is_relative_to(venv)


def test_install_prints_source_lines_and_edits_no_rc_file(plain: PlainInstall) -> None:
    out = plain.first.stdout
    assert "source ~/.local/lib/awsv/shell/zsh/awsv.plugin.zsh" in out
    assert "source ~/.local/lib/awsv/shell/bash/awsv.bash" in out
    assert "plugins=(" not in out
    assert "awsv add PROFILE" in out and 'eval "$(awsv use PROFILE)"' in out
    shell = awsv_home(plain.home) / "shell"
    assert (shell / "zsh/awsv.plugin.zsh").read_bytes() == (REPO / "shell/zsh/awsv.plugin.zsh").read_bytes()
    assert (shell / "bash/awsv.bash").read_bytes() == (REPO / "shell/bash/awsv.bash").read_bytes()
    for rel in USER_FILES:
        assert plain.after_second[rel] == plain.before[rel], f"{rel} was changed"
    assert not (plain.home / ".oh-my-zsh").exists()


def test_install_warns_once_when_bin_dir_is_not_on_path(plain: PlainInstall) -> None:
    warnings = [line for line in plain.first.stderr.splitlines() if "not on your PATH" in line]
    assert len(warnings) == 1
    assert 'export PATH="$HOME/.local/bin:$PATH"' in warnings[0]
    assert "not on your PATH" not in plain.second.stderr  # second run had it on PATH


def test_installed_bash_integration_wraps_the_installed_command(
    plain: PlainInstall,
) -> None:
    env = dict(plain.env, PATH=f"{plain.home}/.local/bin{os.pathsep}{plain.env['PATH']}")
    script = f"source {awsv_home(plain.home)}/shell/bash/awsv.bash; type -t awsv; awsv --version"
    proc = ok(run(["bash", "--norc", "--noprofile", "-c", script], env))
    assert proc.stdout.splitlines() == ["function", f"awsv {VERSION}"]


def test_fish_integration_goes_to_conf_d_and_loads_by_itself(plain: PlainInstall) -> None:
    """fish is installed here, so install.sh puts the integration in conf.d, where
    a new fish loads it with no rc edit; the printed text says so."""
    fish = shutil.which("fish")
    assert fish, "fish is not installed (scripts/test installs it)"
    conf = plain.home / ".config/fish/conf.d/awsv.fish"
    assert conf.read_bytes() == (REPO / "shell/fish/awsv.fish").read_bytes()
    assert conf.stat().st_mode & 0o777 == 0o644
    assert "fish: loaded by itself from ~/.config/fish/conf.d/awsv.fish" in plain.first.stdout
    assert ("fishconf\t" + str(conf)) in manifest_lines(plain.home)
    env = dict(plain.env, PATH=f"{plain.home}/.local/bin{os.pathsep}{plain.env['PATH']}")
    proc = ok(run([fish, "-c", "functions -q awsv; and echo function; awsv --version"], env))
    assert proc.stdout.splitlines() == ["function", f"awsv {VERSION}"]


# --- (c) running twice ----------------------------------------------------------


def test_second_run_upgrades_in_place_without_duplicates(plain: PlainInstall) -> None:
    assert "Upgrading" in plain.second.stdout
    assert plain.after_second.keys() == plain.after_first.keys()
    lines = manifest_lines(plain.home)
    assert lines == plain.manifest_first
    assert len(lines) == len(set(lines))
    assert [line.split("\t")[0] for line in lines].count("venv") == 1
    site = list((awsv_home(plain.home) / "venv/lib").glob("python3*/site-packages"))
    assert len(site) == 1
    assert [p.name for p in site[0].glob("awsv-*.dist-info")] == [f"awsv-{VERSION}.dist-info"]
    assert sorted(p.name for p in (plain.home / ".local/bin").iterdir()) == [
        "awsv",
        "other",
    ]


# --- (b) oh-my-zsh ---------------------------------------------------------------


def test_oh_my_zsh_plugin_is_installed_and_sourceable(
    omz: tuple[Path, dict[str, str], str],
) -> None:
    home, env, out = omz
    plugin = home / ".oh-my-zsh/custom/plugins/awsv/awsv.plugin.zsh"
    assert plugin.read_bytes() == (REPO / "shell/zsh/awsv.plugin.zsh").read_bytes()
    assert "add awsv to plugins=(...) in ~/.zshrc" in out
    assert "shell/zsh/awsv.plugin.zsh" not in out  # no plain-zsh source line
    assert "source ~/.local/lib/awsv/shell/bash/awsv.bash" in out

    zsh = need_zsh()
    env = dict(env, PATH=f"{home}/.local/bin{os.pathsep}{env['PATH']}")
    script = f"source {plugin}; source {plugin}; whence -w awsv; awsv --version"
    proc = ok(run([zsh, "-f", "-c", script], env))
    assert proc.stdout.splitlines() == ["awsv: function", f"awsv {VERSION}"]
    assert proc.stderr == ""


# --- (d) uninstall ---------------------------------------------------------------


def test_uninstall_removes_exactly_what_was_installed(tmp_path: Path, pip_cache: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    make_user_files(home)
    (home / "omz").mkdir()
    (home / "omz/oh-my-zsh.sh").write_text("# stand-in for oh-my-zsh\n")
    other_plugin = home / "omz-custom/plugins/other/other.plugin.zsh"
    other_plugin.parent.mkdir(parents=True)
    other_plugin.write_text("other() { :; }\n")
    before = snapshot(home)

    env = installer_env(home, pip_cache, ZSH=str(home / "omz"), ZSH_CUSTOM=str(home / "omz-custom"))
    out = ok(run_install(env)).stdout
    assert "add awsv to plugins=(...)" in out
    installed = [
        home / "omz-custom/plugins/awsv/awsv.plugin.zsh",
        home / ".config/fish/conf.d/awsv.fish",
        home / ".local/bin/awsv",
        awsv_home(home) / "venv/bin/awsv",
        awsv_home(home) / "shell/bash/awsv.bash",
        awsv_home(home) / "manifest",
    ]
    for path in installed:
        assert path.exists(), path

    # Uninstall from a shell without the oh-my-zsh variables: the manifest knows.
    plain_env = installer_env(home, pip_cache)
    proc = ok(run_install(plain_env, "--uninstall"))
    assert "uninstalled" in proc.stdout
    for path in installed:
        assert not path.exists() and not path.is_symlink(), path
    assert not awsv_home(home).exists()
    assert not (home / "omz-custom/plugins/awsv").exists()
    assert not (home / ".config/fish").exists()  # the directories it made for conf.d too
    assert snapshot(home) == before  # user files byte for byte, and nothing left over

    again = ok(run_install(plain_env, "--uninstall"))
    assert "nothing to uninstall" in again.stdout


def _installed_agent(home: Path, env: dict[str, str]) -> int:
    """Store a key with the installed awsv and unlock: returns the agent's pid."""
    awsv = str(home / ".local/bin/awsv")
    agent_env = dict(env, AWSV_AGENT="auto", AWSV_FILE_PASSPHRASE="correct horse battery staple")
    ok(
        subprocess.run(
            [awsv, "add", "prod", "--force"],
            env=agent_env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=120,
            input="AKIAIOSFODNN7EXAMPLE\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        )
    )
    ok(subprocess.run([awsv, "unlock"], env=agent_env, cwd=home, capture_output=True, text=True, timeout=120))
    status = ok(
        subprocess.run(
            [awsv, "unlock", "--status", "--json"], env=agent_env, cwd=home, capture_output=True, text=True, timeout=120
        )
    )
    pid = int(json.loads(status.stdout)["pid"])
    assert _alive(pid)
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (it holds no memory); it only waits for its parent.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _gone_within(pid: int, seconds: float) -> bool:
    return wait_for(lambda: not _alive(pid), timeout=seconds)


@pytest.mark.parametrize("awsv_broken", [False, True], ids=["awsv-lock", "by-command-line"])
def test_uninstall_locks_and_stops_the_agent_first(tmp_path: Path, pip_cache: Path, awsv_broken: bool) -> None:
    """An unlocked agent running from the venv would outlive it, holding the vault key."""
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True, mode=0o700)
    env = installer_env(home, pip_cache)
    ok(run_install(env))
    pid = _installed_agent(home, env)
    try:
        if awsv_broken:  # the installed command cannot run: uninstall finds the agent itself
            (awsv_home(home) / "venv/bin/awsv").write_text("#!/bin/sh\nexit 1\n")
        proc = ok(run_install(env, "--uninstall"))
        assert _gone_within(pid, 30), f"the agent survived the uninstall:\n{proc.stdout}\n{proc.stderr}"
        assert "uninstalled" in proc.stdout
        said = "stopped the awsv agent (pid" if awsv_broken else "locked the vault"
        assert said in proc.stdout, proc.stdout
        assert not awsv_home(home).exists()
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


# --- (e) and other paths that need no install ------------------------------------


def test_uninstall_with_nothing_installed_is_a_clean_no_op(home: Path, tmp_path: Path) -> None:
    make_user_files(home)
    before = snapshot(home)
    proc = ok(run_install(installer_env(home, tmp_path / "pip"), "--uninstall"))
    assert "nothing to uninstall" in proc.stdout
    assert proc.stderr == ""
    assert snapshot(home) == before


def test_uninstall_never_follows_a_bad_manifest(home: Path, tmp_path: Path) -> None:
    """A damaged manifest cannot make uninstall delete what is not ours."""
    make_user_files(home)
    (home / ".local/bin/awsv").symlink_to("/usr/bin/true")  # the user's own awsv now
    manifest = awsv_home(home) / "manifest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(
        f"venv\t{home}/.aws\n"
        f"shell\t{home}/.local/share/awsv\n"
        f"plugin\t{home}/.config/awsv\n"
        f"link\t{home}/.local/bin/awsv\n"
        f"link\t{home}/.local/bin/other\n"
        f"dir\t{home}\n"
        f"bogus\t{home}/.zshrc\n"
    )
    before = snapshot(home, skip=(".local/lib",))
    proc = ok(run_install(installer_env(home, tmp_path / "pip"), "--uninstall"))
    assert snapshot(home, skip=(".local/lib",)) == before
    assert "skipped unexpected manifest entry" in proc.stderr
    assert "now points to /usr/bin/true" in proc.stderr
    assert not manifest.exists()


def test_install_refuses_to_replace_a_foreign_awsv_command(home: Path, tmp_path: Path) -> None:
    make_user_files(home)
    foreign = home / ".local/bin/awsv"
    foreign.write_text("#!/bin/sh\necho mine\n")
    before = snapshot(home)
    proc = run_install(installer_env(home, tmp_path / "pip"))
    assert proc.returncode == 1
    assert "awsv: error: ~/.local/bin/awsv already exists" in proc.stderr
    assert snapshot(home) == before  # refused before creating anything


def test_install_reports_an_unusable_python(home: Path, tmp_path: Path) -> None:
    for python, reason in (
        ("/nonexistent/python3", "is not an executable"),
        ("/bin/false", "is not Python >= 3.11"),
    ):
        proc = run_install(installer_env(home, tmp_path / "pip", AWSV_PYTHON=python))
        assert proc.returncode == 1
        first = proc.stderr.splitlines()[0]
        assert first == f"awsv: error: AWSV_PYTHON={python} {reason}"
        assert "hint:" in proc.stderr
        assert not awsv_home(home).exists()


def test_help_documents_options_and_variables(home: Path, tmp_path: Path) -> None:
    proc = ok(run_install(installer_env(home, tmp_path / "pip"), "--help"))
    for word in (
        "--uninstall",
        "AWSV_HOME",
        "AWSV_PYTHON",
        "AWSV_VENV_ARGS",
        "AWSV_PIP_ARGS",
        "ZSH_CUSTOM",
    ):
        assert word in proc.stdout
    bad = run_install(installer_env(home, tmp_path / "pip"), "--frobnicate")
    assert bad.returncode == 2
    assert bad.stderr.startswith("awsv: error: unknown argument: --frobnicate")

#!/usr/bin/env bash
# Install (or upgrade, or uninstall) awsv for the current user, from this checkout.
#
# Why this shape: awsv gets a private virtual environment so its dependencies
# never fight with the user's own Python packages; it is a real (non-editable)
# install so the clone can be deleted afterwards; and every path the installer
# creates is written to a manifest, so `--uninstall` removes exactly those and
# never touches the user's rc files, vault, config or ~/.aws.
#
# Written for bash 3.2 (macOS) as well as bash 5: no associative arrays, no
# ${var,,}, no empty-array expansions under `set -u`.
set -euo pipefail

MIN_PY_MAJOR=3
MIN_PY_MINOR=11

usage() {
    cat <<'EOF'
Usage: ./install.sh [--uninstall] [--help]

Installs awsv from this checkout for the current user:
  - a private virtual environment at $AWSV_HOME/venv (pip install, not editable:
    the checkout may be deleted afterwards);
  - a symlink ~/.local/bin/awsv pointing into that environment;
  - the shell integration in $AWSV_HOME/shell/{zsh,bash,fish}, the oh-my-zsh
    plugin in $ZSH_CUSTOM/plugins/awsv when oh-my-zsh is present, and
    ~/.config/fish/conf.d/awsv.fish when fish is installed (fish loads
    conf.d by itself).
It never edits your shell rc files: it prints the line to add.
Running it again upgrades in place. Everything it creates is listed in
$AWSV_HOME/manifest.

Options:
  --uninstall   lock the vault (stop a running awsv agent, which holds its key),
                then remove exactly what the manifest lists (never the vault in
                ~/.local/share/awsv, ~/.config/awsv or ~/.aws)
  -h, --help    show this help

Environment:
  AWSV_HOME       install location (default: ~/.local/lib/awsv)
  AWSV_PYTHON     Python >= 3.11 to build the environment with
                  (default: the first of python3, python3.13, python3.12,
                  python3.11 that is new enough)
  AWSV_VENV_ARGS  extra arguments for `python -m venv`
                  (e.g. --system-site-packages to reuse installed dependencies)
  AWSV_PIP_ARGS   extra arguments for `pip install`
                  (e.g. --no-index --find-links DIR for an offline install)
  ZSH, ZSH_CUSTOM where oh-my-zsh lives (default: ~/.oh-my-zsh, $ZSH/custom)
  XDG_CONFIG_HOME where fish's conf.d is (default: ~/.config)
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'awsv: warning: %s\n' "$*" >&2; }
die() {
    printf 'awsv: error: %s\n' "$1" >&2
    if [ -n "${2:-}" ]; then printf 'awsv: hint: %s\n' "$2" >&2; fi
    exit 1
}

# Show $HOME as ~ in messages, so the lines we print can be pasted as they are.
tilde() {
    # shellcheck disable=SC2088 # a literal ~ is the point
    case "$1" in
        "$HOME"/*) printf '~/%s' "${1#"$HOME"/}" ;;
        *) printf '%s' "$1" ;;
    esac
}

[ -n "${HOME:-}" ] || die "HOME is not set"

AWSV_HOME="${AWSV_HOME:-$HOME/.local/lib/awsv}"
case "$AWSV_HOME" in
    /*) ;;
    *) die "AWSV_HOME must be an absolute path (got '$AWSV_HOME')" ;;
esac
AWSV_HOME="${AWSV_HOME%/}"
VENV="$AWSV_HOME/venv"
SHELL_DIR="$AWSV_HOME/shell"
MANIFEST="$AWSV_HOME/manifest"
BIN_DIR="$HOME/.local/bin"
LINK="$BIN_DIR/awsv"

# --- manifest ---------------------------------------------------------------
# One entry per line, "KIND<TAB>PATH", in creation order. Kinds:
#   dir      a directory we had to create (removed only if empty)
#   venv     the virtual environment (removed recursively)
#   link     ~/.local/bin/awsv (removed only while it points into our venv)
#   shell    our copy of the shell integration (removed recursively)
#   plugin   the oh-my-zsh plugin directory (removed recursively)
#   fishconf ~/.config/fish/conf.d/awsv.fish (one file)
# An entry is written *before* the thing is created, so an interrupted install
# can still be re-run or uninstalled cleanly.
TAB="$(printf '\t')"
STAGE=""

# Temporary files live outside the user's directories and go away on any exit.
cleanup() {
    if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT

in_manifest() { # KIND PATH
    [ -f "$MANIFEST" ] && grep -Fxq -- "$1$TAB$2" "$MANIFEST"
}

record() { # KIND PATH: add once
    in_manifest "$1" "$2" || printf '%s\t%s\n' "$1" "$2" >>"$MANIFEST"
}

# Drop entries whose paths are gone (the user removed them), keeping the order.
prune_manifest() {
    local kind path kept
    [ -f "$MANIFEST" ] || return 0
    kept="$(mktemp "$AWSV_HOME/.manifest.XXXXXX")"
    while IFS="$TAB" read -r kind path; do
        [ -n "$path" ] || continue
        if [ -e "$path" ] || [ -L "$path" ]; then
            printf '%s\t%s\n' "$kind" "$path" >>"$kept"
        fi
    done <"$MANIFEST"
    chmod 644 "$kept"
    mv -f "$kept" "$MANIFEST"
}

# Create a directory and each missing parent, recording the ones we created.
# $AWSV_HOME must be made first: the manifest lives in it.
make_dir() {
    local dir="$1" missing="" d
    d="$dir"
    while [ ! -d "$d" ]; do
        missing="$d
$missing"
        d="$(dirname "$d")"
    done
    mkdir -p "$dir"
    while IFS= read -r d; do
        if [ -n "$d" ]; then record dir "$d"; fi
    done <<END_OF_DIRS
$missing
END_OF_DIRS
}

# --- Python -----------------------------------------------------------------
py_ok() { # PYTHON: runnable and new enough?
    "$1" -c "import sys; sys.exit(0 if sys.version_info >= ($MIN_PY_MAJOR, $MIN_PY_MINOR) else 1)" \
        >/dev/null 2>&1
}

# Sets PYTHON, or stops with a message saying what to install or set.
find_python() {
    local cand found=""
    if [ -n "${AWSV_PYTHON:-}" ]; then
        command -v "$AWSV_PYTHON" >/dev/null 2>&1 \
            || die "AWSV_PYTHON=$AWSV_PYTHON is not an executable" \
                "point AWSV_PYTHON at a Python >= $MIN_PY_MAJOR.$MIN_PY_MINOR, or unset it"
        py_ok "$AWSV_PYTHON" \
            || die "AWSV_PYTHON=$AWSV_PYTHON is not Python >= $MIN_PY_MAJOR.$MIN_PY_MINOR" \
                "point AWSV_PYTHON at a newer Python, or unset it"
        PYTHON="$AWSV_PYTHON"
        return 0
    fi
    for cand in python3 python3.14 python3.13 python3.12 python3.11; do
        if command -v "$cand" >/dev/null 2>&1; then
            [ -n "$found" ] || found="$cand"
            if py_ok "$cand"; then
                PYTHON="$cand"
                return 0
            fi
        fi
    done
    if [ -n "$found" ]; then
        die "awsv needs Python >= $MIN_PY_MAJOR.$MIN_PY_MINOR; $found is $("$found" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo 'unusable')" \
            "install a newer Python and set AWSV_PYTHON to it"
    fi
    die "awsv needs Python >= $MIN_PY_MAJOR.$MIN_PY_MINOR and no python3 was found on PATH" \
        "install Python 3.11 or newer, or set AWSV_PYTHON"
}

# --- install steps ----------------------------------------------------------
# Sets OMZ_PLUGIN to where the oh-my-zsh plugin goes, or to "" without oh-my-zsh.
detect_omz() {
    local omz="" custom
    OMZ_PLUGIN=""
    if [ -n "${ZSH:-}" ] && [ -f "$ZSH/oh-my-zsh.sh" ]; then
        omz="$ZSH"
    elif [ -f "$HOME/.oh-my-zsh/oh-my-zsh.sh" ]; then
        omz="$HOME/.oh-my-zsh"
    fi
    [ -n "$omz" ] || return 0
    custom="${ZSH_CUSTOM:-$omz/custom}"
    OMZ_PLUGIN="${custom%/}/plugins/awsv"
}

# Sets FISH_CONF to the conf.d file fish loads by itself, or to "" without fish.
detect_fish() {
    FISH_CONF=""
    if command -v fish >/dev/null 2>&1 || [ -d "${XDG_CONFIG_HOME:-$HOME/.config}/fish" ]; then
        FISH_CONF="${XDG_CONFIG_HOME:-$HOME/.config}"
        FISH_CONF="${FISH_CONF%/}/fish/conf.d/awsv.fish"
    fi
}

# Refuse, before creating anything, to take over paths someone else owns.
preflight() {
    local current
    if { [ -e "$VENV" ] || [ -L "$VENV" ]; } && ! in_manifest venv "$VENV"; then
        die "$(tilde "$VENV") exists but was not created by this installer" \
            "remove it, or set AWSV_HOME to another directory"
    fi
    if [ -L "$LINK" ]; then
        current="$(readlink "$LINK")"
        case "$current" in
            "$VENV"/*) ;;
            *) die "$(tilde "$LINK") already points to $current" \
                "it is not from this installer: remove it and run ./install.sh again" ;;
        esac
    elif [ -e "$LINK" ]; then
        die "$(tilde "$LINK") already exists and is not from this installer" \
            "remove or rename it and run ./install.sh again"
    fi
    if [ -n "$OMZ_PLUGIN" ] && { [ -e "$OMZ_PLUGIN" ] || [ -L "$OMZ_PLUGIN" ]; } \
        && ! in_manifest plugin "$OMZ_PLUGIN"; then
        die "$(tilde "$OMZ_PLUGIN") exists but was not installed by this installer" \
            "remove it and run ./install.sh again"
    fi
    if [ -n "$FISH_CONF" ] && { [ -e "$FISH_CONF" ] || [ -L "$FISH_CONF" ]; } \
        && ! in_manifest fishconf "$FISH_CONF"; then
        die "$(tilde "$FISH_CONF") exists but was not installed by this installer" \
            "remove it and run ./install.sh again"
    fi
}

# Sets VERSION to what the installed command reports.
install_venv() {
    local src="$1" f build
    record venv "$VENV"
    # Reuse a working environment (an upgrade); rebuild a broken one, e.g. after
    # the Python it was made from was removed.
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "Upgrading awsv in $(tilde "$VENV")"
    else
        say "Creating $(tilde "$VENV") with $("$PYTHON" -c 'import sys; print(sys.executable)')"
        set -f # AWSV_VENV_ARGS is split into words on purpose, never globbed
        # shellcheck disable=SC2086
        "$PYTHON" -m venv --clear ${AWSV_VENV_ARGS:-} "$VENV" \
            || die "could not create a virtual environment with $PYTHON" \
                "on Debian/Ubuntu install the python3-venv package"
        set +f
    fi

    # Build from a copy so the checkout stays clean (no build/ or *.egg-info)
    # and a read-only or concurrently used checkout still works. The copy is
    # named plain "awsv": pip keeps wheels built from a directory named like
    # "name-version" in its cache, which would only collect stale builds.
    STAGE="$(mktemp -d "${TMPDIR:-/tmp}/awsv-install.XXXXXX")"
    build="$STAGE/awsv"
    mkdir "$build"
    cp "$src/pyproject.toml" "$build/"
    for f in README.md LICENSE; do
        if [ -f "$src/$f" ]; then cp "$src/$f" "$build/"; fi
    done
    cp -R "$src/helper" "$build/helper"
    find "$build/helper" -name __pycache__ -type d -prune -exec rm -rf {} +

    say "Installing awsv and its dependencies (pip)"
    set -f # AWSV_PIP_ARGS, likewise
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --upgrade ${AWSV_PIP_ARGS:-} "$build" \
        || die "pip could not install awsv into $(tilde "$VENV")" \
            "see pip's message above; AWSV_PIP_ARGS passes extra options to pip"
    set +f
    rm -rf "$STAGE"
    STAGE=""

    [ -x "$VENV/bin/awsv" ] || die "pip did not create $(tilde "$VENV")/bin/awsv"
    VERSION="$("$VENV/bin/awsv" --version 2>/dev/null)" \
        || die "the installed awsv does not run ($(tilde "$VENV")/bin/awsv --version failed)"
    VERSION="${VERSION#awsv }"
}

install_link() {
    make_dir "$BIN_DIR"
    record link "$LINK"
    ln -sfn "$VENV/bin/awsv" "$LINK"
}

# A private copy, so the source lines we print keep working after the clone goes.
install_shell() {
    local src="$1" sh
    record shell "$SHELL_DIR"
    rm -rf "$SHELL_DIR"
    for sh in zsh bash fish; do
        mkdir -p "$SHELL_DIR/$sh"
        cp -R "$src/shell/$sh/." "$SHELL_DIR/$sh/"
    done
}

install_omz_plugin() {
    local src="$1"
    [ -n "$OMZ_PLUGIN" ] || return 0
    make_dir "$(dirname "$OMZ_PLUGIN")"
    record plugin "$OMZ_PLUGIN"
    rm -rf "$OMZ_PLUGIN"
    mkdir "$OMZ_PLUGIN"
    cp -R "$src/shell/zsh/." "$OMZ_PLUGIN/"
}

install_fish_conf() {
    local src="$1"
    [ -n "$FISH_CONF" ] || return 0
    make_dir "$(dirname "$FISH_CONF")"
    record fishconf "$FISH_CONF"
    cp "$src/shell/fish/awsv.fish" "$FISH_CONF.tmp.$$"
    chmod 644 "$FISH_CONF.tmp.$$"
    mv -f "$FISH_CONF.tmp.$$" "$FISH_CONF"
}

path_has_bin_dir() {
    case ":${PATH:-}:" in
        *":$BIN_DIR:"* | *":$BIN_DIR/:"*) return 0 ;;
        *) return 1 ;;
    esac
}

do_install() {
    local src
    src="$(cd "$(dirname "$0")" && pwd -P)"
    if [ ! -f "$src/pyproject.toml" ] || [ ! -d "$src/helper/awsv" ]; then
        die "run install.sh from an awsv checkout ($src has no pyproject.toml and helper/awsv)"
    fi

    detect_omz
    detect_fish
    preflight
    find_python

    make_dir "$AWSV_HOME"
    prune_manifest
    install_venv "$src"
    install_link
    install_shell "$src"
    install_omz_plugin "$src"
    install_fish_conf "$src"

    say ""
    say "Installed awsv $VERSION: $(tilde "$LINK") -> $(tilde "$VENV/bin/awsv")"
    if ! path_has_bin_dir; then
        warn "$(tilde "$BIN_DIR") is not on your PATH; add to your shell rc file: export PATH=\"\$HOME/.local/bin:\$PATH\""
    fi
    say ""
    say "Shell integration (install.sh never edits your rc files):"
    if [ -n "$OMZ_PLUGIN" ]; then
        say "  oh-my-zsh plugin installed in $(tilde "$OMZ_PLUGIN");"
        say "  add awsv to plugins=(...) in ~/.zshrc"
    else
        say "  zsh:  add to ~/.zshrc:   source $(tilde "$SHELL_DIR/zsh/awsv.plugin.zsh")"
    fi
    say "  bash: add to ~/.bashrc:  source $(tilde "$SHELL_DIR/bash/awsv.bash")"
    if [ -n "$FISH_CONF" ]; then
        say "  fish: loaded by itself from $(tilde "$FISH_CONF")"
    fi
    say "  prompt badge: put AWSV_PROMPT_AUTO=1 before that line (or \${AWSV_BADGE} in your prompt)"
    say ""
    say "Next steps:"
    say "  awsv add PROFILE     store a long-term access key in the encrypted vault"
    say "  awsv use PROFILE     temporary credentials in this shell (with the integration loaded;"
    say "                       without it: eval \"\$(awsv use PROFILE)\")"
    say "  awsv --help          everything else"
}

# --- uninstall --------------------------------------------------------------
# Refuse entries that do not have the shape this installer writes, so a damaged
# or edited manifest can never make us delete something else.
safe_entry() {
    local kind="$1" path="$2"
    case "$path" in
        /*) ;;
        *) return 1 ;;
    esac
    case "$path" in
        */../* | */.. | */./* | */.) return 1 ;;
    esac
    case "$kind" in
        venv) [ "$path" = "$VENV" ] ;;
        shell) [ "$path" = "$SHELL_DIR" ] ;;
        plugin) case "$path" in */plugins/awsv) return 0 ;; *) return 1 ;; esac ;;
        fishconf) case "$path" in */fish/conf.d/awsv.fish) return 0 ;; *) return 1 ;; esac ;;
        link) case "$path" in */awsv) return 0 ;; *) return 1 ;; esac ;;
        dir) [ "$path" != "/" ] && [ "$path" != "$HOME" ] ;;
        *) return 1 ;;
    esac
}

remove_entry() {
    local kind="$1" path="$2" target
    case "$kind" in
        link)
            [ -L "$path" ] || return 0
            target="$(readlink "$path")"
            case "$target" in
                "$VENV"/*)
                    rm -f "$path"
                    say "removed $(tilde "$path")"
                    ;;
                *) warn "left $(tilde "$path"): it now points to $target, not to our venv" ;;
            esac
            ;;
        fishconf)
            if [ -f "$path" ] || [ -L "$path" ]; then
                rm -f "$path"
                say "removed $(tilde "$path")"
            fi
            ;;
        venv | shell | plugin)
            if [ -e "$path" ] || [ -L "$path" ]; then
                rm -rf "$path"
                say "removed $(tilde "$path")"
            fi
            ;;
    esac
}

# PIDs of this user's awsv agents started from our venv (`<venv python> -m awsv.agent`).
agent_pids() {
    ps -o pid= -o args= -U "$(id -u)" 2>/dev/null | while read -r pid args; do
        case "$args" in
            "$VENV"/bin/python*" -m awsv.agent"*) printf '%s\n' "$pid" ;;
        esac
    done
}

# An unlocked agent holds the vault key in memory; once the venv is gone nothing
# can tell it to forget. So lock it first with the installed awsv (`awsv lock`),
# and if that fails, end our venv's agents by their command line.
stop_agent() {
    local out pid pids left
    if [ -x "$VENV/bin/awsv" ] && out="$(env -u AWSV_AGENT "$VENV/bin/awsv" lock 2>&1)"; then
        case "$out" in
            *"nothing to lock"*) ;;
            *) say "locked the vault: the awsv agent forgot the key and stopped" ;;
        esac
    fi
    pids="$(agent_pids)"
    [ -n "$pids" ] || return 0
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        left="$(agent_pids)"
        [ -n "$left" ] || break
        sleep 0.1
    done
    for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
    say "stopped the awsv agent (pid $(printf '%s' "$pids" | tr '\n' ' ' | sed 's/ *$//')): it no longer holds the vault key"
}

do_uninstall() {
    local kind path dirs="" line entries
    if [ ! -f "$MANIFEST" ]; then
        say "awsv: nothing to uninstall (no manifest at $(tilde "$MANIFEST"))"
        return 0
    fi
    stop_agent
    # Newest entries first, so files go before the directories holding them.
    entries="$(sed -n '1!G;h;$p' "$MANIFEST")"
    while IFS="$TAB" read -r kind path; do
        [ -n "$kind" ] || continue
        if ! safe_entry "$kind" "$path"; then
            warn "skipped unexpected manifest entry: $kind $path"
            continue
        fi
        if [ "$kind" = dir ]; then
            dirs="$dirs$path
"
        else
            remove_entry "$kind" "$path"
        fi
    done <<END_OF_ENTRIES
$entries
END_OF_ENTRIES
    rm -f "$MANIFEST"
    say "removed $(tilde "$MANIFEST")"
    # Directories we created, deepest (newest) first, and only when empty.
    printf '%s' "$dirs" | while IFS= read -r line; do
        [ -n "$line" ] || continue
        if [ -d "$line" ] && rmdir "$line" 2>/dev/null; then
            say "removed $(tilde "$line")/"
        fi
    done
    if [ -d "$AWSV_HOME" ] && rmdir "$AWSV_HOME" 2>/dev/null; then
        say "removed $(tilde "$AWSV_HOME")/"
    fi
    say "awsv uninstalled. Your vault, your awsv settings and ~/.aws were left alone;"
    say "remove the awsv 'source' lines or the awsv plugin from your shell rc files yourself."
}

usage_error() {
    printf 'awsv: error: %s\n' "$1" >&2
    printf 'awsv: hint: see ./install.sh --help\n' >&2
    exit 2
}

main() {
    [ $# -le 1 ] || usage_error "too many arguments: $*"
    case "${1:-}" in
        "") do_install ;;
        --uninstall) do_uninstall ;;
        -h | --help) usage ;;
        *) usage_error "unknown argument: $1" ;;
    esac
}

main "$@"

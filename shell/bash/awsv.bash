# awsv for bash: the `awsv` function, a prompt badge, completion, silent refresh.
#
# Load it from ~/.bashrc, either way:
#   source ~/.local/lib/awsv/shell/bash/awsv.bash    (the path install.sh prints)
#   eval "$(awsv shell-init bash)"
# Needs bash 4.2 or newer for the badge and completion; older bash gets only
# the `awsv` function. Sourcing it again is harmless: definitions are replaced,
# the hook is registered once, and settings you made are never overwritten.
#
# Rules this file keeps: names start with `awsv`, `_awsv_` or `AWSV_`;
# external programs run only through `command` and never while a prompt is
# drawn (the badge reads only variables and the builtin clock); the exit status
# of your last command survives the hook; PROMPT_COMMAND is appended to, never
# replaced; every function works in a shell under `set -euo pipefail` and with
# any setting unset.

# The wrapper: `use`, `off` and `pick` change this shell, the rest runs as is.
# Typed at the prompt (stdout is the terminal) it applies the helper's code
# itself; inside `$(...)`, a pipe or a redirection it prints the code as the
# helper does, so `eval "$(awsv use prod)"` works with or without this file.
function awsv {
    case ${1-} in
        use | off | pick)
            local _awsv_arg _awsv_out
            for _awsv_arg in "$@"; do
                # Help is text, not code: never evaluate it.
                if [[ $_awsv_arg == -h || $_awsv_arg == --help ]]; then
                    command awsv "$@"
                    return
                fi
            done
            if [[ ! -t 1 ]]; then
                # The caller evaluates it; a failed helper prints code that only fails.
                command awsv "$1" --shell bash "${@:2}" || return
                return 0
            fi
            # Only a successful helper's output is evaluated.
            _awsv_out=$(command awsv "$1" --shell bash "${@:2}") || return
            builtin eval "$_awsv_out"
            if builtin declare -F _awsv_session_changed >/dev/null; then
                _awsv_session_changed
            fi
            return 0
            ;;
    esac
    # Tells `awsv doctor` that the integration is loaded in the shell that ran it.
    AWSV_SHELL_INTEGRATION=bash command awsv "$@"
}

if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 2))); then
    builtin printf 'awsv: bash %s is too old for the prompt badge and completion (4.2 or newer); only the awsv function is loaded\n' \
        "$BASH_VERSION" >&2
    # shellcheck disable=SC2317 # exit only when run instead of sourced
    builtin return 0 2>/dev/null || builtin exit 0
fi

# ---------------------------------------------------------------------------
# Settings: set any of them before loading this file; yours always win.
# Default placement of the badge: 1 puts it in front of PS1.
[[ ${AWSV_PROMPT_AUTO+x} ]] || AWSV_PROMPT_AUTO=0
[[ ${AWSV_PROMPT_PREFIX+x} ]] || AWSV_PROMPT_PREFIX='['
[[ ${AWSV_PROMPT_SUFFIX+x} ]] || AWSV_PROMPT_SUFFIX=']'
[[ ${AWSV_PROMPT_SHOW_ACCOUNT+x} ]] || AWSV_PROMPT_SHOW_ACCOUNT=1
# Colour of a profile with no awsv_color and no matching pattern ('' = none).
[[ ${AWSV_PROMPT_COLOR+x} ]] || AWSV_PROMPT_COLOR=cyan
# An array of 'GLOB=COLOR' pairs matched against the profile name, first match wins.
builtin declare -p AWSV_PROMPT_COLORS >/dev/null 2>&1 || AWSV_PROMPT_COLORS=()
# Seconds left below which the time turns AWSV_PROMPT_WARN_COLOR.
[[ ${AWSV_PROMPT_WARN+x} ]] || AWSV_PROMPT_WARN=600
[[ ${AWSV_PROMPT_WARN_COLOR+x} ]] || AWSV_PROMPT_WARN_COLOR=yellow
[[ ${AWSV_PROMPT_EXPIRED_TEXT+x} ]] || AWSV_PROMPT_EXPIRED_TEXT=expired
[[ ${AWSV_PROMPT_EXPIRED_COLOR+x} ]] || AWSV_PROMPT_EXPIRED_COLOR=red
# Shown instead of a time for long-term keys (awsv use --no-session).
[[ ${AWSV_PROMPT_KEY_TEXT+x} ]] || AWSV_PROMPT_KEY_TEXT=key
# Appended when a silent refresh needs you (a passphrase or MFA code) or failed.
[[ ${AWSV_PROMPT_MARK+x} ]] || AWSV_PROMPT_MARK='!'
# Silent refresh: on/off, how long before expiry, how often at most (seconds).
[[ ${AWSV_REFRESH+x} ]] || AWSV_REFRESH=1
[[ ${AWSV_REFRESH_WINDOW+x} ]] || AWSV_REFRESH_WINDOW=600
[[ ${AWSV_REFRESH_INTERVAL+x} ]] || AWSV_REFRESH_INTERVAL=60
# State (not settings): the rendered badge and the refresh bookkeeping.
[[ ${AWSV_BADGE+x} ]] || AWSV_BADGE=''
[[ ${_awsv_next_try+x} ]] || _awsv_next_try=0
[[ ${_awsv_stuck+x} ]] || _awsv_stuck=''
[[ ${_awsv_hinted+x} ]] || _awsv_hinted=''

# A new session (or none): forget the refresh state of the old one.
function _awsv_session_changed {
    _awsv_next_try=0
    _awsv_stuck=''
    _awsv_render
}

# ---------------------------------------------------------------------------
# The badge. Reads variables only; sets AWSV_BADGE. Colour codes are wrapped
# in \001...\002 so readline knows they take no room (\[ \] work only in PS1
# itself). What depends only on the session and the settings (colours, name,
# account) is worked out once per change of them; a render adds the time left.

# The clock without a process: $EPOCHSECONDS (bash 5), else printf's %(%s)T.
if [[ -n ${EPOCHSECONDS-} ]]; then
    function _awsv_now { _awsv_t=$EPOCHSECONDS; }
else
    function _awsv_now { builtin printf -v _awsv_t '%(%s)T' -1; }
fi

# REPLY: the colour-start escape for a name, 0-255 or #rrggbb; '' otherwise.
function _awsv_color_on {
    local sgr=''
    case $1 in
        black) sgr=30 ;;
        red) sgr=31 ;;
        green) sgr=32 ;;
        yellow) sgr=33 ;;
        blue) sgr=34 ;;
        magenta) sgr=35 ;;
        cyan) sgr=36 ;;
        white) sgr=37 ;;
        [0-9] | [0-9][0-9] | [01][0-9][0-9] | 2[0-4][0-9] | 25[0-5]) sgr="38;5;$((10#$1))" ;;
        '#'[[:xdigit:]][[:xdigit:]][[:xdigit:]][[:xdigit:]][[:xdigit:]][[:xdigit:]])
            sgr="38;2;$((16#${1:1:2}));$((16#${1:3:2}));$((16#${1:5:2}))"
            ;;
    esac
    REPLY=${sgr:+$'\001\e['"${sgr}m"$'\002'}
}

# Everything of the badge but the time: sets _awsv_head, _awsv_on, _awsv_warn_on,
# _awsv_exp_on and _awsv_render_key ($1).
function _awsv_render_setup {
    local name=${AWSV_ALIAS:-$AWSV_PROFILE} color=${AWSV_COLOR-} pair REPLY
    if [[ -z $color ]]; then
        for pair in ${AWSV_PROMPT_COLORS[@]+"${AWSV_PROMPT_COLORS[@]}"}; do
            # shellcheck disable=SC2053 # the left side of the pair is a glob on purpose
            if [[ $AWSV_PROFILE == ${pair%=*} ]]; then
                color=${pair##*=}
                break
            fi
        done
        [[ -n $color ]] || color=${AWSV_PROMPT_COLOR-}
    fi
    _awsv_color_on "$color"
    _awsv_on=$REPLY
    _awsv_color_on "${AWSV_PROMPT_WARN_COLOR-}"
    _awsv_warn_on=$REPLY
    _awsv_color_on "${AWSV_PROMPT_EXPIRED_COLOR-}"
    _awsv_exp_on=$REPLY
    _awsv_head=${AWSV_PROMPT_PREFIX-}$_awsv_on$name
    if [[ ${AWSV_PROMPT_SHOW_ACCOUNT-} == 1 && -n ${AWSV_ACCOUNT-} && $AWSV_ACCOUNT != *[!0-9]* ]]; then
        _awsv_head+=" $AWSV_ACCOUNT"
    fi
    _awsv_render_key=$1
}

function _awsv_render {
    if [[ -z ${AWSV_PROFILE-} ]]; then
        AWSV_BADGE=''
        return 0
    fi
    local key="$AWSV_PROFILE|${AWSV_COLOR-}|${AWSV_ALIAS-}|${AWSV_ACCOUNT-}|${AWSV_PROMPT_COLORS[*]-}|${AWSV_PROMPT_COLOR-}|${AWSV_PROMPT_SHOW_ACCOUNT-}|${AWSV_PROMPT_PREFIX-}|${AWSV_PROMPT_WARN_COLOR-}|${AWSV_PROMPT_EXPIRED_COLOR-}"
    [[ $key == "${_awsv_render_key-}" ]] || _awsv_render_setup "$key"
    local text on=$_awsv_on ton=$_awsv_on off=$'\001\e[39m\002' left
    if [[ -n ${AWSV_EXPIRES-} && $AWSV_EXPIRES != *[!0-9]* ]]; then
        _awsv_now
        left=$((AWSV_EXPIRES - _awsv_t))
        if ((left <= 0)); then
            text=${AWSV_PROMPT_EXPIRED_TEXT-}
            ton=$_awsv_exp_on
        else
            if ((left < 60)); then
                text='<1m'
            elif ((left < 3600)); then
                text=$((left / 60))m
            else
                builtin printf -v text '%dh%02dm' $((left / 3600)) $((left % 3600 / 60))
            fi
            if [[ -n ${AWSV_PROMPT_WARN-} && $AWSV_PROMPT_WARN != *[!0-9]* ]] && ((left < AWSV_PROMPT_WARN)); then
                ton=$_awsv_warn_on
            fi
        fi
    else
        text=${AWSV_PROMPT_KEY_TEXT-}
        ton=$_awsv_warn_on
    fi
    if [[ $ton == "$on" ]]; then
        AWSV_BADGE="$_awsv_head $text${on:+$off}"
    else
        AWSV_BADGE="$_awsv_head${on:+$off} $ton$text${ton:+$off}"
    fi
    if [[ -n ${_awsv_stuck-} && $_awsv_stuck == "$AWSV_PROFILE:${AWSV_EXPIRES-}" ]]; then
        AWSV_BADGE+="$_awsv_exp_on${AWSV_PROMPT_MARK-}${_awsv_exp_on:+$off}"
    fi
    AWSV_BADGE+=${AWSV_PROMPT_SUFFIX-}
    return 0
}

# For PS1='$(awsv_prompt_info)...' (a subshell per prompt); '${AWSV_BADGE}' is free.
function awsv_prompt_info {
    _awsv_render
    builtin printf '%s' "$AWSV_BADGE"
}

# ---------------------------------------------------------------------------
# Refresh: renew the session shortly before it expires, without asking.

# Called by the hook when the session is within AWSV_REFRESH_WINDOW of expiry
# (or past it) and the last attempt is AWSV_REFRESH_INTERVAL ago; $1 is the window.
function _awsv_refresh {
    local window=$1 interval=60
    [[ -n ${AWSV_REFRESH_INTERVAL-} && $AWSV_REFRESH_INTERVAL != *[!0-9]* ]] && interval=$AWSV_REFRESH_INTERVAL
    _awsv_now
    _awsv_next_try=$((_awsv_t + interval))

    local key="$AWSV_PROFILE:$AWSV_EXPIRES" profile=$AWSV_PROFILE out rc=0
    local -a args=(use --no-prompt --quiet --shell bash)
    [[ -n ${AWS_REGION-} ]] && args+=(--region "$AWS_REGION")
    # AWSV_MIN_TTL: cached sessions closer than the window to expiry are renewed too.
    # `|| rc=$?`: a failure (3: needs input) is an answer here, never a reason for set -e to exit.
    out=$(AWSV_MIN_TTL=$window command awsv "${args[@]}" -- "$profile" </dev/null 2>/dev/null) || rc=$?
    if ((rc == 0)) && [[ -n $out ]]; then
        builtin eval "$out"
        _awsv_stuck=''
        return 0
    fi
    _awsv_stuck=$key
    [[ ${_awsv_hinted-} == "$key" ]] && return 0
    _awsv_hinted=$key
    if ((rc == 3)); then
        builtin printf "awsv: renewing '%s' needs your passphrase or MFA code: run awsv use %s\n" \
            "$profile" "$profile" >&2
    else
        builtin printf "awsv: could not renew '%s' (status %s): run awsv use %s to see why\n" \
            "$profile" "$rc" "$profile" >&2
    fi
    return 0
}

# ---------------------------------------------------------------------------
# The prompt hook: refresh if due, render, keep the default placement.
function _awsv_precmd {
    local _awsv_status=$?
    if [[ -n ${AWSV_PROFILE-} ]]; then
        # The cheap test inline: a function call costs more than the whole test.
        if [[ ${AWSV_REFRESH-} == 1 && -n ${AWSV_EXPIRES-} && $AWSV_EXPIRES != *[!0-9]* ]]; then
            local window=600
            [[ -n ${AWSV_REFRESH_WINDOW-} && $AWSV_REFRESH_WINDOW != *[!0-9]* ]] && window=$AWSV_REFRESH_WINDOW
            _awsv_now
            if ((_awsv_t >= ${_awsv_next_try:-0} && AWSV_EXPIRES - _awsv_t <= window)); then
                _awsv_refresh "$window"
            fi
        fi
        _awsv_render
    else
        AWSV_BADGE=''
    fi
    # A theme may rebuild PS1 every prompt; put the badge back in front.
    # shellcheck disable=SC2016 # the unexpanded text is what PS1 holds
    if [[ ${AWSV_PROMPT_AUTO-} == 1 && ${PS1-} != *'${AWSV_BADGE'* ]] && builtin shopt -q promptvars; then
        PS1='${AWSV_BADGE:+$AWSV_BADGE }'"${PS1-}"
    fi
    return "$_awsv_status"
}

# Run after whatever PROMPT_COMMAND already does, once. bash-preexec users get
# a precmd function instead (it owns PROMPT_COMMAND); bash 5.1's array form
# gets one more element.
#
# The hook runs as `_awsv_precmd && :`. It returns the status it found, so a
# PROMPT_COMMAND part after it (a theme's) still sees your last command's $?;
# as the left side of `&&` that status never makes `set -e` end the shell,
# and nothing inside the hook is subject to `set -e` either (bash's rule for
# `&&` lists). bash itself restores $? after PROMPT_COMMAND.
_AWSV_HOOK='_awsv_precmd && :'
function _awsv_install_hook {
    local item
    if [[ -n ${__bp_imported-} ]]; then
        for item in ${precmd_functions[@]+"${precmd_functions[@]}"}; do
            [[ $item == _awsv_precmd ]] && return 0
        done
        precmd_functions+=(_awsv_precmd)
        return 0
    fi
    # Which form PROMPT_COMMAND has: ${PROMPT_COMMAND@a} alone fails under set -u
    # when it is unset, and an array's element 0 may be unset; its keys never fail.
    local -a keys=("${!PROMPT_COMMAND[@]}")
    local attrs=''
    ((${#keys[@]})) && attrs=${PROMPT_COMMAND[${keys[0]}]@a}
    if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))) \
        && [[ $attrs == *a* ]]; then
        for item in "${PROMPT_COMMAND[@]}"; do
            [[ $item == *_awsv_precmd* ]] && return 0
        done
        PROMPT_COMMAND+=("$_AWSV_HOOK")
    else
        [[ ${PROMPT_COMMAND-} == *_awsv_precmd* ]] && return 0
        # shellcheck disable=SC2128,SC2178 # this branch is the string form
        PROMPT_COMMAND=${PROMPT_COMMAND:+${PROMPT_COMMAND}$'\n'}$_AWSV_HOOK
    fi
    return 0
}
_awsv_install_hook

# ---------------------------------------------------------------------------
# Completion. The command line's surface comes from the helper once per shell
# (`awsv shell-init --completion-data`); profile names from `awsv list
# --names`, cached in ~/.cache/awsv/profile-names with the config file's mtime
# (bash cannot stat without a process, but `-nt` compares two files' mtimes).

function _awsv_load_spec {
    [[ -n ${_awsv_spec_loaded-} ]] && return 0
    declare -gA _awsv_alias=() _awsv_optarg=() _awsv_cmd_opts=() _awsv_cmd_pos=()
    declare -ga _awsv_cmds=()
    local kind a b c
    while IFS=$'\t' builtin read -r kind a b c _; do
        case $kind in
            command) _awsv_cmds+=("$a") ;;
            alias) _awsv_alias[$a]=$b ;;
            option)
                _awsv_optarg["$a $b"]=$c
                [[ $b == --* ]] && _awsv_cmd_opts[$a]+=" $b"
                ;;
            positional) _awsv_cmd_pos[$a]+=" $b:$c" ;;
        esac
    done < <(command awsv shell-init --completion-data 2>/dev/null)
    ((${#_awsv_cmds[@]})) || return 1
    _awsv_spec_loaded=1
}

# Sets _awsv_names to the profile names of the current config file.
function _awsv_profiles {
    declare -ga _awsv_names=()
    local cfg=${AWS_CONFIG_FILE:-$HOME/.aws/config}
    # shellcheck disable=SC2088 # a literal ~ in AWS_CONFIG_FILE, as botocore expands it
    [[ $cfg == '~/'* ]] && cfg=$HOME/${cfg#'~/'}
    [[ -f $cfg ]] || return 0
    local dir=${XDG_CACHE_HOME:-$HOME/.cache}/awsv
    local cache=$dir/profile-names out
    local -a lines
    # Valid while the config's mtime is exactly the one copied onto the cache.
    if [[ -f $cache && ! $cfg -nt $cache && ! $cache -nt $cfg ]]; then
        builtin mapfile -t lines <"$cache"
        if [[ ${lines[0]-} == "$cfg" ]]; then
            _awsv_names=("${lines[@]:1}")
            return 0
        fi
    fi
    local stamp=$cache.$$.stamp tmp=$cache.$$
    [[ -d $dir ]] || command mkdir -p -m 700 -- "$dir" 2>/dev/null
    # The config's mtime is taken before the helper reads it: an edit made
    # meanwhile leaves the config newer than the cache, so it is read again.
    command touch -r "$cfg" -- "$stamp" 2>/dev/null
    out=$(command awsv list --names 2>/dev/null) || return 0
    [[ -n $out ]] && builtin mapfile -t _awsv_names <<<"$out"
    if [[ -f $stamp ]]; then
        builtin printf '%s\n' "$cfg" ${_awsv_names[@]+"${_awsv_names[@]}"} 2>/dev/null >|"$tmp" \
            && command touch -r "$stamp" -- "$tmp" \
            && command mv -f -- "$tmp" "$cache"
        command rm -f -- "$stamp" "$tmp"
    fi
    return 0
}

# Adds to COMPREPLY the arguments that start with $cur (from the caller).
function _awsv_reply {
    local w
    for w in "$@"; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$w")
    done
    return 0
}

# Completes a value of kind $1: profile, * (anything: files), or a|b|c.
function _awsv_complete_value {
    local -a choices
    case $1 in
        profile)
            _awsv_profiles
            _awsv_reply ${_awsv_names[@]+"${_awsv_names[@]}"}
            ;;
        '*') compopt -o default 2>/dev/null ;;
        *)
            IFS='|' builtin read -ra choices <<<"$1"
            _awsv_reply "${choices[@]}"
            ;;
    esac
    return 0
}

# Completes a command line starting at word $1 (exec's program and arguments).
function _awsv_complete_command {
    if builtin declare -F _command_offset >/dev/null; then
        _command_offset "$1" # from the bash-completion package
    elif ((COMP_CWORD == $1)); then
        builtin mapfile -t COMPREPLY < <(builtin compgen -c -- "$cur")
    else
        compopt -o default 2>/dev/null
    fi
    return 0
}

function _awsv_complete {
    COMPREPLY=()
    local cur=${COMP_WORDS[COMP_CWORD]-} prev=${COMP_WORDS[COMP_CWORD - 1]-}
    _awsv_load_spec || return 0
    local i=1 cmd='' cmdpos=0 w
    while ((i < COMP_CWORD)); do
        w=${COMP_WORDS[i]}
        if [[ $w == --backend ]]; then
            ((i += 2))
        elif [[ $w == -* ]]; then
            ((i++))
        else
            cmd=$w
            cmdpos=$i
            break
        fi
    done
    local -a opts pos
    local arg
    if [[ -z $cmd ]]; then
        arg=${_awsv_optarg["awsv $prev"]-}
        if [[ -n $arg && $arg != - ]]; then
            _awsv_complete_value "$arg"
        elif [[ $cur == -* ]]; then
            builtin read -ra opts <<<"${_awsv_cmd_opts[awsv]-}"
            _awsv_reply "${opts[@]}"
        else
            _awsv_reply "${_awsv_cmds[@]}"
        fi
        return 0
    fi
    cmd=${_awsv_alias[$cmd]:-$cmd}

    arg=${_awsv_optarg["$cmd $prev"]-}
    if [[ -n $arg && $arg != - ]]; then
        _awsv_complete_value "$arg"
        return 0
    fi
    local j n=0 spec
    for ((j = cmdpos + 1; j < COMP_CWORD; j++)); do
        if [[ ${COMP_WORDS[j]} == -- ]]; then
            _awsv_complete_command $((j + 1))
            return 0
        fi
    done
    if [[ $cur == -* ]]; then
        builtin read -ra opts <<<"${_awsv_cmd_opts[$cmd]-}"
        _awsv_reply "${opts[@]}"
        return 0
    fi
    builtin read -ra pos <<<"${_awsv_cmd_pos[$cmd]-}"
    for ((j = cmdpos + 1; j < COMP_CWORD; j++)); do
        w=${COMP_WORDS[j]}
        if [[ $w == -* ]]; then
            arg=${_awsv_optarg["$cmd $w"]-}
            [[ $w != *=* && -n $arg && $arg != - ]] && ((j++))
            continue
        fi
        if [[ ${pos[n]-} == command:* ]]; then
            _awsv_complete_command "$j"
            return 0
        fi
        ((n++))
    done
    spec=${pos[n]-}
    if [[ -z $spec && ${#pos[@]} -gt 0 && ${pos[${#pos[@]} - 1]} == *:1 ]]; then
        spec=${pos[${#pos[@]} - 1]}
    fi
    [[ -n $spec ]] || return 0
    if [[ $spec == command:* ]]; then
        _awsv_complete_command "$COMP_CWORD"
        return 0
    fi
    _awsv_complete_value "${spec%:*}"
}

complete -F _awsv_complete awsv

# awsv for zsh: the `awsv` function, a prompt badge, completion, silent refresh.
#
# Load it any of these ways (README.md next to this file has the details):
#   plugins=(... awsv)                      oh-my-zsh, after ./install.sh
#   source /path/to/awsv.plugin.zsh         plain zsh, antidote, zinit, ...
#   eval "$(awsv shell-init zsh)"           plain zsh, path found by awsv
# Sourcing it again is harmless: every definition is replaced in place, every
# hook is registered once, and settings you made are never overwritten.
#
# Rules this file keeps: names start with `awsv`, `_awsv_` or `AWSV_`; every
# function starts with `emulate -L zsh`; external programs run only through
# `command awsv`, and never while a prompt is drawn (the badge reads only
# variables and $EPOCHSECONDS).

# Modules are builtins, not programs: loading them forks nothing.
builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null
builtin zmodload -F zsh/stat b:zstat 2>/dev/null
builtin autoload -Uz add-zsh-hook

# ---------------------------------------------------------------------------
# Settings: set any of them before loading the plugin; yours always win.
() {
  emulate -L zsh
  # Default placement of the badge: 1 puts it at the left of RPROMPT.
  (( ${+AWSV_PROMPT_AUTO} ))          || typeset -g AWSV_PROMPT_AUTO=0
  (( ${+AWSV_PROMPT_PREFIX} ))        || typeset -g AWSV_PROMPT_PREFIX='['
  (( ${+AWSV_PROMPT_SUFFIX} ))        || typeset -g AWSV_PROMPT_SUFFIX=']'
  (( ${+AWSV_PROMPT_SHOW_ACCOUNT} ))  || typeset -g AWSV_PROMPT_SHOW_ACCOUNT=1
  # Colour of a profile with no awsv_color and no matching pattern ('' = none).
  (( ${+AWSV_PROMPT_COLOR} ))         || typeset -g AWSV_PROMPT_COLOR=cyan
  # 'GLOB=COLOR' pairs matched against the profile name, first match wins.
  (( ${+AWSV_PROMPT_COLORS} ))        || typeset -ga AWSV_PROMPT_COLORS=()
  # Seconds left below which the time turns AWSV_PROMPT_WARN_COLOR.
  (( ${+AWSV_PROMPT_WARN} ))          || typeset -g AWSV_PROMPT_WARN=600
  (( ${+AWSV_PROMPT_WARN_COLOR} ))    || typeset -g AWSV_PROMPT_WARN_COLOR=yellow
  (( ${+AWSV_PROMPT_EXPIRED_TEXT} ))  || typeset -g AWSV_PROMPT_EXPIRED_TEXT=expired
  (( ${+AWSV_PROMPT_EXPIRED_COLOR} )) || typeset -g AWSV_PROMPT_EXPIRED_COLOR=red
  # Shown instead of a time for long-term keys (awsv use --no-session).
  (( ${+AWSV_PROMPT_KEY_TEXT} ))      || typeset -g AWSV_PROMPT_KEY_TEXT=key
  # Appended when a silent refresh needs you (a passphrase or MFA code) or failed.
  (( ${+AWSV_PROMPT_MARK} ))          || typeset -g AWSV_PROMPT_MARK='!'
  # Silent refresh: on/off, how long before expiry, how often at most (seconds).
  (( ${+AWSV_REFRESH} ))              || typeset -g AWSV_REFRESH=1
  (( ${+AWSV_REFRESH_WINDOW} ))       || typeset -g AWSV_REFRESH_WINDOW=600
  (( ${+AWSV_REFRESH_INTERVAL} ))     || typeset -g AWSV_REFRESH_INTERVAL=60
  # State (not settings): the rendered badge and the refresh bookkeeping.
  (( ${+AWSV_BADGE} ))                || typeset -g AWSV_BADGE=''
  (( ${+_awsv_next_try} ))            || typeset -gi _awsv_next_try=0
  (( ${+_awsv_stuck} ))               || typeset -g _awsv_stuck=''
  (( ${+_awsv_hinted} ))              || typeset -g _awsv_hinted=''
}

# The default placement needs prompt_subst so RPROMPT can hold `${AWSV_BADGE}`
# (a parameter expansion: no fork). oh-my-zsh sets it anyway.
[[ ${AWSV_PROMPT_AUTO-} == 1 ]] && builtin setopt prompt_subst

# ---------------------------------------------------------------------------
# The wrapper: `use`, `off` and `pick` change this shell, the rest runs as is.
# Typed at the prompt (stdout is the terminal) it applies the helper's code
# itself; inside `$(...)`, a pipe or a redirection it prints the code as the
# helper does, so `eval "$(awsv use prod)"` works with or without this file.
function awsv {
  emulate -L zsh
  if [[ ${1-} == (use|off|pick) ]] && (( ! ${argv[(I)(-h|--help)]} )); then
    if [[ ! -t 1 ]]; then
      # The caller evaluates it; a failed helper prints code that only fails.
      command awsv "$1" --shell zsh "${@:2}"
      return
    fi
    local _awsv_out
    # Ctrl-C at a passphrase or MFA prompt: the helper says so and exits 130.
    # Without a trap of its own (local: emulate -L sets local_traps) zsh would
    # abort this function too and leave $? at 2.
    trap ':' INT
    # Only a successful helper's output is evaluated.
    _awsv_out="$(command awsv "$1" --shell zsh "${@:2}")" || return
    builtin eval "$_awsv_out"
    _awsv_session_changed
    return 0
  fi
  # Tells `awsv doctor` that the integration is loaded in the shell that ran it.
  AWSV_SHELL_INTEGRATION=zsh command awsv "$@"
}

# A new session (or none): forget the refresh state of the old one.
function _awsv_session_changed {
  emulate -L zsh
  _awsv_next_try=0
  _awsv_stuck=''
  _awsv_render
}

# ---------------------------------------------------------------------------
# The badge. Reads variables only; sets AWSV_BADGE (prompt escapes included).
# What depends only on the session and the settings (colours, name, account)
# is worked out once per change of them; a render adds only the time left.

# The colour-start escape for $1 when both shells can draw it, else ''.
function _awsv_color_on {
  emulate -L zsh
  builtin setopt extended_glob
  REPLY=''
  if [[ $1 == (black|red|green|yellow|blue|magenta|cyan|white|<0-255>|\#[[:xdigit:]](#c6)) ]]; then
    REPLY="%F{$1}"
  fi
}

# Everything of the badge but the time: sets _awsv_head, _awsv_on, _awsv_warn_on,
# _awsv_exp_on and _awsv_render_key ($1).
function _awsv_render_setup {
  emulate -L zsh
  local name=${AWSV_ALIAS:-$AWSV_PROFILE} color=${AWSV_COLOR-} pair REPLY
  if [[ -z $color ]]; then
    for pair in $=AWSV_PROMPT_COLORS; do
      if [[ $AWSV_PROFILE == ${~pair%=*} ]]; then
        color=${pair##*=}
        break
      fi
    done
    [[ -n $color ]] || color=$AWSV_PROMPT_COLOR
  fi
  _awsv_color_on "$color"; typeset -g _awsv_on=$REPLY
  _awsv_color_on "$AWSV_PROMPT_WARN_COLOR"; typeset -g _awsv_warn_on=$REPLY
  _awsv_color_on "$AWSV_PROMPT_EXPIRED_COLOR"; typeset -g _awsv_exp_on=$REPLY
  typeset -g _awsv_head="$AWSV_PROMPT_PREFIX$_awsv_on${name//\%/%%}"
  if [[ $AWSV_PROMPT_SHOW_ACCOUNT == 1 && ${AWSV_ACCOUNT-} == <-> ]]; then
    _awsv_head+=" $AWSV_ACCOUNT"
  fi
  typeset -g _awsv_render_key=$1
}

function _awsv_render {
  emulate -L zsh
  if [[ -z ${AWSV_PROFILE-} ]]; then
    AWSV_BADGE=''
    return 0
  fi
  local key="$AWSV_PROFILE|${AWSV_COLOR-}|${AWSV_ALIAS-}|${AWSV_ACCOUNT-}|$AWSV_PROMPT_COLORS|$AWSV_PROMPT_COLOR|$AWSV_PROMPT_SHOW_ACCOUNT|$AWSV_PROMPT_PREFIX|$AWSV_PROMPT_WARN_COLOR|$AWSV_PROMPT_EXPIRED_COLOR"
  [[ $key == "${_awsv_render_key-}" ]] || _awsv_render_setup "$key"
  local text on=$_awsv_on ton=$_awsv_on
  local -i left
  if [[ ${AWSV_EXPIRES-} == <-> ]]; then
    left=$(( AWSV_EXPIRES - EPOCHSECONDS ))
    if (( left <= 0 )); then
      text=$AWSV_PROMPT_EXPIRED_TEXT
      ton=$_awsv_exp_on
    else
      if (( left < 60 )); then
        text='<1m'
      elif (( left < 3600 )); then
        text=$(( left / 60 ))m
      else
        builtin printf -v text '%dh%02dm' $(( left / 3600 )) $(( left % 3600 / 60 ))
      fi
      [[ $AWSV_PROMPT_WARN == <-> ]] && (( left < AWSV_PROMPT_WARN )) && ton=$_awsv_warn_on
    fi
  else
    text=$AWSV_PROMPT_KEY_TEXT
    ton=$_awsv_warn_on
  fi
  if [[ $ton == "$on" ]]; then
    AWSV_BADGE="$_awsv_head $text${on:+%f}"
  else
    AWSV_BADGE="$_awsv_head${on:+%f} $ton$text${ton:+%f}"
  fi
  if [[ -n $_awsv_stuck && $_awsv_stuck == "$AWSV_PROFILE:${AWSV_EXPIRES-}" ]]; then
    AWSV_BADGE+="$_awsv_exp_on$AWSV_PROMPT_MARK${_awsv_exp_on:+%f}"
  fi
  AWSV_BADGE+=$AWSV_PROMPT_SUFFIX
}

# The oh-my-zsh convention: `$(awsv_prompt_info)` in a theme. That costs the
# subshell zsh forks for every `$(...)`; `${AWSV_BADGE}` (prompt_subst) costs nothing.
function awsv_prompt_info {
  emulate -L zsh
  _awsv_render
  builtin print -rn -- "$AWSV_BADGE"
}

# ---------------------------------------------------------------------------
# Refresh: renew the session shortly before it expires, without asking.

# Called by the hook when the session is within AWSV_REFRESH_WINDOW of expiry
# (or past it) and the last attempt is AWSV_REFRESH_INTERVAL ago; $1 is the window.
function _awsv_refresh {
  emulate -L zsh
  local -i window=$1 interval=60
  [[ $AWSV_REFRESH_INTERVAL == <-> ]] && interval=$AWSV_REFRESH_INTERVAL
  _awsv_next_try=$(( EPOCHSECONDS + interval ))

  local key="$AWSV_PROFILE:$AWSV_EXPIRES" profile=$AWSV_PROFILE out
  local -i rc
  local -a args=(use --no-prompt --quiet --shell zsh)
  [[ -n ${AWS_REGION-} ]] && args+=(--region "$AWS_REGION")
  # AWSV_MIN_TTL: cached sessions closer than the window to expiry are renewed too.
  out="$(AWSV_MIN_TTL=$window command awsv "${args[@]}" -- "$profile" </dev/null 2>/dev/null)"
  rc=$?
  if (( rc == 0 )) && [[ -n $out ]]; then
    builtin eval "$out"
    _awsv_stuck=''
    return 0
  fi
  _awsv_stuck=$key
  [[ $_awsv_hinted == "$key" ]] && return 0
  _awsv_hinted=$key
  if (( rc == 3 )); then
    builtin print -ru2 -- "awsv: renewing '$profile' needs your passphrase or MFA code: run awsv use $profile"
  else
    builtin print -ru2 -- "awsv: could not renew '$profile' (status $rc): run awsv use $profile to see why"
  fi
}

# ---------------------------------------------------------------------------
# The precmd hook: refresh if due, render, keep the default placement.
function _awsv_precmd {
  emulate -L zsh
  if [[ -n ${AWSV_PROFILE-} ]]; then
    # The cheap test inline: a function call costs more than the whole test.
    if [[ $AWSV_REFRESH == 1 && ${AWSV_EXPIRES-} == <-> ]]; then
      local -i window=600
      [[ $AWSV_REFRESH_WINDOW == <-> ]] && window=$AWSV_REFRESH_WINDOW
      if (( EPOCHSECONDS >= _awsv_next_try && AWSV_EXPIRES - EPOCHSECONDS <= window )); then
        _awsv_refresh $window
      fi
    fi
    _awsv_render
  else
    AWSV_BADGE=''
  fi
  # A theme may set RPROMPT after this plugin loaded; put the badge back in front.
  if [[ $AWSV_PROMPT_AUTO == 1 && $RPROMPT != *'${AWSV_BADGE'* ]]; then
    if [[ -n $RPROMPT ]]; then
      RPROMPT='${AWSV_BADGE:+$AWSV_BADGE }'$RPROMPT
    else
      RPROMPT='${AWSV_BADGE}'
    fi
  fi
}

add-zsh-hook precmd _awsv_precmd

# ---------------------------------------------------------------------------
# Completion. The command line's surface comes from the helper once per shell
# (`awsv shell-init --completion-data`); profile names from `awsv list
# --names`, kept until the config file's mtime, size or inode changes.

function _awsv_load_spec {
  emulate -L zsh
  (( ${+_awsv_spec_loaded} )) && return 0
  typeset -ga _awsv_cmds=()
  typeset -gA _awsv_alias=() _awsv_optarg=() _awsv_cmd_opts=() _awsv_cmd_pos=()
  local kind a b c d
  while IFS=$'\t' builtin read -r kind a b c d; do
    case $kind in
      (command) _awsv_cmds+=("${a//:/\\:}:$b") ;;
      (alias) _awsv_alias[$a]=$b ;;
      (option)
        _awsv_optarg[$a/$b]=$c
        [[ $b == --* ]] && _awsv_cmd_opts[$a]+="$b:$d"$'\n'
        ;;
      (positional) _awsv_cmd_pos[$a]+="$b $c"$'\n' ;;
    esac
  done < <(command awsv shell-init --completion-data 2>/dev/null)
  (( $#_awsv_cmds )) || return 1
  typeset -g _awsv_spec_loaded=1
}

# Sets reply to the profile names of the current config file.
function _awsv_profiles {
  emulate -L zsh
  local cfg=${AWS_CONFIG_FILE:-$HOME/.aws/config}
  [[ $cfg == '~/'* ]] && cfg=$HOME/${cfg#\~/}
  local -A st
  reply=()
  builtin zstat -H st -- "$cfg" 2>/dev/null || return 0
  local key="$cfg:$st[mtime]:$st[size]:$st[inode]"
  if [[ $key != "${_awsv_names_key-}" ]]; then
    typeset -ga _awsv_names=("${(@f)$(command awsv list --names 2>/dev/null)}")
    _awsv_names=(${_awsv_names:#})
    typeset -g _awsv_names_key=$key
  fi
  reply=("${_awsv_names[@]}")
}

function _awsv_complete_value {
  emulate -L zsh
  builtin setopt local_options ${_comp_options[@]}
  local expl
  case $1 in
    (profile)
      local -a reply
      _awsv_profiles
      _wanted profiles expl 'profile' compadd -a reply
      ;;
    (\*) _default ;;
    (*)
      local -a choices=("${(@s:|:)1}")
      _wanted values expl 'value' compadd -a choices
      ;;
  esac
}

function _awsv {
  emulate -L zsh
  # What the completion system's own functions (_describe, _wanted...) expect.
  builtin setopt local_options ${_comp_options[@]}
  _awsv_load_spec || return 1
  local -i i=2 cmdpos=0 n=0 j
  local cmd w
  while (( i < CURRENT )); do
    w=$words[i]
    if [[ $w == --backend ]]; then
      (( i += 2 ))
    elif [[ $w == -* ]]; then
      (( i++ ))
    else
      cmd=$w
      cmdpos=$i
      break
    fi
  done
  local arg=${_awsv_optarg[awsv/${words[CURRENT-1]}]-}
  if [[ -z $cmd ]]; then
    if [[ -n $arg && $arg != - ]]; then
      _awsv_complete_value "$arg"
    elif [[ $PREFIX == -* ]]; then
      local -a opts=("${(@f)_awsv_cmd_opts[awsv]}")
      opts=(${opts:#})
      _describe -t options 'option' opts
    else
      _describe -t commands 'awsv command' _awsv_cmds
    fi
    return
  fi
  cmd=${_awsv_alias[$cmd]:-$cmd}

  # The value of an option.
  arg=${_awsv_optarg[$cmd/${words[CURRENT-1]}]-}
  if [[ -n $arg && $arg != - ]]; then
    _awsv_complete_value "$arg"
    return
  fi
  # Everything after `--` (exec's command) is another command line.
  local -i dd=${words[(ib:cmdpos+1:)--]}
  if (( dd < CURRENT )); then
    words=("${(@)words[dd+1,-1]}")
    (( CURRENT -= dd ))
    _normal
    return
  fi
  if [[ $PREFIX == -* ]]; then
    local -a opts=("${(@f)_awsv_cmd_opts[$cmd]}")
    opts=(${opts:#})
    _describe -t options 'option' opts
    return
  fi
  # Which positional argument is being completed? A `command` one (exec's
  # program and arguments) hands the rest of the line to _normal.
  local -a pos=("${(@f)_awsv_cmd_pos[$cmd]}")
  pos=(${pos:#})
  for (( j = cmdpos + 1; j < CURRENT; j++ )); do
    w=$words[j]
    if [[ $w == -* ]]; then
      [[ $w != *=* && -n ${_awsv_optarg[$cmd/$w]-} && ${_awsv_optarg[$cmd/$w]} != - ]] && (( j++ ))
      continue
    fi
    if [[ ${pos[n+1]-} == 'command '* ]]; then
      words=("${(@)words[j,-1]}")
      (( CURRENT -= j - 1 ))
      _normal
      return
    fi
    (( n++ ))
  done
  local spec=${pos[n+1]-}
  [[ -z $spec && ${pos[-1]-} == *' 1' ]] && spec=$pos[-1]
  [[ -n $spec ]] || return 1
  if [[ $spec == 'command '* ]]; then
    words=("${(@)words[CURRENT,-1]}")
    CURRENT=1
    _normal
    return
  fi
  _awsv_complete_value "${spec% *}"
}

# Register with compdef when compinit has run; otherwise at the first prompt
# after it has (never run compinit for the user: it is theirs to configure).
function _awsv_compdef_later {
  emulate -L zsh
  (( ${+functions[compdef]} )) || return 0
  compdef _awsv awsv
  add-zsh-hook -d precmd _awsv_compdef_later
}

if (( ${+functions[compdef]} )); then
  compdef _awsv awsv
else
  add-zsh-hook precmd _awsv_compdef_later
fi

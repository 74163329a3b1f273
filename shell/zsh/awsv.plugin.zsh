# awsv shell integration for zsh: an oh-my-zsh plugin that plain zsh can also
# `source`. Commands that change the environment (`use`, `off`) print shell code
# on stdout; this wrapper evaluates it in the current shell, and only when the
# helper succeeded, so a failed command never half-changes the environment.
# Every other subcommand runs as a plain process.
#
# Placeholder: the prompt badge, completion and refresh hook come later.

# Sourcing twice (an rc file plus a plugin manager) must not redefine anything.
(( ${+_AWSV_ZSH_LOADED} )) && return 0
typeset -g _AWSV_ZSH_LOADED=1

function awsv {
  emulate -L zsh
  case ${1-} in
    (use|off)
      local _awsv_out _awsv_rc
      _awsv_out=$(command awsv "$@")
      _awsv_rc=$?
      if (( _awsv_rc == 0 )); then
        eval "$_awsv_out"
      fi
      return $_awsv_rc
      ;;
  esac
  command awsv "$@"
}

# awsv shell integration for bash: `source` it from ~/.bashrc. Commands that
# change the environment (`use`, `off`) print shell code on stdout; this wrapper
# evaluates it in the current shell, and only when the helper succeeded, so a
# failed command never half-changes the environment. Every other subcommand
# runs as a plain process.
#
# Placeholder: the prompt badge, completion and refresh hook come later.

# Sourcing twice (e.g. from .bashrc and .bash_profile) must not redefine anything.
[[ -n ${_AWSV_BASH_LOADED-} ]] && return 0
_AWSV_BASH_LOADED=1

function awsv {
  case ${1-} in
    use|off)
      local _awsv_out _awsv_rc
      _awsv_out=$(command awsv "$@")
      _awsv_rc=$?
      if (( _awsv_rc == 0 )); then
        eval "$_awsv_out"
      fi
      return "$_awsv_rc"
      ;;
  esac
  command awsv "$@"
}

# awsv for fish: the `awsv` function, a prompt badge, completion, silent refresh.
#
# Load it any of these ways:
#   ./install.sh                             copies it to ~/.config/fish/conf.d/awsv.fish
#   awsv shell-init fish | source            in ~/.config/fish/config.fish
#   source /path/to/shell/fish/awsv.fish
# Sourcing it again is harmless: functions are replaced, the event handler is
# one named function, and settings you made (universal or global) are never
# overwritten.
#
# Show the badge: set AWSV_PROMPT_AUTO to 1 before this file loads (it then
# puts the badge in front of your fish_right_prompt at the first prompt), or
# call `awsv_prompt_info` from your own fish_right_prompt / fish_prompt.
#
# Rules this file keeps: names start with `awsv`, `_awsv_` or `AWSV_`;
# external programs run only through `command awsv`, never while a prompt is
# drawn: the badge reads only variables, and on Linux the clock comes from
# /proc/uptime through the `read` builtin (no process). Elsewhere there is no
# process-free clock in fish 3, so the badge runs `date +%s` once per prompt
# while a session is active.

# ---------------------------------------------------------------------------
# The wrapper: `use`, `off` and `pick` change this shell, the rest runs as is.
# Typed at the prompt (stdout is the terminal) it applies the helper's code
# itself; in a pipe (`awsv use prod | source`) or a command substitution it
# prints the code as the helper does, so that form works with or without
# this file.
function awsv --description 'awsv: temporary AWS credentials in this shell'
    if contains -- "$argv[1]" use off pick; and not contains -- -h $argv; and not contains -- --help $argv
        if not test -t 1
            # The caller sources it; a failed helper prints code that only fails,
            # so `awsv use P | source; and deploy` stops.
            command awsv $argv[1] --shell fish $argv[2..-1]
            return
        end
        # Only a successful helper's output is applied.
        set -l out (command awsv $argv[1] --shell fish $argv[2..-1])
        or return
        string join \n -- $out | source
        _awsv_session_changed
        return 0
    end
    # Tells `awsv doctor` that the integration is loaded in the shell that ran it.
    AWSV_SHELL_INTEGRATION=fish command awsv $argv
end

# ---------------------------------------------------------------------------
# Settings: set any of them before loading this file; yours always win.
# Default placement of the badge: 1 puts it in front of fish_right_prompt.
set -q AWSV_PROMPT_AUTO; or set -g AWSV_PROMPT_AUTO 0
set -q AWSV_PROMPT_PREFIX; or set -g AWSV_PROMPT_PREFIX '['
set -q AWSV_PROMPT_SUFFIX; or set -g AWSV_PROMPT_SUFFIX ']'
set -q AWSV_PROMPT_SHOW_ACCOUNT; or set -g AWSV_PROMPT_SHOW_ACCOUNT 1
# Colour of a profile with no awsv_color and no matching pattern ('' = none).
set -q AWSV_PROMPT_COLOR; or set -g AWSV_PROMPT_COLOR cyan
# A list of 'GLOB=COLOR' pairs matched against the profile name, first match wins.
set -q AWSV_PROMPT_COLORS; or set -g AWSV_PROMPT_COLORS
# Seconds left below which the time turns AWSV_PROMPT_WARN_COLOR.
set -q AWSV_PROMPT_WARN; or set -g AWSV_PROMPT_WARN 600
set -q AWSV_PROMPT_WARN_COLOR; or set -g AWSV_PROMPT_WARN_COLOR yellow
set -q AWSV_PROMPT_EXPIRED_TEXT; or set -g AWSV_PROMPT_EXPIRED_TEXT expired
set -q AWSV_PROMPT_EXPIRED_COLOR; or set -g AWSV_PROMPT_EXPIRED_COLOR red
# Shown instead of a time for long-term keys (awsv use --no-session).
set -q AWSV_PROMPT_KEY_TEXT; or set -g AWSV_PROMPT_KEY_TEXT key
# Appended when a silent refresh needs you (a passphrase or MFA code) or failed.
set -q AWSV_PROMPT_MARK; or set -g AWSV_PROMPT_MARK '!'
# Silent refresh: on/off, how long before expiry, how often at most (seconds).
set -q AWSV_REFRESH; or set -g AWSV_REFRESH 1
set -q AWSV_REFRESH_WINDOW; or set -g AWSV_REFRESH_WINDOW 600
set -q AWSV_REFRESH_INTERVAL; or set -g AWSV_REFRESH_INTERVAL 60
# State (not settings): the rendered badge and the refresh bookkeeping.
set -q AWSV_BADGE; or set -g AWSV_BADGE ''
set -q _awsv_next_try; or set -g _awsv_next_try 0
set -q _awsv_stuck; or set -g _awsv_stuck ''
set -q _awsv_hinted; or set -g _awsv_hinted ''

# A new session (or none): forget the refresh state of the old one.
function _awsv_session_changed
    set -g _awsv_next_try 0
    set -g _awsv_stuck ''
    _awsv_render
end

# ---------------------------------------------------------------------------
# The clock without a process: boot time (read once) + /proc/uptime.
set -g _awsv_btime ''
if test -r /proc/stat -a -r /proc/uptime
    while read -l _awsv_k _awsv_v
        if test "$_awsv_k" = btime
            set -g _awsv_btime $_awsv_v
            break
        end
    end </proc/stat
    set -e _awsv_k _awsv_v
end

# Sets _awsv_t to the epoch seconds.
if string match -qr '^[0-9]+$' -- "$_awsv_btime"
    function _awsv_now
        read -l up _ </proc/uptime
        set -g _awsv_t (math "floor($_awsv_btime + $up)")
    end
else
    function _awsv_now
        set -g _awsv_t (command date +%s)
    end
end

# ---------------------------------------------------------------------------
# The badge. Reads variables only; sets AWSV_BADGE (with SGR colour codes).
# What depends only on the session and the settings (colours, name, account)
# is worked out once per change of them; a render adds the time left.

# Prints the colour-start escape for a name, 0-255 or #rrggbb; nothing otherwise.
function _awsv_color_on --argument-names color
    set -l sgr
    switch "$color"
        case black
            set sgr 30
        case red
            set sgr 31
        case green
            set sgr 32
        case yellow
            set sgr 33
        case blue
            set sgr 34
        case magenta
            set sgr 35
        case cyan
            set sgr 36
        case white
            set sgr 37
        case '*'
            if string match -qr '^([0-9]|[0-9][0-9]|[01][0-9][0-9]|2[0-4][0-9]|25[0-5])$' -- "$color"
                set sgr "38;5;"(math "$color")
            else if string match -qr '^#[0-9A-Fa-f]{6}$' -- "$color"
                set -l hex (string sub -s 2 -- $color)
                set sgr "38;2;"(math 0x(string sub -s 1 -l 2 -- $hex))";"(math 0x(string sub -s 3 -l 2 -- $hex))";"(math 0x(string sub -s 5 -l 2 -- $hex))
            end
    end
    test -n "$sgr"; and builtin printf '\e[%sm' $sgr
    return 0
end

# Everything of the badge but the time: sets _awsv_head, _awsv_on, _awsv_warn_on,
# _awsv_exp_on and _awsv_render_key ($argv[1]).
function _awsv_render_setup --argument-names key
    set -l name $AWSV_PROFILE
    set -q AWSV_ALIAS; and test -n "$AWSV_ALIAS"; and set name $AWSV_ALIAS
    set -l color
    set -q AWSV_COLOR; and set color $AWSV_COLOR
    if test -z "$color"
        for pair in $AWSV_PROMPT_COLORS
            set -l glob (string replace -r '=[^=]*$' '' -- $pair)
            if string match -q -- $glob $AWSV_PROFILE
                set color (string replace -r '^.*=' '' -- $pair)
                break
            end
        end
        test -n "$color"; or set color "$AWSV_PROMPT_COLOR"
    end
    set -g _awsv_on (_awsv_color_on "$color")
    set -g _awsv_warn_on (_awsv_color_on "$AWSV_PROMPT_WARN_COLOR")
    set -g _awsv_exp_on (_awsv_color_on "$AWSV_PROMPT_EXPIRED_COLOR")
    set -g _awsv_head "$AWSV_PROMPT_PREFIX$_awsv_on$name"
    if test "$AWSV_PROMPT_SHOW_ACCOUNT" = 1; and string match -qr '^[0-9]+$' -- "$AWSV_ACCOUNT"
        set -g _awsv_head "$_awsv_head $AWSV_ACCOUNT"
    end
    set -g _awsv_render_key $key
end

function _awsv_render
    if not set -q AWSV_PROFILE; or test -z "$AWSV_PROFILE"
        set -g AWSV_BADGE ''
        return 0
    end
    set -l key "$AWSV_PROFILE|$AWSV_COLOR|$AWSV_ALIAS|$AWSV_ACCOUNT|$AWSV_PROMPT_COLORS|$AWSV_PROMPT_COLOR|$AWSV_PROMPT_SHOW_ACCOUNT|$AWSV_PROMPT_PREFIX|$AWSV_PROMPT_WARN_COLOR|$AWSV_PROMPT_EXPIRED_COLOR"
    test "x$key" = "x$_awsv_render_key"; or _awsv_render_setup "$key"
    set -l text
    set -l on "$_awsv_on"
    set -l ton "$_awsv_on"
    set -l off \e'[39m'
    if string match -qr '^[0-9]+$' -- "$AWSV_EXPIRES"
        _awsv_now
        set -l left (math "$AWSV_EXPIRES - $_awsv_t")
        if test $left -le 0
            set text "$AWSV_PROMPT_EXPIRED_TEXT"
            set ton "$_awsv_exp_on"
        else
            if test $left -lt 60
                set text '<1m'
            else if test $left -lt 3600
                set text (math "floor($left / 60)")m
            else
                set text (builtin printf '%dh%02dm' (math "floor($left / 3600)") (math "floor($left % 3600 / 60)"))
            end
            if string match -qr '^[0-9]+$' -- "$AWSV_PROMPT_WARN"; and test $left -lt $AWSV_PROMPT_WARN
                set ton "$_awsv_warn_on"
            end
        end
    else
        set text "$AWSV_PROMPT_KEY_TEXT"
        set ton "$_awsv_warn_on"
    end
    set -l badge
    if test "x$ton" = "x$on"
        set badge "$_awsv_head $text"
        test -n "$on"; and set badge "$badge$off"
    else
        set badge "$_awsv_head"
        test -n "$on"; and set badge "$badge$off"
        set badge "$badge $ton$text"
        test -n "$ton"; and set badge "$badge$off"
    end
    if test -n "$_awsv_stuck"; and test "x$_awsv_stuck" = "x$AWSV_PROFILE:$AWSV_EXPIRES"
        set badge "$badge$_awsv_exp_on$AWSV_PROMPT_MARK"
        test -n "$_awsv_exp_on"; and set badge "$badge$off"
    end
    set -g AWSV_BADGE "$badge$AWSV_PROMPT_SUFFIX"
end

# For your own fish_right_prompt or fish_prompt: prints the badge (a function
# call, no process).
function awsv_prompt_info --description 'print the awsv badge'
    _awsv_render
    builtin printf '%s' "$AWSV_BADGE"
end

# ---------------------------------------------------------------------------
# Refresh: renew the session shortly before it expires, without asking.

# Called by the hook when the session is within AWSV_REFRESH_WINDOW of expiry
# (or past it) and the last attempt is AWSV_REFRESH_INTERVAL ago.
function _awsv_refresh --argument-names window
    set -l interval 60
    string match -qr '^[0-9]+$' -- "$AWSV_REFRESH_INTERVAL"; and set interval $AWSV_REFRESH_INTERVAL
    set -g _awsv_next_try (math "$_awsv_t + $interval")

    set -l key "$AWSV_PROFILE:$AWSV_EXPIRES"
    set -l profile $AWSV_PROFILE
    set -l args use --no-prompt --quiet --shell fish
    test -n "$AWS_REGION"; and set -a args --region $AWS_REGION
    # AWSV_MIN_TTL: cached sessions closer than the window to expiry are renewed too.
    set -l out (AWSV_MIN_TTL=$window command awsv $args -- $profile </dev/null 2>/dev/null)
    set -l rc $status
    if test $rc -eq 0; and set -q out[1]
        string join \n -- $out | source
        set -g _awsv_stuck ''
        return 0
    end
    set -g _awsv_stuck $key
    test "x$_awsv_hinted" = "x$key"; and return 0
    set -g _awsv_hinted $key
    if test $rc -eq 3
        builtin printf "awsv: renewing '%s' needs your passphrase or MFA code: run awsv use %s\n" $profile $profile >&2
    else
        builtin printf "awsv: could not renew '%s' (status %s): run awsv use %s to see why\n" $profile $rc $profile >&2
    end
    return 0
end

# ---------------------------------------------------------------------------
# The prompt hook: refresh if due, render, keep the default placement.
function _awsv_on_prompt --on-event fish_prompt
    if set -q AWSV_PROFILE; and test -n "$AWSV_PROFILE"
        if test "$AWSV_REFRESH" = 1; and string match -qr '^[0-9]+$' -- "$AWSV_EXPIRES"
            set -l window 600
            string match -qr '^[0-9]+$' -- "$AWSV_REFRESH_WINDOW"; and set window $AWSV_REFRESH_WINDOW
            _awsv_now
            if test $_awsv_t -ge $_awsv_next_try; and test (math "$AWSV_EXPIRES - $_awsv_t") -le $window
                _awsv_refresh $window
            end
        end
        _awsv_render
    else
        set -g AWSV_BADGE ''
    end
    # Wrap the right prompt once, at the first prompt: by then config.fish and
    # the theme have defined theirs (or fish's autoloaded one is found).
    if test "$AWSV_PROMPT_AUTO" = 1; and not functions -q _awsv_user_right_prompt
        if functions -q fish_right_prompt
            functions --copy fish_right_prompt _awsv_user_right_prompt
        else
            function _awsv_user_right_prompt
            end
        end
        function fish_right_prompt
            if test -n "$AWSV_BADGE"
                builtin printf '%s ' "$AWSV_BADGE"
            end
            _awsv_user_right_prompt
        end
    end
end

# ---------------------------------------------------------------------------
# Completion. The command line's surface comes from the helper once per shell
# (`awsv shell-init --completion-data`); profile names from `awsv list
# --names`, kept until the config file's mtime changes (`path mtime`, a builtin).

function _awsv_load_spec
    set -q _awsv_spec_loaded; and return 0
    set -g _awsv_cmds
    set -g _awsv_aliases
    set -g _awsv_opts
    set -g _awsv_pos
    for line in (command awsv shell-init --completion-data 2>/dev/null)
        set -l f (string split \t -- $line)
        switch $f[1]
            case command
                set -a _awsv_cmds "$f[2]"\t"$f[3]"
            case alias
                set -a _awsv_aliases "$f[2]"\t"$f[3]"
            case option
                set -a _awsv_opts "$f[2]"\t"$f[3]"\t"$f[4]"\t"$f[5]"
            case positional
                set -a _awsv_pos "$f[2]"\t"$f[3]"\t"$f[4]"
        end
    end
    set -q _awsv_cmds[1]; or return 1
    set -g _awsv_spec_loaded 1
end

# Prints the value kind of option $flag of $cmd (`-` for a flag), nothing if unknown.
function _awsv_optarg --argument-names cmd flag
    for rec in $_awsv_opts
        set -l f (string split \t -- $rec)
        if test "x$f[1] $f[2]" = "x$cmd $flag"
            echo $f[3]
            return 0
        end
    end
    return 1
end

# Prints the profile names of the current config file.
function _awsv_profiles
    set -l cfg $AWS_CONFIG_FILE
    test -n "$cfg"; or set cfg $HOME/.aws/config
    string match -q '~/*' -- $cfg; and set cfg $HOME/(string sub -s 3 -- $cfg)
    set -l mtime (path mtime -- $cfg 2>/dev/null); or return 0
    set -l key "$cfg:$mtime"
    if test "x$key" != "x$_awsv_names_key"
        set -g _awsv_names (command awsv list --names 2>/dev/null)
        set -g _awsv_names_key $key
    end
    string join \n -- $_awsv_names
end

# Prints candidates for a value of kind $kind: profile, * (files), or a|b|c.
function _awsv_complete_value --argument-names kind
    switch $kind
        case profile
            _awsv_profiles
        case '*'
            if test "$kind" = '*'
                __fish_complete_path (commandline -ct)
            else
                string split '|' -- $kind
            end
    end
end

function _awsv_complete
    _awsv_load_spec; or return 0
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l n (count $words)
    set -l i 2
    set -l cmd ''
    set -l cmdpos 0
    while test $i -le $n
        if test "x$words[$i]" = x--backend
            set i (math $i + 2)
        else if string match -q -- '-*' $words[$i]
            set i (math $i + 1)
        else
            set cmd $words[$i]
            set cmdpos $i
            break
        end
    end
    set -l prev ''
    test $n -ge 1; and set prev $words[$n]
    if test -z "$cmd"
        set -l arg (_awsv_optarg awsv $prev)
        if string match -qr '^[^-]' -- "$arg"
            _awsv_complete_value $arg
        else if string match -q -- '-*' $cur
            for rec in $_awsv_opts
                set -l f (string split \t -- $rec)
                test "$f[1]" = awsv; and string match -q -- '--*' $f[2]; and printf '%s\t%s\n' $f[2] $f[4]
            end
        else
            string join \n -- $_awsv_cmds
        end
        return 0
    end
    for rec in $_awsv_aliases
        set -l f (string split \t -- $rec)
        test "$f[1]" = "$cmd"; and set cmd $f[2]
    end

    # Everything after `--` (exec's command) is another command line.
    set -l j (math $cmdpos + 1)
    while test $j -le $n
        if test "x$words[$j]" = x--
            set -l rest $words[(math $j + 1)..-1] $cur
            complete -C (string join ' ' -- (string escape -- $rest[1..-2]) $cur)
            return 0
        end
        set j (math $j + 1)
    end
    set -l arg (_awsv_optarg $cmd $prev)
    if test $n -gt $cmdpos; and string match -qr '^[^-]' -- "$arg"
        _awsv_complete_value $arg
        return 0
    end
    if string match -q -- '-*' $cur
        for rec in $_awsv_opts
            set -l f (string split \t -- $rec)
            test "$f[1]" = "$cmd"; and string match -q -- '--*' $f[2]; and printf '%s\t%s\n' $f[2] $f[4]
        end
        return 0
    end
    # Which positional argument is being completed?
    set -l pos
    for rec in $_awsv_pos
        set -l f (string split \t -- $rec)
        test "$f[1]" = "$cmd"; and set -a pos "$f[2]"\t"$f[3]"
    end
    set -l k 0
    set j (math $cmdpos + 1)
    while test $j -le $n
        set -l w $words[$j]
        if string match -q -- '-*' $w
            set -l a (_awsv_optarg $cmd $w)
            if not string match -q -- '*=*' $w; and string match -qr '^[^-]' -- "$a"
                set j (math $j + 1)
            end
        else
            set -l spec (string split \t -- $pos[(math $k + 1)] 2>/dev/null)
            if test "$spec[1]" = command
                complete -C (string join ' ' -- (string escape -- $words[$j..-1]) $cur)
                return 0
            end
            set k (math $k + 1)
        end
        set j (math $j + 1)
    end
    set -l spec
    if test $k -lt (count $pos)
        set spec (string split \t -- $pos[(math $k + 1)])
    else if set -q pos[1]; and string match -q -- '*'\t1 $pos[-1]
        set spec (string split \t -- $pos[-1])
    end
    set -q spec[1]; or return 0
    if test "$spec[1]" = command
        complete -C "$cur"
        return 0
    end
    _awsv_complete_value $spec[1]
end

complete -c awsv -e
complete -c awsv -f -a '(_awsv_complete)'

"""bash: `builtin export NAME=VALUE` and `builtin unset -v NAME`.

Quoting picks the plainest form that is exact:
- a bare word for values made only of `[A-Za-z0-9_@%+=:,./-]`;
- single quotes for other printable ASCII (`'` written as `'\\''`);
- ANSI-C `$'...'` for anything else (control characters, non-ASCII text, raw
  bytes), where every such byte becomes `\\xHH`. The output stays printable
  ASCII, so the evaluating shell's locale cannot change how it parses.

`builtin` keeps a user's alias or function named `export`/`unset` from seeing
the values (they are credentials); `unset -v` keeps `unset` from deleting a
function when no variable of that name exists.
"""

from __future__ import annotations

from awsv.shells.base import Shell, encode_value, is_bare_word, is_printable_ascii

_NAMED_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x27: "\\'", 0x5C: "\\\\"}


def posix_quote(value: str) -> str:
    """Quote `value` for bash or zsh; see the module docstring for the forms used."""
    data = encode_value(value)
    if not data:
        return "''"
    if is_bare_word(value):
        return value
    if is_printable_ascii(data):
        return "'" + value.replace("'", "'\\''") + "'"
    parts = []
    for byte in data:
        if byte in _NAMED_ESCAPES:
            parts.append(_NAMED_ESCAPES[byte])
        elif 0x20 <= byte <= 0x7E and byte != 0x21:
            parts.append(chr(byte))
        else:
            # `!` too: history expansion must never get a chance at it.
            parts.append(f"\\x{byte:02x}")
    return "$'" + "".join(parts) + "'"


class Bash(Shell):
    """GNU bash (any version with `$'...'`, i.e. 2.04 and later)."""

    name = "bash"
    plugin = "bash/awsv.bash"

    def quote(self, value: str) -> str:
        return posix_quote(value)

    def set_line(self, name: str, value: str) -> str:
        return f"builtin export {name}={self.quote(value)}"

    def unset_line(self, name: str) -> str:
        return f"builtin unset -v {name}"

    def fail(self, status: int) -> str:
        """`(builtin exit N)`: a subshell, so the status is exact and nothing else ends."""
        code = status if 0 < status < 256 else 1
        return f"(builtin exit {code})\n"

"""fish: `set -gx NAME VALUE` and `set -e -g NAME`.

Inside fish single quotes only `\\\\` and `\\'` are escapes, so printable ASCII
goes there; every other byte (control characters, non-ASCII text, raw bytes)
is written as `\\xHH` outside the quotes, which fish turns into exactly that
byte, and the pieces are joined into one word (`'a'\\n'b'`). The output stays
printable ASCII on one line.

`set` is a reserved word in fish, so no user function can intercept it.
Unsetting touches only the global scope: `set -e NAME` could find and erase a
user's universal variable, which would persist across all their sessions.
Our globals shadow a universal variable of the same name while they are set;
after they are unset (e.g. `awsv off`) the user's universal value shows again.

fish's `set` leaves `$status` as it was (and `set -e` of a missing variable
makes it 4), so code made only of `set` lines would report whatever failed
before it, or a spurious failure. `apply` therefore ends with `true`: a
wrapper can rely on the status of `awsv use P | source`.

A failed `use` prints the base class's `false`, not `return N`: a `return`
read by `source` inside a function returns from that function.
"""

from __future__ import annotations

from awsv.shells.base import Changes, Shell, encode_value, is_bare_word

_OUTSIDE_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_INSIDE_ESCAPES = {0x27: "\\'", 0x5C: "\\\\"}


def fish_quote(value: str) -> str:
    """Quote `value` for fish; see the module docstring for the form used."""
    data = encode_value(value)
    if not data:
        return "''"
    if is_bare_word(value):
        return value
    out: list[str] = []
    quoted: list[str] = []  # the current run of printable ASCII

    def close_run() -> None:
        if quoted:
            out.append("'" + "".join(quoted) + "'")
            quoted.clear()

    for byte in data:
        if 0x20 <= byte <= 0x7E:
            quoted.append(_INSIDE_ESCAPES.get(byte, chr(byte)))
        else:
            close_run()
            out.append(_OUTSIDE_ESCAPES.get(byte, f"\\x{byte:02x}"))
    close_run()
    return "".join(out)


class Fish(Shell):
    """fish 3.x."""

    name = "fish"
    plugin = "fish/awsv.fish"

    def quote(self, value: str) -> str:
        return fish_quote(value)

    def set_line(self, name: str, value: str) -> str:
        return f"set -gx {name} {self.quote(value)}"

    def unset_line(self, name: str) -> str:
        return f"set -e -g {name}"

    def apply(self, changes: Changes) -> str:
        """As `Shell.apply`, plus a final `true` so the code's status is 0 (see module docstring)."""
        return super().apply(changes) + "true\n"

"""A quick reader for the plain shape of `~/.aws/config`, giving way to configparser for the rest.

`awsv list` reads the whole config, and at 10,000 profiles configparser's
per-line regular expressions cost most of the command. Nearly every real
config uses only four kinds of line: blank, a comment (`#` or `;` first), a
`[section]` header, and `key = value`. This module reads exactly those, with
configparser's results (keys lower-cased, values stripped, sections in file
order), and returns None — so `AwsConfig.parse` runs configparser itself —
at the first line of any other shape: an indented line (a continuation or a
nested `s3 =` block), a `:` delimiter, a header with text after `]`, a key
before any section, a duplicate section or key (configparser's error names
them), an empty key. When it answers, the answer is configparser's; the
tests compare the two on generated configs.
"""

from __future__ import annotations


def read_plain(text: str) -> list[tuple[str, dict[str, str]]] | None:
    """[(section, {key: value})] in file order, or None when configparser must read `text`."""
    sections: list[tuple[str, dict[str, str]]] = []
    seen: set[str] = set()
    current: dict[str, str] | None = None
    for line in text.split("\n"):
        if not line:
            continue
        first = line[0]
        if first.isspace():
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue  # blank, or an indented comment: configparser skips both
            return None  # a continuation line or an indented block: configparser's rules
        if first in "#;":
            continue
        if first == "[":
            stripped = line.rstrip()
            if stripped[-1] != "]" or len(stripped) < 3 or "]" in stripped[1:-1]:
                return None
            name = stripped[1:-1]
            if name in seen:
                return None
            seen.add(name)
            current = {}
            sections.append((name, current))
            continue
        eq = line.find("=")
        if current is None or eq <= 0 or ":" in line[:eq]:
            return None
        key = line[:eq].rstrip().lower()
        if key in current:
            return None
        current[key] = line[eq + 1 :].strip()
    return sections

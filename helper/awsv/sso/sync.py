"""`awsv sso sync`: one profile per account and role the signed-in user can reach.

What it promises (the README says the same):

- Names come from a template (default `{account_name}.{role_name}`, fields
  `account_name`, `account_id`, `role_name`, `email`), an optional prefix,
  reduced to awsv's profile-name rules; collisions (with each other or with
  profiles the user wrote) are resolved deterministically: accounts and roles
  are taken in (account id, role name) order, and a later clash gets
  `-<account id>`, then `-2`, `-3`…
- `--color GLOB=COLOUR` (repeatable, first match wins, globs over the profile
  name) sets `awsv_color`, so the badge shows production in red from the
  first switch; `--alias GLOB=ALIAS` sets `awsv_alias` the same way (ALIAS may
  use the template's fields); `--region` writes a default region.
- Generated profiles carry `awsv_generated = sso:<session>`; they are updated
  in place, and with `--prune` removed when access is gone. A profile
  without that marker is never touched.
- The config is rewritten atomically, line by line: comments, blank lines,
  order and every other section stay as they were; new profiles are
  appended. A run with no change writes nothing; `--dry-run` prints the
  unified diff and writes nothing.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import re
from dataclasses import dataclass

from awsv.atomic import atomic_write_text
from awsv.context import Context
from awsv.environment import display_alias, display_color
from awsv.errors import AwsvError, ConfigError, UsageError
from awsv.names import MAX_LENGTH, is_valid_profile_name
from awsv.sso.settings import SsoSession

DEFAULT_TEMPLATE = "{account_name}.{role_name}"
MARKER_KEY = "awsv_generated"
_FIELDS = ("account_name", "account_id", "role_name", "email")
_HEADER = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*[=:]\s*(.*?)\s*$")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        help="profile name template; fields {account_name} {account_id} {role_name} {email} (default: %(default)s)",
    )
    p.add_argument("--prefix", default="", help="put this before every generated name")
    p.add_argument("--region", help="default region written into every generated profile")
    p.add_argument(
        "--color",
        action="append",
        default=[],
        metavar="GLOB=COLOUR",
        help="awsv_color for generated profiles whose name matches GLOB "
        "(repeatable, first match wins), e.g. '*prod*=red'",
    )
    p.add_argument(
        "--alias",
        action="append",
        default=[],
        metavar="GLOB=ALIAS",
        help="awsv_alias for generated profiles whose name matches GLOB (repeatable, "
        "first match wins); ALIAS may use the template's fields, e.g. "
        "'*production*=PROD {role_name}'",
    )
    p.add_argument(
        "--prune", action="store_true", help="remove generated profiles whose account or role is no longer reachable"
    )
    p.add_argument("--dry-run", action="store_true", help="print the change as a diff, write nothing")


@dataclass(frozen=True)
class Generated:
    name: str
    settings: tuple[tuple[str, str], ...]


def marker(session: SsoSession) -> str:
    return f"sso:{session.name}" if session.name else f"sso:{session.start_url}"


def reduce_name(raw: str) -> str:
    """A string made into an allowed profile name (or "" when nothing is left)."""
    name = re.sub(r"\s+", "-", raw.strip())
    name = re.sub(r"[^A-Za-z0-9_.@+=,-]", "", name)
    name = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", name)).lstrip(".@+=,-")
    return name[:MAX_LENGTH].rstrip(".")


def plan(
    session: SsoSession,
    reachable: list[tuple[dict[str, str], str]],
    *,
    template: str,
    prefix: str,
    region: str | None,
    colors: list[tuple[str, str]],
    taken: set[str],
    aliases: list[tuple[str, str]] | None = None,
) -> list[Generated]:
    """The profiles to write, in (account id, role name) order; `taken` are the user's own names."""
    used = set(taken)
    out: list[Generated] = []
    for account, role in sorted(reachable, key=lambda ar: (ar[0].get("accountId", ""), ar[1])):
        fields = {
            "account_name": account.get("accountName") or account["accountId"],
            "account_id": account["accountId"],
            "role_name": role,
            "email": account.get("emailAddress") or "",
        }
        try:
            base = reduce_name(prefix + template.format(**fields))
        except (KeyError, IndexError, ValueError) as exc:
            raise UsageError(
                f"--template {template!r} is not valid ({exc}); fields: " + ", ".join("{" + f + "}" for f in _FIELDS)
            ) from None
        name = _free(base or fields["account_id"], fields["account_id"], used)
        used.add(name)
        settings: list[tuple[str, str]] = []
        if session.name:
            settings.append(("sso_session", session.name))
        else:
            settings += [("sso_start_url", session.start_url), ("sso_region", session.region)]
        settings += [("sso_account_id", fields["account_id"]), ("sso_role_name", role)]
        if region:
            settings.append(("region", region))
        color = next((c for glob, c in colors if fnmatch.fnmatchcase(name.lower(), glob.lower())), None)
        if color:
            settings.append(("awsv_color", color))
        alias = next((a for glob, a in aliases or [] if fnmatch.fnmatchcase(name.lower(), glob.lower())), None)
        if alias:
            try:
                shown = display_alias(name, alias.format(**fields))
            except (KeyError, IndexError, ValueError) as exc:
                raise UsageError(
                    f"--alias {alias!r} is not valid ({exc}); fields: " + ", ".join("{" + f + "}" for f in _FIELDS)
                ) from None
            except ConfigError as exc:
                raise UsageError(f"--alias {alias!r}: {exc.message}") from None
            if shown:
                settings.append(("awsv_alias", shown))
        settings.append((MARKER_KEY, marker(session)))
        out.append(Generated(name, tuple(settings)))
    return out


def _free(base: str, account_id: str, used: set[str]) -> str:
    candidates = [base, f"{base}-{account_id}"] + [f"{base}-{account_id}-{n}" for n in range(2, 1000)]
    for candidate in candidates:
        candidate = candidate[:MAX_LENGTH]
        if candidate not in used and is_valid_profile_name(candidate):
            return candidate
    raise AwsvError(f"cannot find a free profile name for {base!r}")


# -- the line-based rewrite ------------------------------------------------------------


@dataclass
class _Section:
    header: str  # the text inside [ ]
    start: int  # index of the header line
    end: int  # index after the last line of its body (trailing blank lines excluded)

    @property
    def profile(self) -> str | None:
        parts = self.header.split()
        if len(parts) == 2 and parts[0] == "profile":
            return parts[1]
        return "default" if self.header == "default" else None


def _sections(lines: list[str]) -> list[_Section]:
    found: list[_Section] = []
    for i, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            if found:
                found[-1].end = _trim(lines, found[-1].start, i)
            found.append(_Section(match.group(1), i, len(lines)))
    if found:
        found[-1].end = _trim(lines, found[-1].start, len(lines))
    return found


def _trim(lines: list[str], start: int, end: int) -> int:
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _value(lines: list[str], section: _Section, key: str) -> str | None:
    for line in lines[section.start + 1 : section.end]:
        match = _KEY.match(line)
        if match and match.group(1).lower() == key:
            return match.group(2)
    return None


def _body(gen: Generated) -> list[str]:
    return [f"[profile {gen.name}]\n", *(f"{k} = {v}\n" for k, v in gen.settings)]


def rewrite(
    text: str, generated: list[Generated], session: SsoSession, *, prune: bool
) -> tuple[str, list[str], list[str], list[str], list[str]]:
    """The new config text and the (added, updated, removed, stale-but-kept) profile names."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    mine = marker(session)
    wanted = {g.name: g for g in generated}
    replacements: dict[int, tuple[int, list[str] | None]] = {}
    present: set[str] = set()
    updated: list[str] = []
    removed: list[str] = []
    stale: list[str] = []
    for section in _sections(lines):
        name = section.profile
        if name is None or _value(lines, section, MARKER_KEY) != mine:
            continue  # the user's own, or another session's: never touched
        present.add(name)
        if name in wanted:
            new = _body(wanted[name])
            if lines[section.start : section.end] != new:
                replacements[section.start] = (section.end, new)
                updated.append(name)
        elif prune:
            end = section.end
            while end < len(lines) and not lines[end].strip():
                end += 1  # the blank lines after it go too
            replacements[section.start] = (end, None)
            removed.append(name)
        else:
            stale.append(name)
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in replacements:
            end, replacement = replacements[i]
            out += replacement or []
            i = end
        else:
            out.append(lines[i])
            i += 1
    added = [g.name for g in generated if g.name not in present]
    for name in added:
        if out and out[-1].strip():
            out.append("\n")
        out += _body(wanted[name])
    return "".join(out), added, updated, removed, stale


def run_sync(ctx: Context, args: argparse.Namespace, session: SsoSession) -> int:
    from awsv.sso import flight
    from awsv.sso.api import Api

    colors = []
    for rule in args.color:
        glob, sep, color = rule.rpartition("=")
        if not sep or not glob:
            raise UsageError(f"--color {rule!r}: expected GLOB=COLOUR, e.g. '*prod*=red'")
        try:
            colors.append((glob, display_color("--color", color) or color))
        except ConfigError:
            raise UsageError(
                f"--color {rule!r}: {color!r} is not a colour", hint="a colour name, a 256-colour index, or #rrggbb"
            ) from None
    aliases = []
    for rule in args.alias:
        glob, sep, alias = rule.partition("=")
        if not sep or not glob:
            raise UsageError(f"--alias {rule!r}: expected GLOB=ALIAS, e.g. '*prod*=PROD'")
        aliases.append((glob, alias))
    api = Api(ctx.env, session.region)
    token = flight.ensure_token(ctx, session, api=api)
    reachable = [
        (account, role)
        for account in api.accounts(token.access_token)
        for role in api.roles(token.access_token, account["accountId"])
    ]
    config = ctx.config
    path = config.path
    if path is None:  # AwsConfig.load always sets it; a parsed-in-memory config has none
        raise AwsvError("no AWS config file to write to")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    mine = marker(session)
    theirs = {n for n in config.names() if config.raw(n).get(MARKER_KEY) != mine}
    generated = plan(
        session,
        reachable,
        template=args.template,
        prefix=args.prefix,
        region=args.region,
        colors=colors,
        taken=theirs,
        aliases=aliases,
    )
    new_text, added, updated, removed, stale = rewrite(text, generated, session, prune=args.prune)
    if stale:
        ctx.info(f"no longer reachable, kept: {', '.join(stale)} (`--prune` removes them)")
    if new_text == text:
        ctx.info(f"{path}: no change ({len(generated)} SSO profiles up to date)")
        return 0
    if args.dry_run:
        ctx.stdout.writelines(
            difflib.unified_diff(
                text.splitlines(keepends=True), new_text.splitlines(keepends=True), str(path), f"{path} (after sync)"
            )
        )
        ctx.info("dry run: nothing written")
        return 0
    atomic_write_text(path, new_text)
    ctx.info(f"{path}: {len(added)} added, {len(updated)} updated, {len(removed)} removed")
    return 0

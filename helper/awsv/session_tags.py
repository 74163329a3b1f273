"""A role profile's `session_tags`, `transitive_session_tags` and `source_identity`.

aws-vault's config keys, sent with AssumeRole as `Tags`, `TransitiveTagKeys`
and `SourceIdentity`. Tag-based access control gives a session different
permissions with and without them, so they are never dropped silently:
anything AWS would refuse is refused here first, with the profile and the
rule in one line (the values are the user's own config, not secrets).

    session_tags = key1=value1,key2=value2
    transitive_session_tags = key1,key2
    source_identity = alice

AWS's rules: at most 50 tags; a key is 1–128 and a value 0–256 characters of
letters, digits, spaces and `_ . : / = + - @`; keys are unique ignoring case;
transitive keys must be among the tags; a source identity is 2–64 characters
of letters, digits and `_ + = , . @ -`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from awsv.errors import ConfigError

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
_TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*\Z")
_SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}\Z", re.ASCII)


@dataclass(frozen=True)
class RoleSessionTags:
    """What AssumeRole carries besides the role: tags, transitive keys, source identity."""

    tags: tuple[tuple[str, str], ...] = ()
    transitive_keys: tuple[str, ...] = ()
    source_identity: str | None = None

    def __bool__(self) -> bool:
        return bool(self.tags or self.transitive_keys or self.source_identity)

    def cache_description(self) -> dict[str, object]:
        """The part of a cache id these settings determine (a change means a new session)."""
        return {
            "tags": [list(t) for t in self.tags],
            "transitive": list(self.transitive_keys),
            "source_identity": self.source_identity,
        }

    def assume_role_params(self) -> dict[str, object]:
        """The AssumeRole parameters, only those that are set."""
        params: dict[str, object] = {}
        if self.tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        if self.transitive_keys:
            params["TransitiveTagKeys"] = list(self.transitive_keys)
        if self.source_identity:
            params["SourceIdentity"] = self.source_identity
        return params


_NONE = RoleSessionTags()


def parse(
    profile: str, session_tags: str | None, transitive: str | None, source_identity: str | None
) -> RoleSessionTags:
    """The profile's settings, checked; raises ConfigError naming the profile and the rule."""
    if session_tags is None and transitive is None and source_identity is None:
        return _NONE  # nearly every role: one shared value (`awsv list` builds a hop per role)
    where = f"profile {profile!r}"
    tags = _tags(where, session_tags) if session_tags else ()
    keys = tuple(k.strip() for k in transitive.split(",")) if transitive else ()
    if any(not k for k in keys):
        raise ConfigError(f"{where}: transitive_session_tags has an empty key", hint="write it as key1,key2")
    known = {k.lower() for k, _ in tags}
    for key in keys:
        if key.lower() not in known:
            raise ConfigError(
                f"{where}: transitive_session_tags names {key!r}, which is not in session_tags",
                hint="a transitive tag must also be set in session_tags",
            )
    identity = source_identity.strip() if source_identity else None
    if identity is not None and not _SOURCE_IDENTITY.match(identity):
        raise ConfigError(f"{where}: source_identity must be 2 to 64 characters of letters, digits and _ + = , . @ -")
    return RoleSessionTags(tags=tags, transitive_keys=keys, source_identity=identity)


def _tags(where: str, raw: str) -> tuple[tuple[str, str], ...]:
    tags: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ConfigError(
                f"{where}: session_tags must be key=value pairs separated by commas",
                hint="e.g. session_tags = team=infra,project=x",
            )
        if len(key) > MAX_KEY or not _TAG_TEXT.match(key):
            raise ConfigError(
                f"{where}: session tag key {key[:40]!r} must be 1 to {MAX_KEY} "
                "characters of letters, digits, spaces and _ . : / = + - @"
            )
        if len(value) > MAX_VALUE or not _TAG_TEXT.match(value):
            raise ConfigError(
                f"{where}: the value of session tag {key!r} must be at most "
                f"{MAX_VALUE} characters of letters, digits, spaces and _ . : / = + - @"
            )
        if key.lower() in seen:
            raise ConfigError(f"{where}: session tag {key!r} is set twice (keys ignore case)")
        seen.add(key.lower())
        tags.append((key, value))
    if len(tags) > MAX_TAGS:
        raise ConfigError(f"{where}: {len(tags)} session tags; AWS allows at most {MAX_TAGS}")
    return tuple(tags)

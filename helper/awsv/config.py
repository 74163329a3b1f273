"""Reading the user's AWS config file the way botocore does.

awsv never owns `~/.aws/config`: it reads the same file the AWS CLI and SDKs
read, with the same section rules, so a profile means the same thing to every
tool. Resolution of a profile into the steps that produce its credentials
lives in `awsv.chain`; this module only parses and exposes settings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from pathlib import Path
from types import MappingProxyType

from awsv.errors import ConfigError, ProfileNotFound, SourceProfileLoop
from awsv.paths import aws_config_file
from awsv.records import record
from awsv.safe_read import read_text_file

#: Settings awsv reads from a profile; anything else is kept but ignored.
KNOWN_KEYS = frozenset(
    {
        "region",
        "mfa_serial",
        "role_arn",
        "source_profile",
        "role_session_name",
        "external_id",
        "duration_seconds",
        "credential_process",
        "mfa_process",
        "include_profile",
        "sts_regional_endpoints",
        "endpoint_url",
        "credential_source",
        "web_identity_token_file",
        "sso_session",
        "sso_start_url",
        "sso_region",
        "sso_account_id",
        "sso_role_name",
        "sso_registration_scopes",
        "web_identity_token_process",
        "awsv_color",
        "awsv_alias",
    }
)
#: The longest include_profile chain followed (README, "Limits").
MAX_INCLUDE_DEPTH = 50
#: "Did you mean" is computed only for configs of at most this many profiles.
MAX_SUGGESTION_POOL = 2000


@record
class Profile:
    """One profile's settings, after `include_profile` has been merged in."""

    name: str
    settings: Mapping[str, str] = field(default_factory=dict)
    #: Whether the profile has a section in the config file (vault-only profiles do not).
    in_config: bool = True

    def get(self, key: str) -> str | None:
        """The setting's value, or None when unset or empty."""
        value = self.settings.get(key)
        return value if value else None

    @property
    def region(self) -> str | None:
        return self.get("region")

    @property
    def role_arn(self) -> str | None:
        return self.get("role_arn")

    @property
    def source_profile(self) -> str | None:
        return self.get("source_profile")

    @property
    def mfa_serial(self) -> str | None:
        return self.get("mfa_serial")

    @property
    def credential_process(self) -> str | None:
        return self.get("credential_process")

    def duration_seconds(self) -> int | None:
        """`duration_seconds` as an int; a non-number is a config error naming the profile."""
        raw = self.get("duration_seconds")
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(
                f"profile {self.name!r}: duration_seconds = {raw!r} is not a whole number of seconds"
            ) from None
        if value <= 0:
            raise ConfigError(f"profile {self.name!r}: duration_seconds must be positive")
        return value


class AwsConfig:
    """The parsed config file: profiles and sso-sessions by name.

    Parsing follows botocore: `[default]` and `[profile NAME]` are profiles
    (`[profile default]` wins over `[default]`), `[sso-session NAME]` is kept
    apart, section names are split like a shell would (so `[profile  prod]`
    works), keys are case-insensitive, comments start a line with `#` or `;`.
    """

    def __init__(
        self,
        profiles: Mapping[str, Mapping[str, str]],
        sso_sessions: Mapping[str, Mapping[str, str]] | None = None,
        path: Path | None = None,
        *,
        exists: bool = True,
    ) -> None:
        self._raw = dict(profiles)
        #: Merged profiles already built: `list` and `doctor` ask for each one several times.
        self._merged: dict[str, Profile] = {}
        self.sso_sessions = dict(sso_sessions or {})
        self.path = path
        #: False when the config file was missing (so errors say that, not "not in the file").
        self.exists = exists

    # -- loading -------------------------------------------------------------

    @classmethod
    def load(cls, env: Mapping[str, str] = os.environ) -> AwsConfig:
        """Read `AWS_CONFIG_FILE` (default ~/.aws/config); a missing file is an empty config.

        Anything but a regular file of at most `safe_read.MAX_FILE_BYTES` is
        one ConfigError naming the file (a FIFO there must not hang awsv).
        """
        path = aws_config_file(env)
        try:
            text = read_text_file(path, what="AWS config")
        except FileNotFoundError:
            return cls({}, path=path, exists=False)
        return cls.parse(text, path=path)

    @classmethod
    def parse(cls, text: str, path: Path | None = None) -> AwsConfig:
        """Parse config text; a syntax error becomes one ConfigError naming file and line."""
        from awsv.config_lines import read_plain

        plain = read_plain(text)  # the common shape, ten times faster; None: configparser's job
        sections = plain if plain is not None else cls._configparser_sections(text, path)
        profiles: dict[str, dict[str, str]] = {}
        explicit_default: dict[str, str] | None = None
        sso: dict[str, dict[str, str]] = {}
        for section, raw_values in sections:
            # read_plain's values are already stripped strings; configparser's may be None.
            values = raw_values if plain is not None else {k: _clean_value(v) for k, v in raw_values.items()}
            if section == "default":
                profiles.setdefault("default", values)
                continue
            kind, name = _split_section(section)
            if kind == "profile" and name:
                if name == "default":
                    explicit_default = values
                else:
                    profiles[name] = values
            elif kind == "sso-session" and name:
                sso[name] = values
        if explicit_default is not None:
            profiles["default"] = explicit_default
        return cls(profiles, sso, path=path)

    @staticmethod
    def _configparser_sections(text: str, path: Path | None) -> list[tuple[str, dict[str, str]]]:
        """Sections and their raw values, read by configparser (botocore's reader)."""
        where = str(path) if path else "AWS config"
        import configparser  # only for configs read_plain leaves to it: most commands never load it

        parser = configparser.RawConfigParser(default_section="\0no default section\0", interpolation=None)
        try:
            parser.read_string(text, source=where)
        except configparser.MissingSectionHeaderError as exc:
            raise ConfigError(f"{where}, line {exc.lineno}: a setting comes before any [section] header") from None
        except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as exc:
            raise ConfigError(f"{where}: {_first_line(exc)}") from None
        except configparser.ParsingError as exc:
            line = exc.errors[0][0] if exc.errors else "?"
            raise ConfigError(f"{where}, line {line}: cannot parse this line") from None
        except configparser.Error as exc:
            raise ConfigError(f"{where}: {_first_line(exc)}") from None
        return [(section, {k: v or "" for k, v in parser.items(section)}) for section in parser.sections()]

    # -- access --------------------------------------------------------------

    def names(self) -> list[str]:
        """Profile names in file order."""
        return list(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def raw(self, name: str) -> Mapping[str, str]:
        """The profile's own settings, before include_profile."""
        return self._raw[name]

    def profile(self, name: str, *, allow_missing: bool = False) -> Profile:
        """The named profile with `include_profile` merged in (its own values win).

        A name with no section raises ProfileNotFound, unless `allow_missing`
        (a profile that exists only in the vault), which yields an empty profile.
        """
        known = self._merged.get(name)
        if known is not None:
            return known
        if name not in self._raw:
            if allow_missing:
                return Profile(name, {}, in_config=False)
            raise self.not_found(name)
        merged: dict[str, str] = {}
        trail: list[str] = []
        current: str | None = name
        while current is not None:
            if current in trail:
                raise SourceProfileLoop("include_profile loop: " + " -> ".join([*trail, current]))
            trail.append(current)
            if len(trail) > MAX_INCLUDE_DEPTH:
                raise ConfigError(
                    f"profile {name!r}: its include_profile chain is longer than {MAX_INCLUDE_DEPTH} profiles"
                )
            if current not in self._raw:
                raise ProfileNotFound(
                    f"profile {current!r} (include_profile of {trail[-2]!r}) is not in {self._where()}"
                )
            own = self._raw[current]
            for key, value in own.items():
                if key != "include_profile":
                    merged.setdefault(key, value)
            current = own.get("include_profile") or None
        profile = self._merged[name] = Profile(name, MappingProxyType(merged))
        return profile

    def not_found(
        self, name: str, *, extra_names: list[str] | None = None, needed_by: str | None = None
    ) -> ProfileNotFound:
        """The error for an unknown profile, with the closest names as a hint."""
        import difflib  # only on this error path

        candidates = sorted({*self._raw, *(extra_names or [])})
        # Bounded: a hostile config of many dangling names must not cost n² comparisons.
        close = (
            difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
            if len(candidates) <= MAX_SUGGESTION_POOL
            else []
        )
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else (
                "run `awsv list` to see the profiles"
                if candidates
                else f"add a [profile {name}] section to {self._where()}, or `awsv add {name}`"
            )
        )
        role = f" (source_profile of {needed_by!r})" if needed_by else ""
        if not self.exists and self.path is not None:
            return ProfileNotFound(
                f"profile {name!r}{role}: {self.path} does not exist",
                hint=f"create it with a [profile {name}] section, or `awsv add {name}`",
            )
        return ProfileNotFound(f"profile {name!r}{role} is not in {self._where()}", hint=hint)

    def _where(self) -> str:
        return str(self.path) if self.path else "the AWS config"


class ConfigCache:
    """Recent parses of config files, each reused while its file is provably unchanged.

    The agent answers every `awsv use P` and credential_process; re-parsing a
    config of 10,000 profiles per request costs more than everything else it
    does. A parse is reused while the file's device, inode, size, mtime and
    ctime (nanoseconds) are all unchanged. A file changed within
    `RACY_SECONDS` of now is never cached: a second write in the same clock
    tick could keep every one of those fields (git calls this the "racily
    clean" case), so such a file is read afresh each time until it settles.
    Errors are never cached: they are raised again on the next request. Up
    to `ENTRIES` files are kept (shells may set different AWS_CONFIG_FILEs),
    the least recently used dropped first.
    """

    #: A file whose mtime or ctime is this close to now is parsed on every request.
    RACY_SECONDS = 2.0
    #: Config files remembered at once.
    ENTRIES = 4

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        import threading  # the agent's cache only

        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[int, ...], AwsConfig]] = {}
        #: How many times a file was actually parsed (for tests).
        self.parses = 0

    def load(self, env: Mapping[str, str]) -> AwsConfig:
        """`AwsConfig.load(env)`, or the same parse as last time when the file is unchanged."""
        path = aws_config_file(env)
        key = str(path)
        try:
            st = os.stat(path)
        except OSError:
            with self._lock:
                self._entries.pop(key, None)
                self.parses += 1
            return AwsConfig.load(env)  # missing or unreadable: its own result or error, uncached
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None and entry[0] == stamp:
                self._entries[key] = entry  # most recently used last
                return entry[1]
        # Stat before reading: if the file changes in between, the stamp is
        # the old one and the next request parses again (never the reverse).
        config = AwsConfig.load(env)
        settled = self._clock() - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 >= self.RACY_SECONDS
        with self._lock:
            self.parses += 1
            if settled:
                self._entries[key] = (stamp, config)
                while len(self._entries) > self.ENTRIES:
                    del self._entries[next(iter(self._entries))]
        return config


def _split_section(section: str) -> tuple[str, str | None]:
    """`profile prod` -> ("profile", "prod"); botocore splits with shlex the same way.

    Without quotes or backslashes shlex splits on whitespace only, so the
    common case skips it (a config of 1,000 profiles spends ~20 ms in shlex).
    """
    if not any(ch in section for ch in "\"'\\"):
        parts = section.split()
    else:
        try:
            import shlex

            parts = shlex.split(section)
        except ValueError:
            return section, None
    if len(parts) == 2:
        return parts[0], parts[1]
    return section, None


def _clean_value(value: str | None) -> str:
    return (value or "").strip()


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

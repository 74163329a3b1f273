"""The environment contract: which variables a session sets and which it clears.

`awsv use`, `awsv off`, `awsv exec` and `awsv export` all deliver the same
set of variables, so the set is written down once here (the README's "Using
the credentials" lists it for users) and every command derives its output
from `session_changes` / `off_changes`. The functions are pure: they turn
credentials into a change map ("set NAME to VALUE", or None for "unset NAME")
and know nothing about shells, which is what `awsv.shells` is for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from awsv.credentials import Credentials, account_from_arn
from awsv.errors import ConfigError
from awsv.names import validate_profile_name
from awsv.shells.base import Changes as Changes  # the one alias, re-exported for callers

#: What the functions below build: a change map (see `awsv.shells.base.Changes`) the
#: caller may still extend, hence a dict.
ChangeMap = dict[str, "str | None"]

#: Variables a session owns: set when it has a value, otherwise unset so
#: nothing from an earlier session survives (a stale token with fresh keys
#: would make every call fail with InvalidClientTokenId).
SESSION_VARS: tuple[str, ...] = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    # Same value as AWS_CREDENTIAL_EXPIRATION, for prompt themes that still read it.
    "AWS_SESSION_EXPIRATION",
    "AWSV_PROFILE",
    "AWSV_ACCOUNT",
    # Epoch seconds, so the prompt badge does no date parsing.
    "AWSV_EXPIRES",
    # aws-vault's marker; starship, powerlevel10k and zsh-aws-vault light up on it.
    "AWS_VAULT",
    # The profile's `awsv_color` / `awsv_alias`, read once here so the prompt
    # badge never reads the config file; unset when the profile has none.
    "AWSV_COLOR",
    "AWSV_ALIAS",
)

#: Set only when the profile has a region; otherwise left as the user had them.
REGION_VARS: tuple[str, ...] = ("AWS_REGION", "AWS_DEFAULT_REGION")

#: Variables that would contradict the exported keys: the SDKs give
#: AWS_PROFILE lower priority than keys in the environment, but other tools
#: (and humans reading `env`) do not, and AWS_SECURITY_TOKEN is the old name of
#: AWS_SESSION_TOKEN that some SDKs still prefer.
CONTRADICTING_VARS: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    # A session's variables replace an endpoint's (and a
    # stale one, left by an endpoint that has stopped).
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)

#: The two variables through which the SDKs find awsv's local credential endpoint.
ENDPOINT_URI_VAR = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
ENDPOINT_TOKEN_VAR = "AWS_CONTAINER_AUTHORIZATION_TOKEN"  # noqa: S105 - a variable name, not a token

#: Every variable of the contract; `awsv off` unsets exactly these.
ALL_VARS: tuple[str, ...] = (*SESSION_VARS, *REGION_VARS, *CONTRADICTING_VARS)

#: Variables whose presence means "this process is already inside an awsv (or aws-vault) session".
SESSION_MARKERS: tuple[str, ...] = ("AWSV_PROFILE", "AWS_VAULT")


#: `awsv_color` values the shells can all draw: a name, a 256-colour index, or #rrggbb.
_COLOR = re.compile(r"(?:black|red|green|yellow|blue|magenta|cyan|white|[0-9]{1,3}|#[0-9a-f]{6})\Z")
ALIAS_MAX = 40


def display_color(profile: str, raw: str | None) -> str | None:
    """`awsv_color` normalised (lower case), None when unset; anything else is a ConfigError.

    Checked here because the value ends up inside prompt escapes: only a
    closed alphabet may get there.
    """
    if raw is None or not raw.strip():
        return None
    color = raw.strip().lower()
    if not _COLOR.match(color) or (color.isdigit() and int(color) > 255):
        raise ConfigError(
            f"profile {profile!r}: awsv_color = {raw!r} is not a colour",
            hint="use black, red, green, yellow, blue, magenta, cyan, white, a number 0-255 or #rrggbb",
        )
    return color


def display_alias(profile: str, raw: str | None) -> str | None:
    """`awsv_alias` stripped, None when unset; control characters or overlength are a ConfigError.

    The alias is drawn in the prompt, where a control character could move
    the cursor or change the terminal's state.
    """
    if raw is None or not raw.strip():
        return None
    alias = raw.strip()
    if len(alias) > ALIAS_MAX or not alias.isprintable():
        raise ConfigError(f"profile {profile!r}: awsv_alias must be at most {ALIAS_MAX} printable characters")
    return alias


def session_changes(
    profile: str,
    credentials: Credentials,
    region: str | None = None,
    *,
    color: str | None = None,
    alias: str | None = None,
) -> ChangeMap:
    """The change map that puts `credentials` for `profile` into an environment.

    Every variable in ALL_VARS appears, set or unset (None), except the
    region variables, which appear only when `region` is given. `color` and
    `alias` are the profile's raw `awsv_color` / `awsv_alias` settings.
    Raises InvalidProfileName for a name that must never reach a shell, and
    ConfigError for a colour or alias the prompt cannot show.
    """
    validate_profile_name(profile)
    values: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token or None,
        "AWS_CREDENTIAL_EXPIRATION": credentials.expiration_iso(),
        "AWS_SESSION_EXPIRATION": credentials.expiration_iso(),
        "AWSV_PROFILE": profile,
        "AWSV_ACCOUNT": credentials.account_id or account_from_arn(credentials.arn),
        "AWSV_EXPIRES": (str(int(credentials.expiration.timestamp())) if credentials.expiration is not None else None),
        "AWS_VAULT": profile,
        "AWSV_COLOR": display_color(profile, color),
        "AWSV_ALIAS": display_alias(profile, alias),
    }
    changes: ChangeMap = {name: None for name in ALL_VARS if name not in REGION_VARS}
    changes.update(values)
    if region:
        changes.update(dict.fromkeys(REGION_VARS, region))
    return changes


def endpoint_changes(
    profile: str,
    uri: str,
    token: str,
    *,
    account: str | None = None,
    region: str | None = None,
    color: str | None = None,
    alias: str | None = None,
) -> ChangeMap:
    """The change map for a command served by the local credential endpoint.

    It gets the endpoint's two variables and the session markers (so nesting
    checks and prompt badges still see the profile), and no key, token or
    expiry variable: keys in the environment would outrank the endpoint for
    every SDK, and an expiry would be wrong after the first renewal.
    """
    validate_profile_name(profile)
    changes: ChangeMap = {name: None for name in ALL_VARS if name not in REGION_VARS}
    changes.update(
        {
            "AWSV_PROFILE": profile,
            "AWS_VAULT": profile,
            "AWSV_ACCOUNT": account,
            "AWSV_COLOR": display_color(profile, color),
            "AWSV_ALIAS": display_alias(profile, alias),
            ENDPOINT_URI_VAR: uri,
            ENDPOINT_TOKEN_VAR: token,
        }
    )
    if region:
        changes.update(dict.fromkeys(REGION_VARS, region))
    return changes


def off_changes() -> ChangeMap:
    """The change map for `awsv off`: unset every variable of the contract."""
    return dict.fromkeys(ALL_VARS)


def set_values(changes: Mapping[str, str | None]) -> dict[str, str]:
    """Only the variables `changes` sets, in contract order (for env/json output)."""
    order = {name: i for i, name in enumerate(ALL_VARS)}
    named = sorted((n for n, v in changes.items() if v is not None), key=lambda n: order.get(n, len(order)))
    return {name: str(changes[name]) for name in named}


def apply_to(env: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """A copy of `env` with `changes` applied (for a child process's environment)."""
    result = dict(env)
    for name, value in changes.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def active_session(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(variable, value) of the marker showing `env` is inside a session, or None."""
    for name in SESSION_MARKERS:
        if env.get(name):
            return name, env[name]
    return None

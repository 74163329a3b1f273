"""Property-based checks (Hypothesis) of the rules hostile input meets first.

* The config parser: any text gives a config or one ConfigError (never another
  exception), and a config written from generated profiles reads back the same.
* The profile-name rule: accepted names are exactly the documented alphabet and
  length, and are safe as a shell word and a file name.
* The credential-value rule: accepted values are exactly the documented alphabet
  and lengths; the error names the field and never contains the value.
* Output of a helper command: any bytes give credentials or one
  CredentialProcessError / InvalidCredentials.

Examples that found real bugs are kept with `@example`.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from awsv.config import AwsConfig
from awsv.credential_process import CredentialProcessError, parse_output
from awsv.credentials import (
    MAX_ACCESS_KEY_ID,
    MAX_SECRET_ACCESS_KEY,
    MAX_SESSION_TOKEN,
    Credentials,
    InvalidCredentials,
    check_values,
)
from awsv.errors import ConfigError, InvalidProfileName, SourceProfileLoop
from awsv.names import MAX_LENGTH, is_valid_profile_name, validate_profile_name
from tests.hardening.conftest import Tally, size

SETTINGS = settings(
    max_examples=size(150, 3000),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

NAME_CHARS = string.ascii_letters + string.digits + "_.@+=,-"
NAME = st.text(alphabet=NAME_CHARS, min_size=1, max_size=MAX_LENGTH).filter(
    lambda n: n[0] not in ".@+=,-" and ".." not in n
)
KEY = st.sampled_from(
    ["region", "role_arn", "source_profile", "mfa_serial", "awsv_alias", "credential_process", "x_custom"]
)
# Values as configparser can hold them: one line, no leading/trailing blanks, no comment start.
VALUE = st.text(
    st.characters(
        blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", blacklist_categories=("Cs", "Zl", "Zp")
    ),
    max_size=30,
).map(str.strip)


@pytest.mark.hardening_row("hostile configs and helper commands")
def test_any_text_is_a_config_or_one_config_error(tally: Tally) -> None:
    @SETTINGS
    @given(text=st.text(max_size=400))
    @example(text="[profile a]\ninclude_profile = a\n")
    @example(text="[profile a]\nregion = x\n[profile a]\n")
    @example(text="x = 1\n")
    @example(text='[profile "a\\"]\n')
    def check(text: str) -> None:
        try:
            config = AwsConfig.parse(text)
            for name in config.names():
                try:
                    config.profile(name)
                except (ConfigError, SourceProfileLoop):
                    pass
        except ConfigError as exc:
            tally.attempt("\n" not in exc.message, "multi-line error")
        except Exception as exc:  # noqa: BLE001 - the property: nothing else escapes
            tally.attempt(False, f"{type(exc).__name__}: {exc}"[:200])
        else:
            tally.attempt(True)

    check()


@pytest.mark.hardening_row("hostile configs and helper commands")
def test_generated_configs_read_back_the_same(tally: Tally) -> None:
    @SETTINGS
    @given(profiles=st.dictionaries(NAME, st.dictionaries(KEY, VALUE, max_size=4), max_size=6))
    @example(profiles={"default": {"region": "eu-west-1"}, "a": {"region": ""}})
    def check(profiles: dict[str, dict[str, str]]) -> None:
        lines = []
        for name, values in profiles.items():
            lines.append("[default]" if name == "default" else f"[profile {name}]")
            lines += [f"{k} = {v}" for k, v in values.items()]
        config = AwsConfig.parse("\n".join(lines) + "\n")
        got = {n: dict(config.raw(n)) for n in config.names()}
        tally.attempt(got == profiles, repr(profiles)[:200])

    check()


@pytest.mark.hardening_row("profile-name and value rules")
def test_profile_name_rule(tally: Tally) -> None:
    rule = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+=,-]*\Z")

    @SETTINGS
    @given(name=st.one_of(NAME, st.text(max_size=80)))
    @example(name="a..b")
    @example(name="-rf")
    @example(name="a" * (MAX_LENGTH + 1))
    @example(name="prod\n")
    @example(name="ｐｒｏｄ")  # full-width letters: \w would take them, the rule must not
    def check(name: str) -> None:
        expected = bool(name) and len(name) <= MAX_LENGTH and bool(rule.match(name)) and ".." not in name
        try:
            validate_profile_name(name)
            accepted = True
        except InvalidProfileName as exc:
            accepted = False
            tally.attempt("\n" not in exc.message, "multi-line error")
        safe = not accepted or (name.isascii() and "/" not in name and not name.startswith("-"))
        tally.attempt(accepted == expected == is_valid_profile_name(name) and safe, repr(name))

    check()


PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80)


@pytest.mark.hardening_row("profile-name and value rules")
def test_credential_value_rule(tally: Tally) -> None:
    @SETTINGS
    @given(
        key_id=st.one_of(
            st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=MAX_ACCESS_KEY_ID + 5),
            st.text(max_size=20),
        ),
        secret=st.one_of(
            PRINTABLE,
            st.text(max_size=20),
            st.integers(MAX_SECRET_ACCESS_KEY - 2, MAX_SECRET_ACCESS_KEY + 2).map("s".__mul__),
        ),
        token=st.one_of(st.none(), PRINTABLE, st.text(max_size=20)),
    )
    @example(key_id="AKIA", secret="abc\ndef", token=None)  # issue 12: reported as a network failure
    @example(key_id="AKIA", secret="s", token="t" * (MAX_SESSION_TOKEN + 1))
    def check(key_id: str, secret: str, token: str | None) -> None:
        def fine(value: str, limit: int, alphabet: str) -> bool:
            return 0 < len(value) <= limit and all(c in alphabet for c in value)

        printable = "".join(chr(c) for c in range(0x21, 0x7F))
        expected = (
            fine(key_id, MAX_ACCESS_KEY_ID, string.ascii_letters + string.digits)
            and fine(secret, MAX_SECRET_ACCESS_KEY, printable)
            and (token is None or fine(token, MAX_SESSION_TOKEN, printable))
        )
        try:
            check_values(Credentials(key_id, secret, token), "the test source of profile 'p'")
            accepted = True
        except InvalidCredentials as exc:
            accepted = False
            # 8 characters or more: a shorter value may be a piece of the message's own
            # wording ("than", "digits"), which a worker's example happened to be.
            leaks = any(len(v) >= 8 and v in exc.message for v in (secret, token or ""))
            tally.attempt("'p'" in exc.message and not leaks and "\n" not in exc.message, exc.message)
        tally.attempt(accepted == expected, f"{key_id!r} {len(secret)} {None if token is None else len(token)}")

    check()


@pytest.mark.hardening_row("hostile configs and helper commands")
def test_any_helper_output_is_credentials_or_one_error(tally: Tally) -> None:
    @SETTINGS
    @given(
        raw=st.one_of(
            st.binary(max_size=300),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                max_leaves=10,
            ).map(lambda d: repr(d).encode()),
        )
    )
    @example(raw=b"[" * 100_000)  # issue 12: a RecursionError traceback
    @example(raw=b'{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "a\\nb"}')
    @example(raw=b'{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": 5}')
    @example(raw=b'\xff\xfe{"Version": 1}')
    def check(raw: bytes) -> None:
        try:
            parse_output(raw, "credential_process of profile 'p'")
        except (CredentialProcessError, InvalidCredentials) as exc:
            tally.attempt("\n" not in exc.message and "'p'" in exc.message, exc.message)
        except Exception as exc:  # noqa: BLE001 - the property: nothing else escapes
            tally.attempt(False, f"{type(exc).__name__}")
        else:
            tally.attempt(True)

    check()

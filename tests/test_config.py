"""Config parsing and chain resolution, on real config text.

Pure functions: no vault, no network. The CLI-level behaviour of the same
errors (one line, exit 1) is covered in test_cli_errors.py.
"""

from __future__ import annotations

import pytest

from awsv.chain import resolve
from awsv.config import AwsConfig
from awsv.errors import ConfigError, InvalidProfileName, ProfileNotFound, SourceProfileLoop
from awsv.names import validate_profile_name

CONFIG = """
# a comment
; another comment
[default]
region = eu-west-1

[profile   base]
region=us-east-1
mfa_serial = arn:aws:iam::111111111111:mfa/alice

[profile admin]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = base
external_id = ext-123
role_session_name = alice-admin
duration_seconds = 1800

[profile readonly]
role_arn = arn:aws:iam::222222222222:role/ReadOnly
source_profile = base

[profile deep]
role_arn = arn:aws:iam::333333333333:role/Deep
source_profile = admin
region = ap-south-1

[profile deeper]
role_arn = arn:aws:iam::444444444444:role/Deeper
source_profile = deep

[profile cp]
credential_process = /usr/bin/get-creds --profile cp

[profile cp-role]
role_arn = arn:aws:iam::555555555555:role/FromProcess
source_profile = cp

[profile own-mfa]
role_arn = arn:aws:iam::666666666666:role/OwnMfa
source_profile = nomfa
mfa_serial = arn:aws:iam::111111111111:mfa/bob

[profile nomfa]
region = us-west-2

[profile second-mfa]
role_arn = arn:aws:iam::777777777777:role/Other
source_profile = base
mfa_serial = arn:aws:iam::999999999999:mfa/other

[profile self]
role_arn = arn:aws:iam::888888888888:role/Self
source_profile = self

[profile inc]
include_profile = base
region = sa-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start

[services dev]
s3 =
  endpoint_url = http://localhost:9000
"""


@pytest.fixture
def config() -> AwsConfig:
    return AwsConfig.parse(CONFIG)


def test_sections_parsed_like_botocore(config: AwsConfig) -> None:
    assert config.names() == [
        "default",
        "base",
        "admin",
        "readonly",
        "deep",
        "deeper",
        "cp",
        "cp-role",
        "own-mfa",
        "nomfa",
        "second-mfa",
        "self",
        "inc",
    ]
    assert config.profile("default").region == "eu-west-1"
    assert config.profile("base").region == "us-east-1"  # odd spacing, no spaces around '='
    assert "corp" in config.sso_sessions
    assert "dev" not in config  # [services dev] is not a profile


def test_profile_default_section_wins_over_default() -> None:
    cfg = AwsConfig.parse("[profile default]\nregion = a\n[default]\nregion = b\n")
    assert cfg.profile("default").region == "a"


def test_plain_profile_is_a_vault_source(config: AwsConfig) -> None:
    chain = resolve(config, "base")
    assert chain.source.kind == "vault" and chain.source.profile == "base"
    assert chain.source.mfa_serial == "arn:aws:iam::111111111111:mfa/alice"
    assert chain.hops == ()
    assert chain.region == "us-east-1"


def test_one_hop_with_all_role_settings(config: AwsConfig) -> None:
    chain = resolve(config, "admin")
    assert chain.source.profile == "base"
    (hop,) = chain.hops
    assert hop.role_arn == "arn:aws:iam::222222222222:role/Admin"
    assert (hop.external_id, hop.role_session_name, hop.duration_seconds) == ("ext-123", "alice-admin", 1800)
    assert hop.mfa_serial is None  # covered by the source's MFA session
    assert chain.region == "us-east-1"  # inherited from the source
    assert chain.trail == ("admin", "base")


def test_three_hops_in_order(config: AwsConfig) -> None:
    chain = resolve(config, "deeper")
    assert [h.profile for h in chain.hops] == ["admin", "deep", "deeper"]
    assert chain.source.profile == "base"
    assert chain.region == "ap-south-1"  # nearest region along the chain


def test_roles_sharing_a_source_use_one_mfa_device(config: AwsConfig) -> None:
    a, b = resolve(config, "admin"), resolve(config, "readonly")
    assert a.source == b.source
    assert all(h.mfa_serial is None for h in (*a.hops, *b.hops))


def test_role_own_mfa_moves_to_source_session_when_source_has_none(config: AwsConfig) -> None:
    chain = resolve(config, "own-mfa")
    assert chain.source.profile == "nomfa"
    assert chain.source.mfa_serial == "arn:aws:iam::111111111111:mfa/bob"
    assert chain.hops[0].mfa_serial is None


def test_role_with_a_different_mfa_device_keeps_it(config: AwsConfig) -> None:
    chain = resolve(config, "second-mfa")
    assert chain.source.mfa_serial == "arn:aws:iam::111111111111:mfa/alice"
    assert chain.hops[0].mfa_serial == "arn:aws:iam::999999999999:mfa/other"


def test_credential_process_source(config: AwsConfig) -> None:
    chain = resolve(config, "cp-role")
    assert chain.source.kind == "credential_process"
    assert chain.source.credential_process == "/usr/bin/get-creds --profile cp"
    assert [h.profile for h in chain.hops] == ["cp-role"]


def test_self_sourced_role(config: AwsConfig) -> None:
    chain = resolve(config, "self")
    assert chain.source.profile == "self" and len(chain.hops) == 1


def test_include_profile_merges_own_values_win(config: AwsConfig) -> None:
    profile = config.profile("inc")
    assert profile.region == "sa-east-1"
    assert profile.mfa_serial == "arn:aws:iam::111111111111:mfa/alice"


def test_source_profile_loop_names_every_profile() -> None:
    cfg = AwsConfig.parse(
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
        "[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n"
    )
    with pytest.raises(SourceProfileLoop) as err:
        resolve(cfg, "a")
    assert err.value.message == "source_profile loop: a -> b -> c -> a"


def test_include_profile_loop() -> None:
    cfg = AwsConfig.parse("[profile a]\ninclude_profile = b\n[profile b]\ninclude_profile = a\n")
    with pytest.raises(SourceProfileLoop, match="a -> b -> a"):
        cfg.profile("a")


def test_missing_source_profile_names_both() -> None:
    cfg = AwsConfig.parse("[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = ghost\n")
    with pytest.raises(ProfileNotFound) as err:
        resolve(cfg, "a")
    assert "'ghost' (source_profile of 'a')" in err.value.message


def test_vault_only_source_profile_is_allowed() -> None:
    cfg = AwsConfig.parse("[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = ghost\n")
    chain = resolve(cfg, "a", in_vault={"ghost"}.__contains__)
    assert chain.source.profile == "ghost" and not chain.source.mfa_serial


def test_role_without_source() -> None:
    cfg = AwsConfig.parse("[profile a]\nrole_arn = arn:aws:iam::1:role/a\n")
    with pytest.raises(ConfigError, match="'a' has role_arn but no source_profile"):
        resolve(cfg, "a")


def test_unknown_profile_suggests_close_names(config: AwsConfig) -> None:
    with pytest.raises(ProfileNotFound) as err:
        resolve(config, "admn")
    assert err.value.hint == "did you mean admin?"


def test_bad_duration_is_named() -> None:
    cfg = AwsConfig.parse("[profile a]\nrole_arn = r\nsource_profile = b\nduration_seconds = 1h\n[profile b]\n")
    with pytest.raises(ConfigError, match="profile 'a': duration_seconds = '1h'"):
        resolve(cfg, "a")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("region = x\n[profile a]\n", "line 1: a setting comes before any [section] header"),
        ("[profile a]\nregion = x\n[profile a]\n", "section 'profile a' already exists"),
        ("[profile a]\nregion = x\nregion = y\n", "option 'region' in section 'profile a' already exists"),
        ("[profile a]\nthis line has no equals\n", "line 2: cannot parse this line"),
    ],
)
def test_broken_config_is_one_clear_error(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        AwsConfig.parse(text)
    assert fragment in err.value.message
    assert "\n" not in err.value.message


@pytest.mark.parametrize("name", ["prod", "prod-admin", "a.b", "team_x@corp", "x+y=z,w", "_private", "A1"])
def test_valid_profile_names(name: str) -> None:
    assert validate_profile_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-rf",
        ".hidden",
        "a b",
        "a;b",
        "$(id)",
        "`id`",
        "a/b",
        "..",
        "a..b",
        "a'b",
        'a"b',
        "a\nb",
        "a\\b",
        "é",
        "x" * 65,
        "a|b",
        "~root",
    ],
)
def test_dangerous_profile_names_refused(name: str) -> None:
    with pytest.raises(InvalidProfileName):
        validate_profile_name(name)
    with pytest.raises(InvalidProfileName):
        resolve(AwsConfig.parse(""), name)


@pytest.mark.parametrize(
    "header, names",
    [
        ("[profile prod]", ["prod"]),
        ("[profile   spaced]", ["spaced"]),
        ("[profile\tx]", ["x"]),
        ('[profile "quoted name"]', ["quoted name"]),
        ("[profile 'prod-q']", ["prod-q"]),
        ('[profile "unterminated]', []),
        ("[profile a b]", []),
    ],
)
def test_section_names_split_like_shlex(header: str, names: list[str]) -> None:
    assert AwsConfig.parse(f"{header}\nregion = r\n").names() == names

"""aws-vault's documented configs, verbatim, run through awsv (issue 9 §4).

Each config below is copied from aws-vault's USAGE.md (ByteNess/aws-vault,
the maintained fork of 99designs/aws-vault) with only the program name
changed from `aws-vault` to `awsv`. Every profile in them must resolve
(`awsv list --json` shows no error once the source keys are stored), and
where a config wires `credential_process`, the real AWS CLI drives it
against moto's server, running the `awsv` program on PATH.

Not here: USAGE.md's IAM Identity Center examples (`sso_start_url`,
`sso_account_id`…) and web-identity examples (`web_identity_token_file`,
`web_identity_token_process`), which are sources awsv gains in other issues;
the test module of those sources carries them.

Some examples use placeholders AWS itself would reject (`role_arn=xxx`,
`mfa_serial=mmm`): those configs are resolved, not sent to STS.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from awsv import session_tags
from awsv.errors import ConfigError
from tests.support.fault_proxy import AwsvWorld, fault_proxy, fault_proxy_server, world  # noqa: F401
from tests.support.moto_server import ACCOUNT_ID, moto, moto_url  # noqa: F401
from tests.support.program_home import QUICK, Home

# -- the configs, verbatim (program name changed) ------------------------------------

USE_CASE_1 = """\
; master creds added with 'aws-vault add my_profile_master'
[profile my_profile_master]

[profile my_profile_role]
source_profile=my_profile_master
role_arn=xxx
"""

USE_CASE_2 = """\
; master creds added with 'aws-vault add my_profile_master'
[profile my_profile_master]
credential_process = awsv export --format=json --no-session my_profile_master

[profile my_profile_role]
source_profile=my_profile_master
role_arn=xxx
"""

USE_CASE_3 = """\
; master creds added with 'aws-vault add my_profile_master'
[profile my_profile_master]
mfa_serial=mmm
credential_process = awsv export --format=json my_profile_master

[profile my_profile_role]
source_profile=my_profile_master
mfa_serial=mmm
role_arn=xxx1

[profile my_profile_role2]
source_profile=my_profile_master
mfa_serial=mmm
role_arn=xxx2
"""

USE_CASE_4_PROCESS = """\
[profile my_profile_using_process]
credential_process = my-custom-creds-cmd
"""

INCLUDE_MIXIN = """\
; The "common" profile here operates as a "config fragment" rather than a profile
[profile common]
region=eu-west-1
mfa_serial=arn:aws:iam::123456789:mfa/johnsmith
source_profile = root

[profile root]
include_profile = common

[profile order-dev]
include_profile = common
role_arn=arn:aws:iam::123456789:role/developers

[profile order-staging-admin]
include_profile = common
role_arn=arn:aws:iam::123456789:role/administrators
"""

INCLUDE_PARENT = """\
; The "root" profile here operates as a profile, a config fragment as well as a source_profile
[profile root]
region=eu-west-1
mfa_serial=arn:aws:iam::123456789:mfa/johnsmith
source_profile = root

[profile order-dev]
include_profile = root
role_arn=arn:aws:iam::123456789:role/developers

[profile order-staging-admin]
include_profile = root
role_arn=arn:aws:iam::123456789:role/administrators
"""

SESSION_TAGS = """\
[profile root]
region=eu-west-1

[profile order-dev]
source_profile = root
role_arn=arn:aws:iam::123456789:role/developers
session_tags = key1=value1,key2=value2,key3=value3
transitive_session_tags = key1,key2
"""

SOURCE_IDENTITY = """\
[profile root]
region=eu-west-1

[profile order-dev]
source_profile = root
role_arn=arn:aws:iam::123456789:role/developers
source_identity=your_user_name
"""

MFA_PROCESS_PASS = """\
[profile foo]
mfa_serial=arn:aws:iam::123456789:mfa/johnsmith
mfa_process=pass otp my_aws_mfa
"""

MFA_PROCESS_OP = """\
[profile foo]
mfa_serial=arn:aws:iam::123456789:mfa/johnsmith
mfa_process=op item get my_aws_mfa --otp
"""

HOME_AND_WORK = """\
[default]
region = us-east-1

[profile home]
mfa_serial = arn:aws:iam::111111111111:mfa/home-account

[profile work]
mfa_serial = arn:aws:iam::111111111111:mfa/work-account
role_arn = arn:aws:iam::111111111111:role/ReadOnly

[profile work-admin]
role_arn = arn:aws:iam::111111111111:role/Administrator
source_profile = work
"""

MFA_SHARED = """\
[profile tom]
mfa_serial = arn:aws:iam::111111111111:mfa/tom

[profile role1]
source_profile = tom
role_arn = arn:aws:iam::22222222222:role/role1
mfa_serial = arn:aws:iam::111111111111:mfa/tom

[profile role2]
source_profile = tom
role_arn = arn:aws:iam::33333333333:role/role2
mfa_serial = arn:aws:iam::111111111111:mfa/tom
"""

MFA_GOTCHA = """\
[profile jon]
mfa_serial = arn:aws:iam::111111111111:mfa/jon
source_profile=jon

[profile role1]
role_arn = arn:aws:iam::22222222222:role/role1
include_profile = jon

[profile role2]
role_arn = arn:aws:iam::33333333333:role/role2
include_profile = jon
"""

CP_HOME = """\
[profile home]
credential_process = awsv export --format=json home
"""

CP_WORK_PROMPT = """\
[profile work]
mfa_serial = arn:aws:iam::123456789012:mfa/jonsmith
credential_process = awsv --prompt=osascript export --format=json work
"""

CP_JON_NO_SESSION = """\
[profile jon]
credential_process = awsv export --no-session --format=json jon

[profile work]
mfa_serial = arn:aws:iam::123456789012:mfa/jonsmith
role_arn = arn:aws:iam::33333333333:role/role2
source_profile = jon
"""

YUBIKEY_MFA_PROCESS = """\
[profile jon]
mfa_serial = arn:aws:iam::123456789012:mfa/jonsmith
mfa_process = ykman oath accounts code --single arn:aws:iam::123456789012:mfa/jonsmith
"""

#: name -> (config, the profiles whose keys `aws-vault add` stored, as the example says).
EXAMPLES = {
    "use-case-1": (USE_CASE_1, ["my_profile_master"]),
    "use-case-2": (USE_CASE_2, ["my_profile_master"]),
    "use-case-3": (USE_CASE_3, ["my_profile_master"]),
    "use-case-4-process": (USE_CASE_4_PROCESS, []),
    "include-mixin": (INCLUDE_MIXIN, ["root"]),
    "include-parent": (INCLUDE_PARENT, ["root"]),
    "session-tags": (SESSION_TAGS, ["root"]),
    "source-identity": (SOURCE_IDENTITY, ["root"]),
    "mfa-process-pass": (MFA_PROCESS_PASS, ["foo"]),
    "mfa-process-1password": (MFA_PROCESS_OP, ["foo"]),
    "home-and-work": (HOME_AND_WORK, ["home", "work"]),
    "mfa-shared": (MFA_SHARED, ["tom"]),
    "mfa-gotcha": (MFA_GOTCHA, ["jon"]),
    "cp-home": (CP_HOME, ["home"]),
    "cp-work-prompt": (CP_WORK_PROMPT, ["work"]),
    "cp-jon-no-session": (CP_JON_NO_SESSION, ["jon"]),
    "yubikey-mfa-process": (YUBIKEY_MFA_PROCESS, ["jon"]),
}


def profiles_of(config: str) -> list[str]:
    names = []
    for line in config.splitlines():
        if line.startswith("[profile "):
            names.append(line[len("[profile ") : -1])
        elif line == "[default]":
            names.append("default")
    return names


def home_with(home: Path, moto: str, config: str, keys: list[str]) -> Home:
    h = Home(home, moto, config)
    for profile in keys:
        h.add_key(profile, f"user-{profile}")
    return h


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_every_profile_of_every_example_resolves(home: Path, moto: str, example: str) -> None:
    config, keys = EXAMPLES[example]
    h = home_with(home, moto, config, keys)
    r = h.awsv("list", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["profile"]: row for row in json.loads(r.stdout)}
    expected = profiles_of(config)
    assert expected and set(expected) <= set(rows)
    errors = {name: rows[name]["error"] for name in expected if rows[name]["error"]}
    assert errors == {}
    missing = {name: rows[name]["source"] for name in expected if "missing" in str(rows[name]["source"])}
    # Only what the examples themselves leave keyless: home-and-work's bare [default]
    # (region only) and the mixin's `common`, "a config fragment rather than a profile".
    assert set(missing) <= {"default", "common"}


# -- credential_process recipes, driven by the AWS CLI -------------------------------------


def test_use_case_2_master_credentials_through_the_aws_cli(home: Path, moto: str) -> None:
    h = home_with(home, moto, USE_CASE_2, ["my_profile_master"])
    r = h.aws("sts", "get-caller-identity", "--profile", "my_profile_master")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"].endswith(":user/user-my_profile_master")


def test_cp_home_session_through_the_aws_cli(home: Path, moto: str) -> None:
    h = home_with(home, moto, CP_HOME, ["home"])
    r = h.aws("sts", "get-caller-identity", "--profile", "home")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Account"] == ACCOUNT_ID
    # `--format=json` is the credential_process document, with a session token.
    doc = json.loads(h.awsv("export", "--format=json", "home").stdout)
    assert doc["Version"] == 1 and doc["SessionToken"]


def test_cp_jon_then_the_aws_cli_role_and_awsv_role(home: Path, moto: str) -> None:
    h = home_with(home, moto, CP_JON_NO_SESSION, ["jon"])
    r = h.aws("sts", "get-caller-identity", "--profile", "jon")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"].endswith(":user/user-jon")
    # awsv resolves `work` from jon's stored key (jon's line is for the AWS CLI).
    r = h.awsv("export", "--format=json", "--mfa-token", "123456", "work", timeout=QUICK)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Version"] == 1


def test_cp_work_with_prompt_osascript(home: Path, moto: str) -> None:
    """The --prompt flag is accepted; osascript, which does not exist here (nor a desktop),
    is one clear error with a hint (tests/test_dialogs.py drives it through a stub)."""
    h = home_with(home, moto, CP_WORK_PROMPT, ["work"])
    r = h.awsv("--prompt=osascript", "export", "--format=json", "work", timeout=QUICK)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines()[0] == (
        "awsv: error: --prompt asks for a dialog, but osascript was "
        "not found and no desktop session (DISPLAY) is visible"
    )
    assert len(r.stderr.splitlines()) == 2 and "awsv: hint: " in r.stderr
    # With a code given, the same recipe works, and the AWS CLI then gets the cached session.
    assert h.awsv("--prompt=osascript", "export", "--format=json", "--mfa-token", "123456", "work").returncode == 0
    r = h.aws("sts", "get-caller-identity", "--profile", "work")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Account"] == ACCOUNT_ID


def test_home_and_work_examples_get_credentials(home: Path, moto: str) -> None:
    """`work` has role_arn and no source_profile: its own stored key assumes the role."""
    h = home_with(home, moto, HOME_AND_WORK, ["home", "work"])
    for profile, part in (("work", ":assumed-role/ReadOnly/"), ("work-admin", ":assumed-role/Administrator/")):
        r = h.awsv(
            "exec",
            "--mfa-token",
            "123456",
            profile,
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
            timeout=QUICK * 2,
        )
        assert r.returncode == 0, r.stderr
        assert part in json.loads(r.stdout)["Arn"]


def test_work_without_its_key_keeps_the_clear_error(home: Path, moto: str) -> None:
    h = home_with(home, moto, HOME_AND_WORK, ["home"])
    r = h.awsv("exec", "-j", "work")
    assert r.returncode == 1
    assert "profile 'work' has role_arn but no source_profile, and no key of its own" in r.stderr
    assert "awsv add work" in r.stderr


# -- --prompt and AWS_VAULT_PROMPT ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--prompt=terminal", "exec", "-j", "--mfa-token", "123456", "home"),
        ("--prompt", "terminal", "exec", "-j", "--mfa-token", "123456", "home"),
        ("exec", "--prompt", "terminal", "-j", "--mfa-token", "123456", "home"),
        ("exec", "--prompt", "ykman", "--mfa-token", "123456", "home", "--", "true"),
        ("export", "--prompt=terminal", "--format=json", "--mfa-token", "123456", "home"),
    ],
)
def test_prompt_flag_spellings_are_accepted(home: Path, moto: str, args: tuple[str, ...]) -> None:
    h = home_with(home, moto, HOME_AND_WORK, ["home"])
    r = h.awsv(*args, timeout=QUICK)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("var", ["AWS_VAULT_PROMPT", "AWSV_PROMPT"])
def test_prompt_from_the_environment(home: Path, moto: str, var: str) -> None:
    h = home_with(home, moto, HOME_AND_WORK, ["home"])
    r = h.awsv("exec", "-j", "home", env={var: "zenity"}, timeout=QUICK)
    assert r.returncode == 1 and r.stdout == ""
    assert f"{var} asks for a dialog, but zenity was not found" in r.stderr
    assert len(r.stderr.splitlines()) == 2
    r = h.awsv("exec", "-j", "home", env={var: "pass"}, timeout=QUICK)
    assert r.returncode == 1 and f"the 'pass' prompt (from {var}) is not available" in r.stderr
    r = h.awsv("exec", "-j", "home", env={var: "bogus"})
    assert r.returncode == 2 and f"unknown prompt driver 'bogus' (from {var})" in r.stderr
    # terminal: asked on /dev/tty, which these tests do not have: the usual clear error.
    r = h.awsv("exec", "-j", "home", env={var: "terminal"})
    assert r.returncode == 1 and "no terminal to ask on" in r.stderr


def test_fast_path_and_full_cli_know_the_same_prompt_drivers() -> None:
    from awsv import fastpath, prompt_driver

    assert fastpath._PROMPT_DRIVERS == prompt_driver.DRIVERS
    for spelling in (["--prompt=ykman"], ["--prompt", "terminal"]):
        assert fastpath.parse([*spelling, "exec", "-j", "p"]) == {"form": "credential-process", "profile": "p"}
    assert fastpath.parse(["--prompt=bogus", "exec", "-j", "p"]) is None
    for fmt in (["--format=json"], ["--format", "json"], ["--format", "credential-process"]):
        assert fastpath.parse(["export", *fmt, "p"]) == {"form": "credential-process", "profile": "p"}
    # -f means --force in every command (tests/test_cli_surface.py): export has no -f, here either.
    assert fastpath.parse(["export", "-f", "json", "p"]) is None
    assert fastpath.parse(["export", "--format", "env-json", "p"]) is None


# -- session tags and source identity reach STS -----------------------------------------------


def test_assume_role_carries_tags_and_source_identity(world: AwsvWorld) -> None:
    """The fault proxy records the real AssumeRole body (moto does not echo tags back)."""
    world.config(SESSION_TAGS.replace("transitive_session_tags", "source_identity = alice\ntransitive_session_tags"))
    world.add_key("root")
    creds = world.get("order-dev").credentials
    assert creds.session_token
    [params] = world.proxy.params("AssumeRole")
    assert {k: v for k, v in params.items() if k.startswith(("Tags.", "TransitiveTagKeys."))} == {
        "Tags.member.1.Key": "key1",
        "Tags.member.1.Value": "value1",
        "Tags.member.2.Key": "key2",
        "Tags.member.2.Value": "value2",
        "Tags.member.3.Key": "key3",
        "Tags.member.3.Value": "value3",
        "TransitiveTagKeys.member.1": "key1",
        "TransitiveTagKeys.member.2": "key2",
    }
    assert params["SourceIdentity"] == "alice"
    assert params["RoleArn"] == "arn:aws:iam::123456789:role/developers"


def test_changed_tags_are_a_new_session(world: AwsvWorld) -> None:
    world.config(SOURCE_IDENTITY)
    world.add_key("root")
    world.get("order-dev")
    world.get("order-dev")
    assert world.proxy.count("AssumeRole") == 1  # cached
    world.config(SOURCE_IDENTITY.replace("your_user_name", "someone_else"))
    world.get("order-dev")
    assert world.proxy.count("AssumeRole") == 2
    assert world.proxy.params("AssumeRole")[-1]["SourceIdentity"] == "someone_else"


def test_a_role_without_tags_sends_none(world: AwsvWorld) -> None:
    world.config(
        "[profile root]\nregion=eu-west-1\n\n[profile order-dev]\nsource_profile = root\n"
        "role_arn=arn:aws:iam::123456789:role/developers\n"
    )
    world.add_key("root")
    world.get("order-dev")
    [params] = world.proxy.params("AssumeRole")
    assert not [k for k in params if k.startswith(("Tags", "Transitive", "SourceIdentity"))]


@pytest.mark.parametrize(
    "tags,transitive,identity,message",
    [
        ("key1", None, None, "key=value pairs"),
        ("=v", None, None, "key=value pairs"),
        ("k" * 129 + "=v", None, None, "must be 1 to 128 characters"),
        ("k=" + "v" * 257, None, None, "at most 256 characters"),
        ("k=v;rm", None, None, "the value of session tag 'k'"),
        ("k$=v", None, None, "session tag key 'k$'"),
        ("Team=a,team=b", None, None, "'team' is set twice"),
        (",".join(f"k{i}=v" for i in range(51)), None, None, "51 session tags; AWS allows at most 50"),
        ("a=b", "c", None, "names 'c', which is not in session_tags"),
        ("a=b", "a,", None, "empty key"),
        (None, None, "x", "source_identity must be 2 to 64 characters"),
        (None, None, "a" * 65, "source_identity must be 2 to 64 characters"),
        (None, None, "bad name", "source_identity must be 2 to 64 characters"),
    ],
)
def test_invalid_tags_are_clear_errors(
    tags: str | None, transitive: str | None, identity: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        session_tags.parse("order-dev", tags, transitive, identity)
    assert caught.value.message.startswith("profile 'order-dev': ")
    assert message in caught.value.message


def test_valid_tags_as_aws_allows_them() -> None:
    parsed = session_tags.parse("p", "Cost Center=12:34/x+y@z.w,empty=,k=a=b", "cost center", "alice.smith@example.com")
    assert parsed.tags == (("Cost Center", "12:34/x+y@z.w"), ("empty", ""), ("k", "a=b"))
    assert parsed.transitive_keys == ("cost center",)
    assert parsed.source_identity == "alice.smith@example.com"
    fifty = ",".join(f"k{i}=v" for i in range(50))
    assert len(session_tags.parse("p", fifty, None, None).tags) == 50


def test_invalid_tags_stop_before_sts(home: Path, moto: str) -> None:
    config = textwrap.dedent(SESSION_TAGS).replace("key1,key2", "key1,nokey")
    h = home_with(home, moto, config, ["root"])
    r = h.awsv("exec", "-j", "order-dev")
    assert r.returncode == 1 and r.stdout == ""
    assert "awsv: error: profile 'order-dev': transitive_session_tags names 'nokey'" in r.stderr

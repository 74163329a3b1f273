"""`awsv rotate PROFILE`: replace a stored access key with a new one, never losing a working key.

The order, and why:

1. Ask STS who the stored key belongs to (GetCallerIdentity: needs no IAM
   permission, and proves the old key still works before anything changes).
2. Sign the IAM calls with an MFA session (GetSessionToken with the source's
   `mfa_serial`, 15 minutes, not cached) when the profile has an MFA device —
   IAM refuses session credentials without MFA, and policies often require
   MFA for key management — or with the key itself (`--no-session`, or no
   device).
3. ListAccessKeys: at IAM's limit of two keys, stop and name both.
4. CreateAccessKey, then store the new key in the vault at once (AWS shows
   its secret only this once).
5. Verify the new key with GetCallerIdentity *signed by the new key*,
   retrying with a bounded backoff while IAM propagates it
   (`AWSV_ROTATE_VERIFY_TIMEOUT`, default 30 s). If it never works, the old
   key goes back into the vault and the new one is deleted again.
6. Only then DeleteAccessKey the old key, and clear the cached sessions of
   every profile whose credentials come from this key.

Whatever fails, the vault holds a key that works, and the error says what
IAM holds: which keys exist and which one is stored. Key ids are named in
full (they are not secrets, and the fix is an `aws iam delete-access-key`
command); secrets never appear anywhere.

For a role profile the key rotated is its source's (the vault key the chain
starts from); a credential_process source has nothing stored to rotate.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from awsv import iam, paths, sts
from awsv.chain import Chain, Resolver, resolve
from awsv.context import Context
from awsv.credentials import Credentials
from awsv.errors import AwsvError, Interrupted, UsageError, VaultError
from awsv.locking import LockBusy, exclusive_lock
from awsv.names import validate_profile_name
from awsv.vault.items import LongTermKey, key_item_name

VERIFY_TIMEOUT_VAR = "AWSV_ROTATE_VERIFY_TIMEOUT"
DEFAULT_VERIFY_TIMEOUT = 30.0
#: The MFA session signing the IAM calls: AWS's minimum, it is needed for seconds.
MFA_SESSION_DURATION = 900
_FIRST_DELAY, _MAX_DELAY = 0.5, 4.0


class RotationFailed(AwsvError):
    """Rotation stopped; the message says which keys exist in IAM and which one is stored."""


@dataclass(frozen=True)
class Rotation:
    """A finished rotation (no secret in here)."""

    #: The profile whose stored key was replaced (the source of a role profile).
    profile: str
    #: The IAM user (None for an account's root key).
    user: str | None
    old_key_id: str
    new_key_id: str
    sessions_cleared: int


def verify_timeout(env: Mapping[str, str]) -> float:
    """`AWSV_ROTATE_VERIFY_TIMEOUT` in seconds (`30`, `45s`, `2m`), default 30."""
    raw = env.get(VERIFY_TIMEOUT_VAR)
    if not raw:
        return DEFAULT_VERIFY_TIMEOUT
    from awsv.durations import parse_duration

    return float(parse_duration(raw, VERIFY_TIMEOUT_VAR))


def rotate_key(
    ctx: Context,
    profile: str,
    *,
    mfa_token: str | None = None,
    no_session: bool = False,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    sts_factory: sts.StsFactory | None = None,
) -> Rotation:
    """Rotate the access key stored for `profile` (or for its source); see the module docstring.

    Raises RotationFailed (with IAM's state) once IAM has been changed, and
    otherwise the error of the step that failed (StsError, IamError,
    UsageError, VaultError, MfaUnavailable) with nothing changed.
    """
    validate_profile_name(profile)
    vault = ctx.vault
    chain = resolve(ctx.config, profile, in_vault=lambda n: vault.get(key_item_name(n)) is not None)
    source = chain.source.profile
    if chain.source.kind != "vault":
        raise AwsvError(
            f"profile {source!r} gets its credentials from a credential_process: awsv stores no key to rotate"
        )
    serial = None if no_session else chain.source.mfa_serial
    if mfa_token is not None and serial is None:
        raise UsageError(
            f"--mfa-token is not used: profile {source!r} has no mfa_serial"
            + (" and --no-session signs with the key itself" if no_session else "")
        )
    item = vault.get(key_item_name(source))
    if item is None:
        raise AwsvError(f"no key stored for {source!r}", hint=f"awsv add {source}")
    old = LongTermKey.from_item(item)
    wait = verify_timeout(ctx.env) if timeout is None else timeout
    factory = sts_factory or sts.make_factory(sts.ClientSettings.from_env(ctx.env, chain.target))
    with _rotation_lock(ctx.env, source):
        run = _Rotation(ctx, chain, old, factory, sleep, monotonic)
        return run.rotate(serial, mfa_token, wait)


@dataclass
class _Rotation:
    ctx: Context
    chain: Chain
    old: LongTermKey
    factory: sts.StsFactory
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    user: str | None = None
    arn: str = ""
    client: Any = None
    #: Why deleting the old key failed, for the message.
    failure: str = ""

    @property
    def source(self) -> str:
        return self.chain.source.profile

    @property
    def region(self) -> str | None:
        return self.chain.region

    def rotate(self, serial: str | None, mfa_token: str | None, wait: float) -> Rotation:
        old_id, source = self.old.access_key_id, self.source
        _, self.arn = sts.get_caller_identity(
            self.factory(self.old, self.region),
            what=f"GetCallerIdentity for profile {source!r}",
            signer=f"the key stored for {source!r}",
        )
        self.user = _user_of(self.arn, source)
        signer = self._signer(serial, mfa_token)
        self.client = iam.make_client(self.ctx.env, self.chain.target, signer, self.region)
        keys = [
            k.access_key_id
            for k in iam.list_access_keys(self.client, what=f"ListAccessKeys for {self._who()}", user=self.user)
        ]
        if old_id not in keys:
            raise RotationFailed(
                f"the key stored for {source!r} ({old_id}) is not among the keys "
                f"of {self._who()} ({', '.join(keys) or 'none'}); nothing changed"
            )
        if len(keys) >= 2:
            raise self._two_keys(keys)
        try:
            new = iam.create_access_key(self.client, what=f"CreateAccessKey for {self._who()}", user=self.user)
        except iam.IamLimitExceeded:
            raise self._two_keys(
                [
                    k.access_key_id
                    for k in iam.list_access_keys(self.client, what=f"ListAccessKeys for {self._who()}", user=self.user)
                ]
            ) from None
        self._store(new)
        try:
            self._verify(new, wait)
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted while checking the new key: the vault holds the new key "
                f"{new.access_key_id}, which works once IAM has propagated it; IAM still has the "
                f"old key {old_id} too",
                hint=f"check with `awsv whoami {source}`, then delete the old key with {self._delete_command(old_id)}",
            ) from None
        deleted = self._delete_old()
        cleared = clear_key_sessions(self.ctx, source)
        if not deleted:
            raise RotationFailed(
                f"the new key {new.access_key_id} is stored for {source!r} and works, but deleting "
                f"the old key {old_id} failed ({self.failure})",
                hint=f"the old key still exists in IAM and still works: delete it with {self._delete_command(old_id)}",
            )
        return Rotation(source, self.user, old_id, new.access_key_id, cleared)

    # -- steps ---------------------------------------------------------------

    def _signer(self, serial: str | None, mfa_token: str | None) -> Credentials | LongTermKey:
        """An MFA session from the old key when the profile has a device, else the old key."""
        if serial is None:
            return self.old
        from awsv.mfa import MfaCodes

        source = self.chain.source
        code = MfaCodes(self.ctx.env, mfa_token).code(serial, profile=source.profile, mfa_process=source.mfa_process)
        return sts.get_session_token(
            self.factory(self.old, self.region),
            what=f"GetSessionToken for rotating {source.profile!r}",
            duration=MFA_SESSION_DURATION,
            serial=serial,
            code=code,
            signer=f"the key stored for {source.profile!r}",
        )

    def _store(self, new: LongTermKey) -> None:
        try:
            self.ctx.vault.set(key_item_name(self.source), new.to_item())
        except VaultError as err:
            state = self._discard(new)
            raise RotationFailed(
                f"storing the new key {new.access_key_id} in the vault failed "
                f"({err.message}); the vault still holds the old key "
                f"{self.old.access_key_id}, which works",
                hint=state,
            ) from None

    def _verify(self, new: LongTermKey, wait: float) -> None:
        """GetCallerIdentity with the new key until it answers as the same identity."""
        deadline = self.monotonic() + wait
        delay = _FIRST_DELAY
        while True:
            try:
                _, arn = sts.get_caller_identity(
                    self.factory(new, self.region), what="GetCallerIdentity with the new key", signer="the new key"
                )
                if arn == self.arn:
                    return
                reason = f"it answers as {arn}, not {self.arn}"
                break
            except sts.StsError as err:
                reason = err.message
            left = deadline - self.monotonic()
            if left <= 0:
                break
            self.sleep(min(delay, left))
            delay = min(delay * 2, _MAX_DELAY)
        old_id = self.old.access_key_id
        try:
            self.ctx.vault.set(key_item_name(self.source), self.old.to_item())
        except VaultError as err:
            raise RotationFailed(
                f"the new key {new.access_key_id} did not work within {wait:g}s ({reason}), and "
                f"putting the old key back failed ({err.message}): the vault holds the new key",
                hint=f"IAM has both keys for {self._who()}: {old_id} (works, no longer stored) and "
                f"{new.access_key_id} (stored); try `awsv whoami {self.source}` later",
            ) from None
        state = self._discard(new)
        raise RotationFailed(
            f"the new key {new.access_key_id} did not work within {wait:g}s "
            f"({reason}); the vault still holds the old key {old_id}, which works",
            hint=state,
        )

    def _discard(self, new: LongTermKey) -> str:
        """Delete a new key that will not be kept; returns what IAM holds afterwards."""
        old_id, new_id = self.old.access_key_id, new.access_key_id
        try:
            iam.delete_access_key(self.client, what=f"DeleteAccessKey {new_id}", access_key_id=new_id, user=self.user)
        except AwsvError:
            return (
                f"IAM now has two keys for {self._who()}: {old_id} (stored in awsv) and "
                f"{new_id} (not stored, its secret is gone): delete the second with "
                f"{self._delete_command(new_id)}"
            )
        return f"the new key {new_id} was deleted again: IAM holds only {old_id}, as before"

    def _delete_old(self) -> bool:
        old_id = self.old.access_key_id
        try:
            iam.delete_access_key(self.client, what=f"DeleteAccessKey {old_id}", access_key_id=old_id, user=self.user)
        except iam.IamNoSuchEntity:
            return True  # already gone: the goal is reached
        except AwsvError as err:
            self.failure = err.message
            return False
        return True

    # -- messages ------------------------------------------------------------

    def _who(self) -> str:
        return f"user {self.user}" if self.user else "the account's root user"

    def _delete_command(self, key_id: str) -> str:
        user = f" --user-name {self.user}" if self.user else ""
        return f"`aws iam delete-access-key{user} --access-key-id {key_id}`"

    def _two_keys(self, keys: list[str]) -> RotationFailed:
        old_id = self.old.access_key_id
        others = [k for k in keys if k != old_id]
        listed = ", ".join([f"{old_id} (stored in awsv for {self.source!r})", *others])
        return RotationFailed(
            f"{self._who()} already has two access keys, IAM's limit: {listed}; nothing changed",
            hint="delete the one awsv does not use, e.g. "
            f"{self._delete_command(others[0]) if others else 'in the IAM console'}, "
            f"then run `awsv rotate {self.source}` again",
        )


def _user_of(arn: str, profile: str) -> str | None:
    """The IAM user name in `arn` (None for root); any other identity is an error."""
    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    if resource == "root":
        return None
    if resource.startswith("user/"):
        return resource.rsplit("/", 1)[-1]
    raise AwsvError(
        f"the key stored for {profile!r} is not an IAM user's key ({arn})",
        hint="only long-term keys of IAM users (or root) can be rotated",
    )


def clear_key_sessions(ctx: Context, source: str) -> int:
    """Clear the cached sessions of every profile whose credentials start from `source`'s key.

    One Resolver for all of them: resolving each profile on its own walks a
    chain of n profiles n times (quadratic on a deep config, issue 12).
    """
    from awsv.sessions import clear_sessions

    resolver = Resolver(ctx.config, in_vault=lambda n: True)
    profiles = {source}
    for name in ctx.config.names():
        try:
            if resolver.resolve(name).source.profile == source:
                profiles.add(name)
        except AwsvError:
            continue  # a broken profile elsewhere in the config does not concern this key
    return sum(clear_sessions(ctx, name, resolver=resolver) for name in sorted(profiles))


def _rotation_lock(env: Mapping[str, str], profile: str) -> AbstractContextManager[None]:
    """One rotation per key at a time, never queued; the lock file's name is a hash (it reveals no profile)."""
    digest = hashlib.sha256(f"rotate\0{profile}".encode()).hexdigest()[:32]
    return exclusive_lock(
        paths.data_dir(env) / "locks" / f"{digest}.lock",
        0,  # a second rotation of the same key stops at once instead of waiting for the first
        private_dir=True,
        timed_out=lambda _seconds: LockBusy(f"another `awsv rotate` is rotating the key of {profile!r}"),
    )


def rotate(ctx: Context, args: argparse.Namespace) -> int:
    result = rotate_key(ctx, args.profile, mfa_token=args.mfa_token, no_session=args.no_session)
    who = f"user {result.user}" if result.user else "root"
    cleared = f"; {result.sessions_cleared} cached session(s) cleared" if result.sessions_cleared else ""
    ctx.info(
        f"rotated the key of {result.profile!r} ({who}): {result.new_key_id} is stored and "
        f"works; {result.old_key_id} is deleted{cleared}"
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rotate",
        help="replace a profile's stored access key with a new one",
        description="Create a new access key for the IAM user of PROFILE's stored key (for a "
        "role profile: its source's), store it, check that it works, then delete the old key "
        "and clear the cached sessions made from it. If any step fails, the vault keeps a key "
        "that works and the error says which keys exist in IAM.",
    )
    p.add_argument("profile")
    p.add_argument(
        "--mfa-token", "-t", metavar="CODE", help="MFA code for the IAM calls (default: mfa_process, or a prompt)"
    )
    p.add_argument(
        "--no-session", "-n", action="store_true", help="sign the IAM calls with the key itself, without an MFA session"
    )
    p.set_defaults(func=rotate)

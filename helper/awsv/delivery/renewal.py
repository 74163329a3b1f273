"""Credentials that renew themselves ahead of expiry, for the local endpoint.

The endpoint's clients — the AWS SDKs and CLI reading container credentials —
refresh when fewer than their *refresh window* is left: botocore (boto3, the
AWS CLI) refreshes in the background 15 minutes before expiry and blocks 10
minutes before. So every answer should carry credentials with at least that
window left, or each client call turns into a refresh.

`Renewing` holds one set of credentials and a background thread that renews
them `window + lead` before expiry (the lead is the time a renewal may take,
an MFA prompt included, before clients would notice). Renewal is
single-flight: one thread at a time calls `fetch`, which goes through the
sessions layer (its cache, its cross-process lock, STS), and every request
in the meantime gets the current credentials while they are still valid.

Credentials whose whole lifetime is shorter than `window + lead` (a role
limited to 15 minutes) cannot satisfy the window: they are renewed at half
their lifetime instead, so clients re-fetch often (it is a local request) and
never hold an expired credential.

When renewal fails, the current credentials are still handed out while more
than `floor` is left; after that every request gets `RenewalFailed`, whose
message says why (e.g. an MFA code is needed and there is no terminal). A
failed renewal is retried every `retry` seconds, so fixing the cause (the
user refreshes the session in a terminal, or unlocks the vault) is picked up
without restarting anything.

Times come from an injected clock (`time.time` by default), so tests can
drive expiry; the policy's window comes from AWSV_ENDPOINT_WINDOW.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from awsv.credentials import Credentials
from awsv.errors import AwsvError

#: botocore's advisory refresh window (the larger of its two), in seconds.
DEFAULT_WINDOW = 15 * 60
WINDOW_VAR = "AWSV_ENDPOINT_WINDOW"
#: How long a request may wait for a renewal in flight when nothing valid is left
#: (under botocore's 2 s read timeout, so the client gets an answer, not a timeout).
REQUEST_WAIT = 1.5


@dataclass(frozen=True)
class Policy:
    """When to renew, derived from the clients' refresh window (seconds)."""

    window: float = DEFAULT_WINDOW

    @property
    def lead(self) -> float:
        """Time allowed for a renewal (an MFA prompt included) before clients need it: 5 min by default."""
        return self.window / 3

    @property
    def floor(self) -> float:
        """Never hand out credentials with less than this left: 1 min by default."""
        return self.window / 15

    @property
    def retry(self) -> float:
        """Seconds between attempts after a failed renewal: 30 s by default."""
        return min(30.0, max(1.0, self.window / 30))

    @property
    def ahead(self) -> float:
        """Renew when fewer than this many seconds are left (window + lead)."""
        return self.window + self.lead

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Policy:
        """AWSV_ENDPOINT_WINDOW (a duration: 15m, 900, 90s), else botocore's 15 minutes."""
        from awsv.durations import parse_duration
        from awsv.errors import UsageError

        raw = env.get(WINDOW_VAR)
        if not raw:
            return cls()
        window = parse_duration(raw, WINDOW_VAR)
        if window <= 0:
            raise UsageError(f"{WINDOW_VAR} must be longer than 0 seconds")
        return cls(float(window))


class RenewalFailed(AwsvError):
    """No credentials fit to hand out: renewal failed and the last ones are (nearly) expired."""

    def __init__(self, message: str, *, hint: str | None = None, needs_input: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.needs_input = needs_input


#: fetch(min_left): credentials with more than `min_left` seconds left (the sessions layer's final_min_ttl).
Fetch = Callable[[int], Credentials]


def needs_input(exc: BaseException) -> bool:
    """Whether `exc` means "renewing needs a code or passphrase that could not be asked"."""
    from awsv.errors import PassphraseUnavailable
    from awsv.mfa import MfaUnavailable
    from awsv.tty import InputRequired, NoTerminal

    return isinstance(exc, (MfaUnavailable, InputRequired, NoTerminal, PassphraseUnavailable))


class Renewing:
    """One profile's credentials, renewed ahead of expiry (see module docstring)."""

    def __init__(
        self,
        fetch: Fetch,
        policy: Policy = Policy(),
        *,
        clock: Callable[[], float] = time.time,
        on_failure: Callable[[AwsvError], None] | None = None,
        on_recovery: Callable[[Credentials], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self.policy = policy
        self._clock = clock
        self._on_failure = on_failure
        self._on_recovery = on_recovery
        self._flight = threading.Lock()  # single flight: one renewal at a time
        self._state = threading.Lock()  # guards the fields below
        self._current: Credentials | None = None
        self._renew_below = 0.0
        self._floor = 0.0
        self._failure: AwsvError | None = None
        self._next_try = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: How many renewals succeeded (the first fetch not included); for status lines and tests.
        self.renewals = 0

    # -- life cycle -----------------------------------------------------------

    def start(self) -> Credentials:
        """Fetch the first credentials (errors propagate: nothing is served yet), then renew in the background."""
        creds = self._fetch(math.ceil(self.policy.ahead))
        self._install(creds)
        self._thread = threading.Thread(target=self._run, name="awsv-renewal", daemon=True)
        self._thread.start()
        return creds

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # -- serving --------------------------------------------------------------

    def current(self) -> Credentials:
        """Credentials fit to hand out now; raises RenewalFailed when there are none."""
        with self._state:
            creds, renew_below, floor = self._current, self._renew_below, self._floor
        if creds is None:
            raise RenewalFailed("the endpoint has no credentials yet")
        left = self._left(creds)
        if left >= renew_below:
            return creds
        self._wake.set()  # the background thread renews
        if left >= floor:
            return creds
        # Nothing valid enough is left: wait (bounded) for a renewal, then decide.
        if self._flight.acquire(timeout=REQUEST_WAIT):
            try:
                self._renew_locked()
            finally:
                self._flight.release()
        with self._state:
            creds, floor, failure = self._current, self._floor, self._failure
        if creds is not None and self._left(creds) >= floor:
            return creds
        if failure is not None:
            raise RenewalFailed(failure.message, hint=failure.hint, needs_input=needs_input(failure))
        raise RenewalFailed("the credentials are being renewed; try again in a moment")

    # -- renewing -------------------------------------------------------------

    def _left(self, creds: Credentials) -> float:
        assert creds.expiration is not None  # noqa: S101 - narrows the type; the endpoint serves temporary credentials only
        return creds.expiration.timestamp() - self._clock()

    def _install(self, creds: Credentials) -> None:
        if creds.expiration is None:
            raise AwsvError(
                "the endpoint hands out temporary credentials only, and these do not expire", hint="drop --no-session"
            )
        left = self._left(creds)
        ahead = self.policy.ahead
        with self._state:
            self._current = creds
            # Short-lived credentials cannot stay `ahead` away from expiry: renew at half-life.
            self._renew_below = ahead if left > ahead else left / 2
            self._floor = min(self.policy.floor, left / 8)
            self._failure = None
            self._next_try = 0.0

    def _due(self) -> float:
        """Seconds until the next renewal should start (0: now)."""
        with self._state:
            creds, renew_below, next_try = self._current, self._renew_below, self._next_try
        if creds is None:
            return 0.0
        now = self._clock()
        return max(self._left(creds) - renew_below, next_try - now, 0.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=min(self._due(), 60.0))
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._due() > 0:
                continue
            with self._flight:
                self._renew_locked()

    def _renew_locked(self) -> None:
        """One renewal attempt, under the flight lock; records the outcome, never raises."""
        with self._state:
            creds, renew_below, next_try, failed = (self._current, self._renew_below, self._next_try, self._failure)
        if creds is not None and self._left(creds) >= renew_below:
            return  # another thread renewed while we waited for the lock
        if self._clock() < next_try:
            return  # back off after a failure
        try:
            new = self._fetch(math.ceil(renew_below))
            if new.expiration is None or self._left(new) <= 0:
                raise AwsvError("renewal returned credentials that have already expired")
        except AwsvError as exc:
            self._failed(exc)
            return
        except Exception as exc:  # noqa: BLE001 - a renewal bug must not kill the endpoint's thread
            self._failed(AwsvError(f"renewal failed unexpectedly ({type(exc).__name__})"))
            return
        recovered = failed is not None
        self._install(new)
        self.renewals += 1
        if recovered and self._on_recovery is not None:
            self._on_recovery(new)

    def _failed(self, exc: AwsvError) -> None:
        with self._state:
            repeated = self._failure is not None and self._failure.message == exc.message
            self._failure = exc
            self._next_try = self._clock() + self.policy.retry
        if not repeated and self._on_failure is not None:
            self._on_failure(exc)

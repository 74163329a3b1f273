"""`awsv.delivery.renewal.Renewing`: when it renews, single flight, and what it does when renewal fails.

Driven by an injected clock (a number the test moves) instead of waiting for
expiries; `fetch` is a plain function standing where the sessions layer goes
in production (tests/test_endpoint.py runs that path with moto and real
clients). The background thread is real: tests poll its observable effect
(`renewals`, what `current()` returns) with a deadline, never sleep for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from awsv.credentials import Credentials
from awsv.delivery.renewal import Policy, RenewalFailed, Renewing
from awsv.errors import AwsvError
from awsv.mfa import MfaUnavailable
from tests.support.polling import wait_for

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Sts:
    """A fetch that issues numbered credentials lasting `lifetime` seconds from the clock's now."""

    def __init__(self, clock: Clock, lifetime: float = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls: list[int] = []
        self.fail: AwsvError | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, min_left: int) -> Credentials:
        self.entered.set()
        self.gate.wait(timeout=10)
        self.calls.append(min_left)
        if self.fail is not None:
            raise self.fail
        expiry = datetime.fromtimestamp(self.clock.now + self.lifetime, UTC)
        return Credentials(f"ASIA{len(self.calls):016d}", "secret", "token", expiry)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def started(
    fetch: Sts,
    clock: Clock,
    on_failure: Callable[[AwsvError], None] | None = None,
    on_recovery: Callable[[Credentials], None] | None = None,
) -> Renewing:
    renewing = Renewing(fetch, Policy(), clock=clock, on_failure=on_failure, on_recovery=on_recovery)
    renewing.start()
    return renewing


def test_renews_twenty_minutes_ahead_in_the_background(clock: Clock) -> None:
    sts = Sts(clock)
    r = started(sts, clock)
    try:
        assert sts.calls == [20 * 60]  # the first fetch already asks for 20 min left
        first = r.current()
        clock.now += 3600 - 20 * 60 - 1  # 20 min + 1 s left: nothing to do yet
        assert r.current() is first and r.renewals == 0
        clock.now += 2  # inside the window + lead: still served, renewal starts
        assert r.current() is first
        assert wait_for(lambda: r.renewals == 1, timeout=10)
        second = r.current()
        assert second.access_key_id != first.access_key_id
        assert second.seconds_left(datetime.fromtimestamp(clock.now, UTC)) == 3600
        assert sts.calls[-1] == 20 * 60  # the sessions layer must return more than that
    finally:
        r.stop()


def test_short_lived_credentials_are_renewed_at_half_life(clock: Clock) -> None:
    sts = Sts(clock, lifetime=900)  # a role limited to 15 minutes
    r = started(sts, clock)
    try:
        first = r.current()
        clock.now += 449
        assert r.current() is first and r.renewals == 0
        clock.now += 2
        r.current()
        assert wait_for(lambda: r.renewals == 1, timeout=10)
        assert sts.calls[-1] == 450
    finally:
        r.stop()


def test_single_flight_when_nothing_valid_is_left(clock: Clock) -> None:
    """Twenty requests finding expired credentials cause one fetch; all get the new credentials."""
    sts = Sts(clock)
    r = started(sts, clock)
    r.stop()  # no background thread: the requests themselves must renew
    clock.now += 3600 - 10  # below the 1-minute floor
    sts.gate.clear()
    sts.entered.clear()
    got: list[str] = []

    def request() -> None:
        got.append(r.current().access_key_id)

    threads = [threading.Thread(target=request) for _ in range(20)]
    for t in threads:
        t.start()
    assert sts.entered.wait(timeout=10)  # one request is inside fetch; the others wait for it
    sts.gate.set()
    for t in threads:
        t.join(timeout=10)
    assert len(sts.calls) == 2  # the first fetch, and one renewal
    assert len(got) == 20 and set(got) == {"ASIA0000000000000002"}


def test_renewal_needing_input_serves_what_is_valid_then_refuses(clock: Clock) -> None:
    failures: list[str] = []
    recoveries: list[str] = []
    sts = Sts(clock)
    r = started(
        sts,
        clock,
        on_failure=lambda e: failures.append(e.message),
        on_recovery=lambda c: recoveries.append(c.access_key_id),
    )
    try:
        first = r.current()
        sts.fail = MfaUnavailable("profile 'p' needs a code from MFA device d but there is no terminal")
        clock.now += 3600 - 20 * 60 + 1
        assert r.current() is first
        assert wait_for(lambda: len(failures) == 1, timeout=10)
        clock.now += 20 * 60 - 61  # 61 s left: above the floor, still served
        assert r.current() is first
        clock.now += 2  # 59 s left: below the floor
        with pytest.raises(RenewalFailed) as info:
            r.current()
        assert info.value.needs_input and "no terminal" in info.value.message
        clock.now += 31  # retried after 30 s, same failure: reported once only
        with pytest.raises(RenewalFailed):
            r.current()
        assert len(failures) == 1 and len(sts.calls) >= 3
        sts.fail = None  # the user refreshed the session elsewhere
        clock.now += 31
        assert r.current().access_key_id != first.access_key_id
        assert recoveries and r.renewals == 1
    finally:
        r.stop()


def test_other_failures_are_not_input_problems(clock: Clock) -> None:
    sts = Sts(clock)
    r = started(sts, clock)
    r.stop()
    sts.fail = AwsvError("cannot reach https://sts.amazonaws.com")
    clock.now += 3600
    with pytest.raises(RenewalFailed) as info:
        r.current()
    assert not info.value.needs_input and "cannot reach" in info.value.message


def test_window_from_the_environment() -> None:
    assert Policy.from_env({}).window == 15 * 60
    policy = Policy.from_env({"AWSV_ENDPOINT_WINDOW": "30m"})
    assert (policy.window, policy.ahead, policy.floor) == (1800, 2400, 120)
    with pytest.raises(AwsvError, match="AWSV_ENDPOINT_WINDOW"):
        Policy.from_env({"AWSV_ENDPOINT_WINDOW": "soon"})
    with pytest.raises(AwsvError, match="longer than 0"):
        Policy.from_env({"AWSV_ENDPOINT_WINDOW": "0"})


def test_a_long_term_key_is_never_served(clock: Clock) -> None:
    r = Renewing(lambda _: Credentials("AKIAKEY", "secret"), Policy(), clock=clock)
    with pytest.raises(AwsvError, match="temporary credentials only"):
        r.start()


def test_expired_renewal_result_counts_as_failure(clock: Clock) -> None:
    sts = Sts(clock)
    r = started(sts, clock)
    r.stop()
    sts.lifetime = -5
    clock.now += 3600 - 30
    with pytest.raises(RenewalFailed, match="already expired"):
        r.current()

"""Waiting for an observable state with a deadline, instead of sleeping a guessed time.

A test that needs "the agent has exited" or "the file has appeared" polls that
state here: it returns as soon as the state holds, so a fast machine does not
wait, and a slow one gets the whole deadline before the test fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float = 5.0, step: float = 0.05) -> bool:
    """Poll `condition` until it is truthy or `timeout` seconds pass; its last answer, as a bool."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)  # the polling interval, not a wait for a state
    return bool(condition())

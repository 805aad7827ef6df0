"""Waiting for something a test expects to happen, with a generous time-out that fails with the
last value seen (tests assert what happens, never how fast: speed is for bench/)."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

WAIT_S = 90.0


def wait_for(what: str, check: Callable[[], T], timeout: float = WAIT_S, every: float = 0.5) -> T:
    """Poll `check` until it returns something truthy, and return that; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(every)

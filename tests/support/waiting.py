"""Waiting on something asynchronous (a worker, a stream, the chain) in the end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 1.0) -> T:
    """Call ``predicate`` every ``interval`` seconds until it answers something truthy or ``timeout``
    seconds have passed; return its last answer (falsy on a timeout, for the caller's assert)."""
    deadline = time.monotonic() + timeout
    while True:
        out = predicate()
        if out or time.monotonic() > deadline:
            return out
        time.sleep(interval)

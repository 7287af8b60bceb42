"""Polling for a condition that another process makes true (a server, an edge node, a worker)."""
from __future__ import annotations

import time


def wait_until(predicate, timeout: float = 10.0, what: str = "the condition", interval: float = 0.1):
    """predicate()'s first truthy value within `timeout` seconds, else AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")

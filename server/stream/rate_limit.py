"""Per-client rate limit of label events (POSECAST_RATE_EVENTS_PER_S, bursts up to POSECAST_RATE_BURST)."""
from __future__ import annotations

import time


class Bucket:
    """Token bucket: `rate` events per second, at most `burst` at once."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def take(self, n: int) -> float:
        """Take n tokens and return 0, or return how many seconds until n would be there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if n <= self.tokens:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate

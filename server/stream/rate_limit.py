"""Per-client rate limit of label events (POSECAST_RATE_EVENTS_PER_S, bursts up to POSECAST_RATE_BURST):
a token bucket per client in this process, or in Redis for every process of a cluster."""
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


class Limiter:
    """One bucket per client id, in this process."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.buckets: dict[str, Bucket] = {}

    def take(self, client_id: str, n: int) -> float:
        bucket = self.buckets.get(client_id)
        if bucket is None:
            bucket = self.buckets[client_id] = Bucket(self.rate, self.burst)
        return bucket.take(n)


# The same bucket in Redis, atomic and on Redis's clock (processes on several machines agree):
# KEYS[1] the client's bucket; ARGV rate per second, burst, n. Returns 0 (taken) or the
# microseconds until n tokens are there. An idle bucket is full again, so it expires.
TAKE = """
local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if n <= tokens then tokens = tokens - n else wait = math.ceil((n - tokens) * 1000000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.3f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"""
KEY = "rate:"  # + client id, under the cluster's channel name


class SharedLimiter(Limiter):
    """One bucket per client id in Redis for every process: one script call per batch. While
    Redis is unreachable this process's own buckets stand in (the limit then holds per process)."""

    def __init__(self, link, rate: float, burst: float):
        super().__init__(rate, burst)
        self.link = link
        self.script = link.client.register_script(TAKE)
        self.key = link.prefix + KEY

    def take(self, client_id: str, n: int) -> float:
        wait_us = self.link.run(lambda r: self.script(keys=[self.key + client_id], args=[self.rate, self.burst, n], client=r))
        if wait_us is None:
            return super().take(client_id, n)
        return wait_us / 1e6

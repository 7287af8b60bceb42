"""Per-client rate limit of label events (POSECAST_RATE_EVENTS_PER_S, bursts up to POSECAST_RATE_BURST):
a token bucket per client in this process, or in Redis for every process of a cluster."""
from __future__ import annotations

import logging
import threading
import time

from ..sockets import socketio

log = logging.getLogger("posecast.stream.rate_limit")


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


# The same buckets in Redis, atomic and on Redis's clock (processes on several machines agree):
# KEYS the clients' buckets (a key may come twice); ARGV rate per second, burst, then n per key.
# Returns per key 0 (taken) or the microseconds until its n tokens are there. An idle bucket is
# full again, so it expires.
TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local out = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[i + 2])
  local b = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
  local wait = 0
  if n <= tokens then tokens = tokens - n else wait = math.ceil((n - tokens) * 1000000 / rate) end
  redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'at', string.format('%.3f', now))
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
  out[i] = wait
end
return out
"""
KEY = "rate:"  # + client id, under the cluster's channel name
GROUP_MAX = 256
WAIT_S = 5.0  # longer than a Redis call may take (redis_link.TIMEOUT_S): then this process's bucket


class SharedLimiter(Limiter):
    """One bucket per client id in Redis for every process. Batches that arrive while a script
    call is out wait and go together in the next one (as the writer's group commits): with 64
    batches at once that measured 28-32 us of CPU per batch, against 74-134 us for a call from
    each batch (bench/shared_state.py; a lone batch pays 60 us more for the hand-off). While Redis is unreachable this
    process's own buckets stand in (the limit then holds per process)."""

    def __init__(self, link, rate: float, burst: float):
        super().__init__(rate, burst)
        self.link = link
        self.script = link.client.register_script(TAKE)
        self.key = link.prefix + KEY
        self.waiting = None  # to the task that calls Redis; made on first use (the async mode's queue)
        self.lock = threading.Lock()

    def take(self, client_id: str, n: int) -> float:
        if self.link.down and time.monotonic() < self.link.retry_at:
            return super().take(client_id, n)
        eio = socketio.server.eio
        with self.lock:
            if self.waiting is None:
                self.waiting = eio.create_queue()
                socketio.start_background_task(self._run)
        item = [self.key + client_id, n, eio.create_event(), None]  # key, n, done, seconds to wait
        self.waiting.put(item)
        item[2].wait(WAIT_S)
        return super().take(client_id, n) if item[3] is None else item[3]

    def _run(self) -> None:
        while True:
            items = [self.waiting.get()]
            while len(items) < GROUP_MAX:
                try:
                    items.append(self.waiting.get_nowait())
                except Exception:  # queue.Empty of whichever async mode
                    break
            try:
                waits = self.link.run(lambda r: self.script(
                    keys=[i[0] for i in items], args=[self.rate, self.burst, *(i[1] for i in items)], client=r))
            except Exception:  # never end the task: every later batch would wait WAIT_S
                log.exception("rate limit check failed")
                waits = None
            for item, wait_us in zip(items, waits or [None] * len(items)):
                item[3] = None if wait_us is None else wait_us / 1e6
                item[2].set()

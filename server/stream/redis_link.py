"""The stream wing's one connection to Redis (POSECAST_MESSAGE_QUEUE=redis://...), shared by the
dashboard hub, the alert engine and the rate limit of every server process.

Redis going away must never stop a process: every call goes through `run`, which returns a
fallback instead of raising, logs the loss once (and the return once), and while Redis is down
tries again at most once a second, so ingestion never waits on a dead connection more than once.
One background task listens on the wing's channels and, after every (re)connect, calls the
`on_connect` callbacks: each part reloads what it may have missed.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from urllib.parse import urlsplit

from ..sockets import socketio

log = logging.getLogger("posecast.stream.redis")
TIMEOUT_S = 2.0  # a hung Redis holds a caller at most this long
RETRY_S = 1.0  # while down, calls fall back without trying for this long after a failure
LISTEN_BACKOFF_S = (0.2, 2.0)
# The hub hears its own publishes at least once a second: this much silence means a subscription
# lost without a word (a Redis machine gone without closing the connection), so subscribe again.
SILENCE_S = 5.0  # the listener's reconnect delay: first, then doubling up to


class Link:
    def __init__(self, url: str, channel: str):
        import redis  # only in cluster mode: one process needs no Redis at all

        self.errors = (redis.RedisError, OSError)
        # A few connections at most: the rate limit's task, the hub's ticker, the listener, an
        # alert now and then (redis-py's blocking pool lost wake-ups under eventlet here).
        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=TIMEOUT_S,
                                           socket_connect_timeout=TIMEOUT_S, socket_keepalive=True)
        parts = urlsplit(url)
        self.where = f"{parts.hostname}:{parts.port or 6379}"  # for the log: never the password
        self.host_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"  # this process, this start
        self.prefix = channel + ":"  # every key and channel: several clusters may share one Redis
        self.handlers: dict[str, callable] = {}  # channel -> handler(message text)
        self.on_connect: list[callable] = []
        self.down = False
        self.retry_at = 0.0
        self.listening = False

    def run(self, op, fallback=None):
        """op(redis client) -> its result, or `fallback` when Redis is unreachable (logged once)."""
        if self.down and time.monotonic() < self.retry_at:
            return fallback
        try:
            result = op(self.client)
        except self.errors as exc:
            self.failed(exc)
            return fallback
        self.back()
        return result

    def failed(self, exc: Exception) -> None:
        self.retry_at = time.monotonic() + RETRY_S
        if not self.down:
            self.down = True
            log.warning("Redis at %s unreachable (%s: %s): serving on, live state per process until it returns",
                        self.where, exc.__class__.__name__, exc)

    def back(self) -> None:
        if self.down:
            self.down = False
            log.warning("Redis at %s is back: live state shared again", self.where)

    def publish(self, channel: str, text: str) -> bool:
        return bool(self.run(lambda r: r.publish(channel, text) is not None, False))

    def subscribe(self, channel: str, handler) -> None:
        """handler(text) for every message on `channel`; register before start()."""
        self.handlers[channel] = handler

    def start(self) -> None:
        if not self.listening:
            self.listening = True
            socketio.start_background_task(self._listen_forever)

    def _listen_forever(self) -> None:
        delay = LISTEN_BACKOFF_S[0]
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(*self.handlers)
                self.back()
                delay = LISTEN_BACKOFF_S[0]
                for callback in self.on_connect:
                    self._safely(callback)
                heard = time.monotonic()
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "message":
                        heard = time.monotonic()
                        self._safely(self.handlers[message["channel"]], message["data"])
                    elif time.monotonic() - heard > SILENCE_S and not self.down:
                        raise ConnectionError(f"nothing heard on the channels for {SILENCE_S:.0f} s")
            except self.errors as exc:
                self.failed(exc)
            finally:
                try:
                    pubsub.close()
                except self.errors:
                    pass
            socketio.sleep(delay)
            delay = min(delay * 2, LISTEN_BACKOFF_S[1])

    @staticmethod
    def _safely(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # one bad message or callback must not end the listener
            log.exception("handling a Redis message failed")

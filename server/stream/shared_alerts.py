"""Alert rules and alerts across server processes (POSECAST_MESSAGE_QUEUE=redis://...).

Rules: a change on one process is announced on a channel and every process reloads its rules
at once (and again after every reconnect to Redis, in case it missed one).

Once: a client is on one process at a time, but it may reconnect to another in the middle of a
hold, which starts counting the hold afresh there. So a hold reached raises its alert only if
this process sets the alert's key in Redis first (SET NX): the key lives while the label is held
(refreshed every LATCH_TTL_S / 3 by whichever process sees it held) and is deleted when the label
lets go, so the next hold raises again. Redis costs a round trip only when a hold is reached or
ends, never per event. Redis unreachable: the alert is raised (twice rather than never).
"""
from __future__ import annotations

import time

from .alerts import Engine

CHANNEL = "alert-rules"  # under the cluster's channel name, as every key
LATCH = "alert:{}:{}:{}"  # rule id, client id, person
LATCH_TTL_S = 60  # a client gone mid-hold that comes back still holding within this is the same hold


class SharedEngine(Engine):
    def __init__(self, app, on_alert, link):
        super().__init__(app, on_alert)
        self.link = link
        self.kept_at: dict[tuple, float] = {}  # key -> when this process last set or refreshed it
        self.channel, self.latch = link.prefix + CHANNEL, link.prefix + LATCH
        link.subscribe(self.channel, self._heard)
        link.on_connect.append(self.reload)

    def rules_changed(self) -> None:
        super().rules_changed()
        self.link.publish(self.channel, self.link.host_id)

    def _heard(self, sender: str) -> None:
        if sender != self.link.host_id:
            self.reload()

    def _claim(self, key: tuple) -> bool:
        self.kept_at[key] = time.monotonic()

        def claim(r) -> bool:
            name = self.latch.format(*key)
            if r.set(name, self.link.host_id, nx=True, ex=LATCH_TTL_S):
                return True
            r.expire(name, LATCH_TTL_S)  # raised by another process: this one keeps it alive now
            return False
        return self.link.run(claim, True)

    def _let_go(self, keys: list[tuple]) -> None:
        if keys:
            for key in keys:
                self.kept_at.pop(key, None)
            self.link.run(lambda r: r.delete(*{self.latch.format(*k) for k in keys}))

    def _keep(self, keys: list[tuple]) -> None:
        now = time.monotonic()
        due = {k for k in keys if now - self.kept_at.get(k, 0.0) >= LATCH_TTL_S / 3}
        if due:
            for key in due:
                self.kept_at[key] = now

            def refresh(r):
                pipe = r.pipeline(transaction=False)
                for key in due:
                    pipe.expire(self.latch.format(*key), LATCH_TTL_S)
                pipe.execute()
            self.link.run(refresh)

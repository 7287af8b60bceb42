"""Group commit of label events: one background task inserts every waiting batch in one
transaction, then tells its observers (dashboard hub, alert engine) what was new. When a group
fails, its batches are committed one at a time, so one bad batch never fails another client's."""
from __future__ import annotations

import logging
import threading
import time

from .. import db
from ..sockets import socketio
from . import label_log

log = logging.getLogger("posecast.ingest")
WRITE_TIMEOUT_S = 30.0
OUTAGE_REPORT_S = 30.0  # while the label log refuses writes, one summary line this often


class Writer:
    """Group commit: one background task inserts every waiting batch in one transaction."""

    def __init__(self, app, observers=()):
        self.app = app
        # Called with the newly stored rows after each commit, before any page is acknowledged,
        # so an acknowledged event has always been seen by dashboards and alerts. One failing
        # observer never stops the label log or the others.
        self.observers = list(observers)
        self.queue = None
        self.written = 0
        self.lock = threading.Lock()
        # An outage (the database stopped) fails every batch: one traceback at its start, then a
        # count, not one traceback per batch (hundreds a second at a thousand pages).
        self._failing_since: float | None = None
        self._failed = 0
        self._reported_at = 0.0

    def _ensure_started(self):
        with self.lock:
            if self.queue is None:
                self.queue = socketio.server.eio.create_queue()
                socketio.start_background_task(self._run)

    def write(self, rows: list[dict]) -> int:
        """Block (this greenlet or thread) until `rows` are committed; returns how many were new
        (the rest were already stored: resends)."""
        self._ensure_started()
        item = {"rows": rows, "done": socketio.server.eio.create_event(), "new": None, "error": None}
        self.queue.put(item)
        if not item["done"].wait(WRITE_TIMEOUT_S):
            raise TimeoutError("the database did not commit in time")
        if item["error"] is not None:
            raise item["error"]
        return item["new"]

    def _insert(self, rows: list[dict]) -> set[tuple[str, int]]:
        """One transaction: the events, and the clients' last_seen."""
        with self.app.app_context(), db.engine().begin() as conn:
            new = label_log.insert_events(conn, rows)
            seen: dict[str, int] = {}
            for r in rows:
                seen[r["client_id"]] = max(seen.get(r["client_id"], 0), r["received_at"])
            label_log.touch_clients(conn, seen)
        return new

    def _failed_batch(self, n_rows: int) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            log.exception("could not store %d label events (later failures are counted until a commit "
                          "succeeds; the pages keep their events and resend them)", n_rows)
            self._failing_since = self._reported_at = now
            self._failed = 1
            return
        self._failed += 1
        if now - self._reported_at >= OUTAGE_REPORT_S:
            self._reported_at = now
            log.error("the label log still refuses writes: %d batches failed in %.0f s", self._failed,
                      now - self._failing_since)

    def _stored_again(self) -> None:
        if self._failing_since is not None:
            if self._failed > 1:  # an outage ended (a lone bad batch has had its traceback)
                log.warning("the label log takes writes again, after %d failed batches in %.1f s", self._failed,
                            time.monotonic() - self._failing_since)
            self._failing_since = None

    def _run(self):
        while True:
            items = [self.queue.get()]
            while len(items) < 256:
                try:
                    items.append(self.queue.get_nowait())
                except Exception:  # queue.Empty of whichever async mode
                    break
            self._commit(items)

    def _commit(self, items: list[dict]) -> None:
        rows = [r for item in items for r in item["rows"]]
        try:
            new = self._insert(rows)
        except Exception as exc:
            if len(items) > 1:
                # One bad batch must not fail everyone's: commit them one at a time, so only the
                # batch that fails on its own gets the error.
                if self._failing_since is None:
                    log.warning("group commit of %d batches failed (%s: %s); committing them one by one",
                                len(items), exc.__class__.__name__, exc)
                for item in items:
                    self._commit([item])
                return
            self._failed_batch(len(rows))
            items[0]["error"] = exc
            items[0]["done"].set()
            return
        self._stored_again()
        self.written += len(new)
        if len(new) == len(rows):  # the usual case: every row new, so no key came twice
            fresh = rows
            for item in items:
                item["new"] = len(item["rows"])
        else:  # a resend can meet its original in one transaction: only the first copy is new
            unclaimed, fresh = set(new), []
            for item in items:
                mine = [r for r in item["rows"] if (r["client_id"], r["seq"]) in unclaimed]
                claimed = {(r["client_id"], r["seq"]) for r in mine}
                unclaimed -= claimed
                item["new"] = len(claimed)
                fresh += mine
        for observe in self.observers:
            try:
                observe(fresh)
            except Exception:  # dashboards and alerts must never stop the label log
                log.exception("%s failed", getattr(observe, "__qualname__", observe))
        for item in items:
            item["done"].set()

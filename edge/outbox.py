"""The edge node's durable outbox: label events wait in SQLite until the server acknowledges them.

One file per node (<state dir>/outbox.sqlite) holds the client id, the next sequence number and
every unacknowledged event. push() numbers events in memory; commit() writes them and the next
seq in one transaction (synchronous=FULL: it survives a crash of the process or of the box), and
only committed events are ever sent. So a seq can never be sent twice with different events, an
edge restart resends what the server has not acknowledged, and the server's dedupe on
(client_id, seq) makes a resend harmless. A lock file keeps two nodes off one state dir.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import sqlite3
import threading
from pathlib import Path

DEFAULT_MAX_EVENTS = 200_000  # ~a day of one person at 2 labels/s; the oldest go first beyond it


class StateDirBusy(RuntimeError):
    pass


class Outbox:
    def __init__(self, state_dir: Path, max_events: int = DEFAULT_MAX_EVENTS):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_file = open(self.dir / "lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StateDirBusy(f"another edge node uses {self.dir} (one node per --name or --state-dir)") from None
        self.max_events = max_events
        self.db = sqlite3.connect(self.dir / "outbox.sqlite", check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        self.lock = threading.Lock()  # pending, next_seq and the connection
        self.client_id = self._meta("client_id") or self._new_client_id()
        stored_next = int(self._meta("next_seq") or 0)
        top = self.db.execute("SELECT MAX(seq) FROM events").fetchone()[0]
        self.next_seq = max(stored_next, (top + 1) if top is not None else 0)
        self.pending: list[dict] = []
        self.dropped = 0

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _new_client_id(self) -> str:
        cid = "edge-" + secrets.token_hex(8)  # /pose client_id: 8-64 of [A-Za-z0-9_-]
        self.db.execute("INSERT INTO meta (key, value) VALUES ('client_id', ?)", (cid,))
        return cid

    def push(self, event: dict) -> int:
        """Number an event (label, confidence, ts, ...); it is kept at the next commit()."""
        with self.lock:
            seq = self.next_seq
            self.next_seq += 1
            self.pending.append({"seq": seq, **event})
            return seq

    def commit(self) -> None:
        """Everything pushed so far, and the next seq, on disk in one transaction."""
        with self.lock:
            rows = [(e["seq"], json.dumps(e, separators=(",", ":"))) for e in self.pending]
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("INSERT OR IGNORE INTO events (seq, body) VALUES (?, ?)", rows)
                self.db.execute("INSERT INTO meta (key, value) VALUES ('next_seq', ?) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(self.next_seq),))
                excess = self._count() - self.max_events
                if excess > 0:  # bounded on disk: the oldest go, counted
                    self.db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)",
                                    (excess,))
                    self.dropped += excess
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.pending = []

    def _count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def oldest(self, n: int) -> list[dict]:
        """The n oldest committed events, oldest first: the next batch to send."""
        with self.lock:
            rows = self.db.execute("SELECT body FROM events ORDER BY seq LIMIT ?", (n,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def acknowledge(self, seqs: list[int]) -> None:
        with self.lock:
            self.db.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])

    def depth(self) -> int:
        """Events not yet acknowledged: on disk and still in memory."""
        with self.lock:
            return self._count() + len(self.pending)

    def close(self) -> None:
        with self.lock:
            self.db.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()


def default_state_dir(name: str) -> Path:
    """~/.posecast-edge/<name> (POSECAST_EDGE_HOME moves the root)."""
    root = Path(os.environ.get("POSECAST_EDGE_HOME") or Path.home() / ".posecast-edge")
    return root / name

"""The ingestion benchmark's load: simulated live pages in several processes (each an asyncio
loop with its share of the connections) and one operator dashboard in a process of its own, all
driven step by step by bench/ingest.py over pipes, so the load generator is not the bottleneck.

Emit and receive times are CLOCK_MONOTONIC, which is one clock for every process on Linux: a
batch's emit time in a page process and the moment the dashboard process saw its label compare
directly.
"""
from __future__ import annotations

import asyncio
import logging
import time

BATCH_EVERY_S = 0.25
CALL_TIMEOUT_S = 10.0
CONNECT_AT_ONCE = 25  # per process: the server's accept queue and session inserts stay calm


def label_batch(seq: int, n: int) -> list[dict]:
    """`n` label events from `seq` on, as a live page sends them."""
    now_ms = int(time.time() * 1000)
    return [{"seq": seq + k, "ts": now_ms, "label": ("chair", "tree", "cobra")[(seq + k) // 90 % 3],
             "confidence": 0.9, "model": "yoga5", "model_version": 1, "backbone": "posenet",
             "person": 0, "fps": 30.0} for k in range(n)]


def client_id(run: str, i: int) -> str:
    return f"bench-{run}-{i:05d}"


async def _connect(url: str, cid: str, sem: asyncio.Semaphore):
    import socketio

    async with sem:
        for attempt in range(5):
            sio = socketio.AsyncClient()
            try:
                await sio.connect(url, namespaces=["/pose"], transports=["websocket"],
                                  auth={"client_id": cid, "name": cid[-12:]}, wait_timeout=30)
                return sio
            except Exception:
                await sio.disconnect()
                await asyncio.sleep(0.5 * (attempt + 1))
        raise RuntimeError(f"{cid} could not connect to {url}")


class Pages:
    """This process's share of the live pages: one socketio.AsyncClient each."""

    def __init__(self, ids: list[str], index: list[int], total: int):
        self.ids, self.index, self.total = ids, index, total
        self.seq = [0] * len(ids)
        self.clients: list = []

    async def connect(self, url: str) -> None:
        sem = asyncio.Semaphore(CONNECT_AT_ONCE)
        self.clients = list(await asyncio.gather(*(_connect(url, cid, sem) for cid in self.ids)))

    async def step(self, rate: float, start: float, window: tuple[float, float]) -> dict:
        """Every page sends `rate` labels/s in batches every 250 ms from `start` until the window
        ends; batches emitted inside the window are counted. Returns once every call is answered."""
        out = {"emitted": {}, "offered": 0, "acked": 0, "errors": 0, "error": None, "ack_s": []}
        cpu0 = time.process_time()
        await asyncio.gather(*(self._page(k, rate, start, window, out) for k in range(len(self.clients))))
        out["cpu_s"] = time.process_time() - cpu0
        return out

    async def _page(self, k: int, rate: float, start: float, window: tuple[float, float], out: dict) -> None:
        sio, cid = self.clients[k], self.ids[k]
        next_at, owed = start + BATCH_EVERY_S * self.index[k] / self.total, 0.0  # pages spread over 250 ms
        while next_at < window[1]:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            owed += rate * BATCH_EVERY_S
            n, owed = int(owed), owed - int(owed)
            next_at += BATCH_EVERY_S
            if not n:
                continue
            batch = label_batch(self.seq[k], n)
            self.seq[k] += n
            t0 = time.monotonic()
            counted = window[0] <= t0 < window[1]
            if counted:
                out["emitted"][(cid, batch[-1]["seq"])] = t0
                out["offered"] += n
            try:
                ack = await sio.call("labels", {"events": batch}, namespace="/pose", timeout=CALL_TIMEOUT_S)
            except Exception as exc:  # no answer in time, or the connection went
                ack = {"ok": False, "error": exc.__class__.__name__}
            if counted:
                out["ack_s"].append(time.monotonic() - t0)
                if ack.get("ok"):
                    out["acked"] += n
                else:
                    out["errors"] += 1
                    out["error"] = out["error"] or str(ack.get("error"))[:80]

    async def close(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in self.clients), return_exceptions=True)


def quiet() -> None:
    """A dropped connection is counted as errors of its calls; its client's log lines only flood."""
    for name in ("engineio.client", "socketio.client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def pages_process(conn, url: str, run: str, index: list[int], total: int) -> None:
    """A load process: connects its pages, says ready, then runs the steps it is sent."""
    quiet()
    asyncio.run(_pages_main(conn, url, run, index, total))


async def _pages_main(conn, url, run, index, total):
    pages = Pages([client_id(run, i) for i in index], index, total)
    try:
        await pages.connect(url)
    except Exception as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", len(pages.clients)))
    while True:
        cmd = await asyncio.to_thread(conn.recv)
        if cmd[0] == "step":
            conn.send(await pages.step(*cmd[1:]))
        else:
            await pages.close()
            conn.send(("closed",))
            return


def dashboard_process(conn, url: str, cookie: str | None) -> None:
    """One operator dashboard: notes when it first saw each (client, seq) in an update."""
    quiet()
    asyncio.run(_dashboard_main(conn, url, cookie))


async def _dashboard_main(conn, url, cookie):
    import socketio

    seen: dict[tuple[str, int], float] = {}
    dash = socketio.AsyncClient()

    @dash.on("update", namespace="/dashboard")
    async def on_update(payload):
        now = time.monotonic()
        for c in payload["clients"]:
            seen.setdefault((c["client_id"], c["seq"]), now)
        return True  # the acknowledgement posecast waits for before the next update

    await dash.connect(url, namespaces=["/dashboard"], transports=["websocket"],
                       headers={"Cookie": cookie} if cookie else {}, wait_timeout=30)
    conn.send(("ready", 1))
    while True:
        cmd = await asyncio.to_thread(conn.recv)
        if cmd[0] == "reset":
            seen.clear()
            conn.send(time.process_time())
        elif cmd[0] == "collect":
            conn.send((dict(seen), time.process_time()))
        else:
            await dash.disconnect()
            conn.send(("closed",))
            return

"""The dashboard hub across server processes (POSECAST_MESSAGE_QUEUE=redis://...): every dashboard
sees every client, whichever process each is connected to.

Each process keeps its own *part* of a client's state (the connections it holds, the labels it
stored) and, on the hub's tick, publishes the parts that changed since its last publish: one
Redis pipeline per tick (the parts into this process's hash, the delta on a channel), never one
per event, so 1,000 clients at 30 labels/s cost each process at most 10 messages a second. Every
process merges the parts it hears into the `clients` its own dashboards are sent; coalescing and
the one-update-in-flight rule stay per dashboard, exactly as in one process.

The hashes let a process load everything at once when it starts, first hears a peer, or gets
Redis back after a restart (each process then publishes all its parts again). A peer not heard
for 3 x POSECAST_HEARTBEAT_S (it publishes at least every second) is taken as gone: its
clients show disconnected unless connected elsewhere, and its rates no longer count. While Redis
is down nothing is timed out (nobody can be heard) and everything local keeps working.
"""
from __future__ import annotations

import collections
import json
import time

from core.clock import now_ms as _ms

from ..instances import DEAD_AFTER
from .dashboard_hub import FORGET_AFTER_MS, Hub, new_state

# Under the cluster's channel name (POSECAST_MESSAGE_QUEUE_CHANNEL):
CHANNEL = "hub"
HOSTS = "hub:hosts"  # host -> {"at": ms, rates}: who to load at start
PARTS = "hub:parts:"  # + host: client id -> that process's part of the client's state
PUBLISH_AT_LEAST_S = 1.0  # rates stay fresh, and silence means a dead process
LABEL_FIELDS = ("label", "confidence", "model", "model_version", "backbone", "person", "fps", "ts", "seq")
# A part travels as a JSON list in this order: half the bytes of an object, and faster both ways.
PART_FIELDS = tuple(new_state("x"))


def values(part: dict) -> list:
    return [part[k] for k in PART_FIELDS]


def unpack(values: list) -> dict:
    return dict(zip(PART_FIELDS, values))


def _page_order(part: dict) -> tuple:
    return (part["ts"] is not None, part["ts"] or 0, part["seq"] or 0)


def merge(parts: list[dict]) -> dict:
    """One client as dashboards see it, from each process's part: the newest label by page time,
    connected if any live process holds a connection, events summed; name, kind and session from
    the process it is connected through (the latest seen)."""
    if len(parts) == 1:  # the common case: a client only one process has seen
        return {**parts[0], "connected": parts[0]["connections"] > 0}
    newest = max(parts, key=_page_order)
    live = [p for p in parts if p["connections"] > 0]
    via = max(live or parts, key=lambda p: p["last_seen"])
    view = {k: via[k] for k in ("client_id", "kind", "name", "session_id")}
    view.update({k: newest[k] for k in LABEL_FIELDS})
    view.update(connections=sum(p["connections"] for p in live), connected=bool(live),
                last_seen=max(p["last_seen"] for p in parts), events=sum(p["events"] for p in parts))
    return view


class SharedHub(Hub):
    def __init__(self, app, link):
        super().__init__(app)
        self.link = link
        self.host = link.host_id
        # Silent for as many beats as server/instances.py judges a process dead by (in the database).
        self.timeout_s = DEAD_AFTER * app.config["HEARTBEAT_S"]
        self.channel, self.hosts_key, self.parts_key = (link.prefix + k for k in (CHANNEL, HOSTS, PARTS))
        self.mine: dict[str, dict] = {}  # client id -> this process's part
        self.peers: dict[str, dict] = {}  # host -> {"parts", "info", "heard", "alive"}
        self.stale: set[str] = set()  # ids whose merged view must be recomputed
        self.unpublished: set[str] = set()  # ids whose part here changed since the last publish
        self.counts_out = collections.Counter()  # labels stored here since the last publish
        self.full_due = True  # publish every part (at start and after Redis came back)
        self.watch_changed = False
        self.published_at = 0.0
        link.subscribe(self.channel, self._heard)
        link.on_connect.append(self._reconnected)

    # --- this process's parts (the base class's ingestion and connects change these) ----------
    def _state(self, client_id: str) -> dict:
        part = self.mine.get(client_id)
        if part is None:
            part = self.mine[client_id] = new_state(client_id)
        return part

    def _mark(self, client_id: str) -> None:
        super()._mark(client_id)
        self.stale.add(client_id)
        self.unpublished.add(client_id)

    def _mark_remote(self, client_id: str) -> None:
        super()._mark(client_id)
        self.stale.add(client_id)

    def _count(self, counts) -> None:
        super()._count(counts)
        self.counts_out.update(counts)

    def _ensure_ticker(self) -> None:
        super()._ensure_ticker()
        self.link.start()

    # --- the merged view ------------------------------------------------------------------------
    def _refresh(self) -> None:
        for cid in self.stale:
            parts = [self.mine[cid]] if cid in self.mine else []
            for peer in self.peers.values():
                part = peer["parts"].get(cid)
                if part is not None:
                    parts.append(part if peer["alive"] else {**part, "connections": 0})
            if parts:
                self.clients[cid] = merge(parts)
            else:
                self.clients.pop(cid, None)
        self.stale.clear()

    def _watched(self, client_id: str) -> bool:
        """Watched by a dashboard here or on any live process (skeletons cross processes only then)."""
        return super()._watched(client_id) or any(
            peer["alive"] and client_id in peer["info"].get("watching", ()) for peer in list(self.peers.values()))

    def watch(self, sid: str, client_id: str | None) -> str | None:
        previous = super().watch(sid, client_id)
        self.watch_changed = True  # the others learn it at the next tick
        return previous

    def remove_dashboard(self, sid: str) -> None:
        super().remove_dashboard(sid)
        self.watch_changed = True

    def _rates(self) -> dict:
        rates = super()._rates()
        for peer in self.peers.values():
            if peer["alive"]:
                rates["events_per_s"] = round(rates["events_per_s"] + peer["info"]["events_per_s"], 1)
                rates["events_total"] += peer["info"]["events_total"]
                rates["dashboards"] += peer["info"]["dashboards"]
        return rates

    def _collect(self):
        self._check_peers()
        return super()._collect()

    def _check_peers(self) -> None:
        if self.link.down:
            return  # nobody can be heard: keep what was last known
        now = time.monotonic()
        for host, peer in self.peers.items():
            if peer["alive"] and now - peer["heard"] > self.timeout_s:
                peer["alive"] = False
                self.app.logger.warning("server process %s not heard for %.0f s: its clients shown disconnected",
                                        host, now - peer["heard"])
                for cid in peer["parts"]:
                    self._mark_remote(cid)

    def _forget_old(self) -> None:
        cutoff = _ms() - FORGET_AFTER_MS
        for cid in [c for c, p in self.mine.items() if not p["connections"] and p["last_seen"] < cutoff]:
            del self.mine[cid]
            self._mark(cid)
        for host, peer in list(self.peers.items()):
            if not peer["alive"]:
                for cid in [c for c, p in peer["parts"].items() if p["last_seen"] < cutoff]:
                    del peer["parts"][cid]
                    self._mark_remote(cid)
                if not peer["parts"]:
                    del self.peers[host]

    # --- publishing ------------------------------------------------------------------------------
    def tick(self) -> None:
        super().tick()
        self.publish()

    def publish(self) -> None:
        """This process's changed parts, the labels it stored and its rates, in one pipeline."""
        with self.lock:
            now = time.monotonic()
            if self.link.down and now < self.link.retry_at:
                return  # keeps accumulating; the reconnect publishes everything
            if not (self.unpublished or self.counts_out or self.full_due or self.watch_changed
                    or now - self.published_at >= PUBLISH_AT_LEAST_S):
                return
            full, ids = self.full_due, (list(self.mine) if self.full_due else list(self.unpublished))
            parts = {cid: values(self.mine[cid]) for cid in ids if cid in self.mine}  # encoded after the lock
            gone = [cid for cid in ids if cid not in self.mine]
            counts = dict(self.counts_out)
            info = {"at": _ms(), "events_per_s": round(self._events_per_s(), 1), "events_total": self.total,
                    "dashboards": len(self.dashboards), "watching": sorted(self.watched)}
            self.unpublished, self.counts_out, self.full_due, self.published_at = set(), collections.Counter(), False, now
            self.watch_changed = False
        # Each part is encoded once, for the hash and for the message.
        encoded = {cid: json.dumps(v, separators=(",", ":")) for cid, v in parts.items()}
        message = '{"host":%s,"full":%s,"info":%s,"gone":%s,"counts":%s,"parts":{%s}}' % (
            json.dumps(self.host), "true" if full else "false", json.dumps(info), json.dumps(gone), json.dumps(counts),
            ",".join(f"{json.dumps(cid)}:{e}" for cid, e in encoded.items()))

        def send(r):
            pipe = r.pipeline(transaction=False)
            key = self.parts_key + self.host
            if full:
                pipe.delete(key)
            if encoded:
                pipe.hset(key, mapping=encoded)
            if gone:
                pipe.hdel(key, *gone)
            pipe.pexpire(key, FORGET_AFTER_MS)
            pipe.hset(self.hosts_key, self.host, json.dumps(info))
            pipe.publish(self.channel, message)
            pipe.execute()
            return True

        if not self.link.run(send, False):
            with self.lock:  # Redis lost it: all of it again when it is back
                self.full_due = True
                self.counts_out.update(counts)

    # --- hearing the others ------------------------------------------------------------------------
    def _heard(self, text: str) -> None:
        msg = json.loads(text)
        host = msg["host"]
        if host == self.host:
            return
        with self.lock:
            peer = self.peers.get(host)
            unknown = peer is None or not peer["alive"]  # its earlier parts may be missing here
            if peer is None:  # complete before it is seen: skeleton() reads peers without the lock
                peer = self.peers[host] = {"parts": {}, "info": msg["info"], "heard": 0.0, "alive": False}
            elif not peer["alive"]:
                for cid in peer["parts"]:  # alive again: its connections count again
                    self._mark_remote(cid)
            peer.update(info=msg["info"], heard=time.monotonic(), alive=True)
            if msg["full"]:
                for cid in set(peer["parts"]) - set(msg["parts"]):
                    self._mark_remote(cid)
                peer["parts"] = {}
            peer["parts"].update((cid, unpack(v)) for cid, v in msg["parts"].items())
            for cid in msg["parts"]:
                self._mark_remote(cid)
            for cid in msg["gone"]:
                peer["parts"].pop(cid, None)
                self._mark_remote(cid)
            if msg["counts"]:
                super()._count(collections.Counter(msg["counts"]))
        if unknown and not msg["full"]:
            self._load({host: msg["info"]})

    def _reconnected(self) -> None:
        """(Re)subscribed: publish every part of ours, load everyone else's."""
        with self.lock:
            self.full_due = True
            now = time.monotonic()
            for peer in self.peers.values():
                peer["heard"] = max(peer["heard"], now)  # give them time to be heard again
        hosts = self.link.run(lambda r: r.hgetall(self.hosts_key), {})
        self._load({h: json.loads(i) for h, i in hosts.items() if h != self.host})

    def _load(self, hosts: dict[str, dict]) -> None:
        """Every part of these processes from their hashes (at least as new as what was heard)."""
        now = _ms()
        old = [h for h, i in hosts.items() if now - i["at"] > FORGET_AFTER_MS]
        hosts = {h: i for h, i in hosts.items() if h not in old}

        def load(r):
            if old:
                r.hdel(self.hosts_key, *old)
            pipe = r.pipeline(transaction=False)
            for host in hosts:
                pipe.hgetall(self.parts_key + host)
            return pipe.execute()

        loaded = self.link.run(load)
        if loaded is None:
            return
        with self.lock:
            for (host, info), parts in zip(hosts.items(), loaded):
                age_s = max(0.0, (now - info["at"]) / 1000)
                peer = self.peers.setdefault(host, {"parts": {}, "info": info, "heard": 0.0, "alive": False})
                for cid in set(peer["parts"]) | set(parts):
                    self._mark_remote(cid)
                peer.update(parts={cid: unpack(json.loads(p)) for cid, p in parts.items()}, info=info,
                            heard=max(peer["heard"], time.monotonic() - age_s), alive=age_s <= self.timeout_s)

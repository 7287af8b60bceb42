// Streams the page's label events to the server's /pose namespace (web/contract.json).
//
// Every event gets the next sequence number of this client and waits in an outbox kept in
// localStorage, so neither a lost connection nor a reload loses it. Every ≤ 250 ms the oldest
// events go out as one batch with an acknowledgement; only an acknowledged batch leaves the
// outbox. The server stores (client id, seq) once, so a batch sent twice is harmless.
//
// Several tabs of one browser must never share a sequence: each tab holds a Web Lock on a slot
// (0, 1, …) and slot n > 0 uses the browser's id with "-n" appended.
import { POSE_NAMESPACE, POSE_LABELS, POSE_SET_NAME, POSE_SKELETON } from '../common/contract.js';

const FLUSH_MS = 250;
const ACK_TIMEOUT_MS = 10000;
const SKELETON_EVERY_MS = 500;

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function claimSlot() {
  if (!navigator.locks) return 0;
  for (let slot = 0; slot < 64; slot += 1) {
    const held = await new Promise((resolve) => {
      navigator.locks.request(`posecast.stream.${slot}`, { ifAvailable: true }, (lock) => {
        if (!lock) { resolve(false); return undefined; }
        resolve(true);
        return new Promise(() => {}); // held until the tab goes away
      });
    });
    if (held) return slot;
  }
  return 64 + Math.floor(Math.random() * 1e6);
}

export async function createLabelStream(io, { storage = window.localStorage, maxBuffered = 10000,
  batchMax = 500, onChange = () => {} } = {}) {
  const slot = await claimSlot();
  let baseId = storage.getItem('posecast.client');
  if (!baseId) { baseId = randomId(); storage.setItem('posecast.client', baseId); }
  const clientId = slot ? `${baseId}-${slot}` : baseId;
  const key = (what) => `posecast.${what}.${clientId}`;
  let outbox = [];
  try {
    outbox = JSON.parse(storage.getItem(key('outbox')) ?? '[]').filter((e) => Number.isSafeInteger(e?.seq));
  } catch { /* a damaged outbox is dropped; the seq counter below still moves on */ }
  let nextSeq = Math.max(Number(storage.getItem(key('seq')) ?? 0), ...outbox.map((e) => e.seq + 1));
  let name = storage.getItem('posecast.name') || null;
  let inflight = false;
  let generation = 0; // a batch sent before a disconnect must not settle one sent after it
  let dirty = false;
  let retryAt = 0;
  let lastSkeleton = 0;
  const stats = { sent: 0, acked: 0, duplicates: 0, rejected: 0, dropped: 0, lastError: '' };

  const socket = io(POSE_NAMESPACE, {
    transports: ['websocket'],
    auth: (cb) => cb({ client_id: clientId, name }),
  });

  const status = () => Object.freeze({
    clientId, name, connected: socket.connected, buffered: outbox.length, nextSeq, ...stats,
  });
  const changed = () => onChange(status());

  // The sequence number is saved before a batch leaves, so a reload can never reuse one.
  function persist() {
    if (!dirty) return;
    try {
      storage.setItem(key('seq'), String(nextSeq));
      storage.setItem(key('outbox'), JSON.stringify(outbox));
      dirty = false;
    } catch (err) {
      stats.lastError = `could not keep the outbox: ${err.message}`;
    }
  }

  function push(event) {
    outbox.push({ seq: nextSeq, ts: Date.now(), ...event });
    nextSeq += 1;
    if (outbox.length > maxBuffered) {
      const excess = outbox.length - maxBuffered;
      outbox = outbox.slice(excess);
      stats.dropped += excess;
    }
    dirty = true;
  }

  function settle(batch, ack) {
    inflight = false;
    if (ack?.ok) {
      const done = new Set(batch.map((e) => e.seq));
      outbox = outbox.filter((e) => !done.has(e.seq));
      stats.acked += ack.stored;
      stats.duplicates += ack.duplicates;
      stats.lastError = '';
      dirty = true;
      persist();
      if (outbox.length) flush();
    } else if (ack && ack.retry === false) {
      // The server will never take this batch: keep the rest flowing and say so.
      const bad = new Set(batch.map((e) => e.seq));
      outbox = outbox.filter((e) => !bad.has(e.seq));
      stats.rejected += batch.length;
      stats.lastError = ack.error;
      dirty = true;
      persist();
    } else {
      stats.lastError = ack?.error ?? 'no acknowledgement';
      retryAt = Date.now() + (ack?.retry_after_ms ?? 1000);
    }
    changed();
  }

  function flush() {
    persist();
    if (inflight || !socket.connected || !outbox.length || Date.now() < retryAt) return;
    const batch = outbox.slice(0, batchMax);
    const sentIn = generation;
    inflight = true;
    stats.sent += batch.length;
    socket.timeout(ACK_TIMEOUT_MS).emit(POSE_LABELS, { events: batch }, (err, ack) => {
      // After a reconnect the batch is sent again anyway; the server keeps one copy.
      if (sentIn === generation) settle(batch, err ? null : ack);
    });
  }

  socket.on('connect', () => { retryAt = 0; changed(); flush(); });
  socket.on('disconnect', () => { generation += 1; inflight = false; changed(); });
  socket.on('connect_error', (err) => { stats.lastError = err.message; changed(); });
  setInterval(() => { flush(); changed(); }, FLUSH_MS);
  window.addEventListener('pagehide', persist);

  return {
    status,
    push,
    // Display name for dashboards; null clears it.
    setName(value) {
      name = value ? String(value).slice(0, 64) : null;
      if (name) storage.setItem('posecast.name', name); else storage.removeItem('posecast.name');
      if (socket.connected) socket.emit(POSE_SET_NAME, { name }, () => {});
      changed();
    },
    // The first person's keypoints, at most twice a second, for the operator's detail view.
    skeleton(pose, width, height) {
      const now = performance.now();
      if (!socket.connected || now - lastSkeleton < SKELETON_EVERY_MS) return;
      lastSkeleton = now;
      const keypoints = pose.keypoints.map((k) => [Math.round(k.x), Math.round(k.y), Math.round(k.score * 100) / 100]);
      socket.volatile.emit(POSE_SKELETON, { person: Math.max(0, pose.id ?? 0), width, height, keypoints });
    },
    socket,
  };
}

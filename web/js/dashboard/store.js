// The dashboard's model of the world: client states from `snapshot`/`update` (server/live_state.py),
// recent label changes per client for timelines, alerts, and the rate history. No DOM here.
const TIMELINE_MS = 5 * 60 * 1000;
const RATE_POINTS = 120;

export function createStore() {
  const clients = new Map();
  const timelines = new Map(); // client id -> [{ts, label}] label changes, oldest first
  const alerts = new Map(); // id -> alert
  const rates = [];
  let counts = {}; // label -> events since the charts last took them
  let updates = 0;
  let alertsVersion = 0; // bumped on every alert change, so the list is redrawn only then
  let serverOffset = 0; // server clock - page clock
  const lags = []; // ms from a label's page timestamp to this dashboard, last 200

  function noteLabel(state) {
    if (!state.label || state.ts == null) return;
    let line = timelines.get(state.client_id);
    if (!line) { line = []; timelines.set(state.client_id, line); }
    const last = line[line.length - 1];
    if (!last || last.label !== state.label) line.push({ ts: state.ts, label: state.label });
    const cutoff = state.ts - TIMELINE_MS;
    while (line.length > 1 && line[1].ts < cutoff) line.shift();
  }

  function applyClients(list) {
    for (const state of list) {
      clients.set(state.client_id, Object.freeze({ ...state }));
      noteLabel(state);
    }
  }

  return {
    snapshot(payload) {
      clients.clear();
      applyClients(payload.clients);
      rates.push({ t: payload.now, eps: payload.rates.events_per_s });
      serverOffset = payload.now - Date.now();
    },
    update(payload) {
      const now = Date.now();
      for (const c of payload.clients) {
        const before = clients.get(c.client_id);
        if (c.ts != null && c.ts !== before?.ts) lags.push(now - c.ts);
      }
      if (lags.length > 200) lags.splice(0, lags.length - 200);
      applyClients(payload.clients);
      for (const id of payload.gone) { clients.delete(id); timelines.delete(id); }
      for (const [label, n] of Object.entries(payload.counts)) counts[label] = (counts[label] ?? 0) + n;
      rates.push({ t: payload.now, eps: payload.rates.events_per_s });
      if (rates.length > RATE_POINTS) rates.shift();
      updates += 1;
      serverOffset = payload.now - Date.now();
    },
    // History from the REST API, merged in front of what arrived live.
    seedTimeline(clientId, events) {
      const line = [];
      for (const e of events) {
        if (!line.length || line[line.length - 1].label !== e.label) line.push({ ts: e.ts, label: e.label });
      }
      const live = (timelines.get(clientId) ?? []).filter((p) => !line.length || p.ts > line[line.length - 1].ts);
      timelines.set(clientId, [...line, ...live]);
    },
    setAlerts(list) { alerts.clear(); for (const a of list) alerts.set(a.id, Object.freeze(a)); alertsVersion += 1; },
    alert(a) { alerts.set(a.id, Object.freeze(a)); alertsVersion += 1; },
    takeCounts() { const taken = counts; counts = {}; return taken; },
    get clients() { return [...clients.values()]; },
    client(id) { return clients.get(id) ?? null; },
    timeline(id) { return timelines.get(id) ?? []; },
    get alerts() { return [...alerts.values()].sort((a, b) => b.id - a.id); },
    get rates() { return rates.slice(); },
    get lags() { return lags.slice(); },
    get updates() { return updates; },
    get alertsVersion() { return alertsVersion; },
    serverNow() { return Date.now() + serverOffset; },
  };
}

// The operator dashboard: live grid, client detail, charts, alerts, rules and history.
// Orchestration only; each part lives in its own dashboard-*.js module.
import * as alertsApi from './alerts.js';
import { createCharts } from './charts.js';
import { createSkeletonView, displayName, drawTimeline, renderGrid, renderSessions } from './grid.js';
import * as history from './history.js';
import { createStore } from './store.js';
import { ALERT, ALERT_ACKNOWLEDGED, DASHBOARD_NAMESPACE, SKELETON, SNAPSHOT, UPDATE, WATCH } from '../common/contract.js';
import { apiFetch, showUser } from '../common/session.js';
import { io } from '/assets/lib/socket.io.esm.min.js';

const $ = (selector) => document.querySelector(selector);
const store = createStore();
const charts = createCharts({ minutes: $('#chart-minutes'), distribution: $('#chart-distribution'), rate: $('#chart-rate') });
const skeletonView = createSkeletonView($('#skeleton'));
let selected = null;
let rules = [];
let historyQuery = new URLSearchParams();
let historyNext = null;
let renderQueued = false;
let chartsAt = 0;
let chartSummary = { classes: [], totals: [] };
let skeletons = 0;
let alertsDrawn = -1;

const clientName = (id, fallback) => {
  const c = store.client(id);
  return c ? displayName(c) : (fallback || id.slice(0, 10));
};

function say(text) {
  $('#message').textContent = text;
  $('#message').hidden = !text;
}

function render() {
  renderQueued = false;
  const now = store.serverNow();
  renderGrid($('#client-grid tbody'), store.clients, now, selected, select);
  const last = store.rates.at(-1);
  if (last) $('#rates').textContent = `${last.eps.toFixed(0)} events/s · ${store.clients.filter((c) => c.connected).length} connected`;
  if (selected) {
    const c = store.client(selected);
    $('#detail-title').textContent = c ? displayName(c) : selected;
    $('#detail-meta').textContent = c ? `${c.client_id} · ${c.connected ? 'connected' : 'disconnected'} · `
      + `${c.events} events this run · ${c.label ?? '–'} ${c.confidence == null ? '' : `${(100 * c.confidence).toFixed(0)} %`}` : '';
    drawTimeline($('#timeline'), $('#timeline-legend'), store.timeline(selected), now);
  }
  if (performance.now() - chartsAt > 1000) {
    chartsAt = performance.now();
    charts.addCounts(store.takeCounts(), Date.now());
    chartSummary = charts.render(store.rates, Date.now());
  }
  // Redrawn only when alerts change: a rebuilt list would swallow a click on "Acknowledge".
  if (alertsDrawn !== store.alertsVersion) {
    alertsDrawn = store.alertsVersion;
    alertsApi.renderAlerts($('#alert-list'), $('#alert-count'), store.alerts, clientName, ack);
  }
  fillClientChoices();
}

function queueRender() {
  if (!renderQueued) { renderQueued = true; requestAnimationFrame(render); }
}

function fillClientChoices() {
  const selectEl = $('#rule-form').elements.client_id;
  const ids = store.clients.map((c) => c.client_id);
  const have = [...selectEl.options].slice(1).map((o) => o.value);
  if (ids.length === have.length && ids.every((id, i) => id === have[i])) return;
  const keep = selectEl.value;
  selectEl.replaceChildren(selectEl.options[0], ...store.clients.map((c) => {
    const o = document.createElement('option');
    o.value = c.client_id;
    o.textContent = displayName(c);
    return o;
  }));
  selectEl.value = keep;
}

async function select(clientId) {
  selected = clientId === selected ? null : clientId;
  $('#detail').hidden = !selected;
  skeletonView.clear();
  socket.emit(WATCH, { client_id: selected }, () => {});
  queueRender();
  if (!selected) return;
  const since = store.serverNow() - 5 * 60 * 1000;
  const id = encodeURIComponent(selected);
  const [recent, sessions] = await Promise.all([
    apiFetch(`/api/labels?client_id=${id}&since=${since}&limit=5000`), apiFetch(`/api/clients/${id}/sessions`)]);
  if (recent.ok) store.seedTimeline(selected, (await recent.json()).events);
  if (sessions.ok) renderSessions($('#sessions'), (await sessions.json()).sessions);
  queueRender();
}

async function ack(id) {
  try { store.alert(await alertsApi.acknowledge(id)); } catch (err) { say(err.message); }
  queueRender();
}

async function refreshRules() {
  rules = await alertsApi.loadRules();
  alertsApi.renderRules($('#rule-table tbody'), rules, clientName,
    (id, on) => alertsApi.setRuleEnabled(id, on).then(refreshRules, (err) => say(err.message)),
    (id) => alertsApi.deleteRule(id).then(refreshRules, (err) => say(err.message)));
}

async function runSearch(more = false) {
  const tbody = $('#history-table tbody');
  try {
    const page = await history.search(historyQuery, more ? historyNext : 0);
    if (!more) tbody.replaceChildren();
    history.appendRows(tbody, page.events, clientName);
    historyNext = page.next_before_id;
    $('#history-more').hidden = historyNext == null;
    say('');
  } catch (err) {
    say(`History: ${err.message}`);
  }
}

const socket = io(DASHBOARD_NAMESPACE, { transports: ['websocket'] });
socket.on('connect', () => {
  $('#connection').textContent = 'live';
  $('#connection').dataset.connected = 'true';
  if (selected) socket.emit(WATCH, { client_id: selected }, () => {});
});
socket.on('disconnect', () => {
  $('#connection').textContent = 'reconnecting…';
  $('#connection').dataset.connected = 'false';
});
socket.on('connect_error', (err) => say(`Live updates: ${err.message}`));
socket.on(SNAPSHOT, (payload) => { store.snapshot(payload); queueRender(); });
// Acknowledging tells the server this dashboard is ready for the next update.
socket.on(UPDATE, (payload, done) => { store.update(payload); done?.(); queueRender(); });
socket.on(ALERT, (a) => { store.alert(a); queueRender(); });
socket.on(ALERT_ACKNOWLEDGED, (a) => { store.alert(a); queueRender(); });
socket.on(SKELETON, (msg) => { if (msg.client_id === selected) { skeletons += 1; skeletonView.draw(msg); } });

$('#detail-close').addEventListener('click', () => select(selected));
$('#rule-form').addEventListener('submit', (event) => {
  event.preventDefault();
  alertsApi.addRule(alertsApi.ruleFromForm(event.target)).then(refreshRules, (err) => say(err.message));
});
$('#fall-preset').addEventListener('click', () => {
  const clientId = $('#rule-form').elements.client_id.value || null;
  alertsApi.addRule({ preset: 'fall', client_id: clientId }).then(refreshRules, (err) => say(err.message));
});
$('#history-form').addEventListener('submit', (event) => {
  event.preventDefault();
  historyQuery = history.queryFrom(event.target);
  history.exportLinks(historyQuery, $('#export-csv'), $('#export-jsonl'));
  runSearch();
});
$('#history-more').addEventListener('click', () => runSearch(true));
setInterval(queueRender, 1000); // "last seen" and the charts move on even when nothing arrives

// Read-only view for tests and tools.
window.posecastDashboard = Object.freeze({
  get status() { return document.body.dataset.status; },
  get connected() { return socket.connected; },
  get clients() { return store.clients; },
  get alerts() { return store.alerts; },
  get rules() { return rules.slice(); },
  get updates() { return store.updates; },
  get selected() { return selected; },
  get skeletons() { return skeletons; },
  get charts() { return chartSummary; },
  // ms from each label's creation on its page to its arrival here (same-machine clocks only)
  get lagsMs() { return store.lags; },
});

await showUser($('#user'));
const since = Date.now() - 30 * 60 * 1000;
const [alertList, counts] = await Promise.all([
  alertsApi.loadAlerts(),
  apiFetch(`/api/labels/counts?interval=60&since=${since}`).then((r) => r.json()),
  refreshRules(),
]).catch((err) => { say(err.message); return [[], { buckets: [] }]; });
store.setAlerts(alertList);
charts.seed(counts.buckets);
history.exportLinks(historyQuery, $('#export-csv'), $('#export-jsonl'));
runSearch(); // the newest events, unfiltered, until the operator filters
document.body.dataset.status = 'ready';
queueRender();

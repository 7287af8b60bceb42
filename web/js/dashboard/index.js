// The operator dashboard: live grid, client detail, charts, alerts, rules and history.
// Wiring only: the store (store.js) holds what the server said, the page (page.js) draws it and
// handles the operator's actions; grid, charts, alerts and history draw their parts.
import { createAlertsApi } from './alerts.js';
import { createCharts } from './charts.js';
import { createSkeletonView } from './grid.js';
import { createDashboardPage } from './page.js';
import { createStore } from './store.js';
import { ALERT, ALERT_ACKNOWLEDGED, DASHBOARD_NAMESPACE, SKELETON, SNAPSHOT, UPDATE, WATCH } from '../common/contract.js';
import { createSession } from '../common/session.js';
import { io } from '/assets/lib/socket.io.esm.min.js';

const $ = (selector) => document.querySelector(selector);
const session = createSession();
const alertsApi = createAlertsApi(session);
const store = createStore();
const socket = io(DASHBOARD_NAMESPACE, { transports: ['websocket'] });
const charts = createCharts({ minutes: $('#chart-minutes'), distribution: $('#chart-distribution'), rate: $('#chart-rate') });
const page = createDashboardPage({
  $, store, session, alertsApi, socket, charts, skeletonView: createSkeletonView($('#skeleton')),
});

socket.on('connect', () => {
  $('#connection').textContent = 'live';
  $('#connection').dataset.connected = 'true';
  if (page.selected) socket.emit(WATCH, { client_id: page.selected }, () => {});
});
socket.on('disconnect', () => {
  $('#connection').textContent = 'reconnecting…';
  $('#connection').dataset.connected = 'false';
});
socket.on('connect_error', (err) => page.say(`Live updates: ${err.message}`));
socket.on(SNAPSHOT, (payload) => { store.snapshot(payload); page.queueRender(); });
// Acknowledging tells the server this dashboard is ready for the next update.
socket.on(UPDATE, (payload, done) => { store.update(payload); done?.(); page.queueRender(); });
socket.on(ALERT, (a) => { store.alert(a); page.queueRender(); });
socket.on(ALERT_ACKNOWLEDGED, (a) => { store.alert(a); page.queueRender(); });
socket.on(SKELETON, (msg) => page.skeleton(msg));

$('#detail-close').addEventListener('click', () => page.select(page.selected));
$('#rule-form').addEventListener('submit', (event) => {
  event.preventDefault();
  page.addRule(page.ruleFromForm(event.target));
});
$('#fall-preset').addEventListener('click', () => {
  page.addRule({ preset: 'fall', client_id: $('#rule-form').elements.client_id.value || null });
});
$('#history-form').addEventListener('submit', (event) => {
  event.preventDefault();
  page.search(event.target);
});
$('#history-more').addEventListener('click', () => page.searchMore());
setInterval(page.queueRender, 1000); // "last seen" and the charts move on even when nothing arrives

// Read-only view for tests and tools.
window.posecastDashboard = Object.freeze({
  get status() { return document.body.dataset.status; },
  get connected() { return socket.connected; },
  get clients() { return store.clients; },
  get alerts() { return store.alerts; },
  get rules() { return page.rules; },
  get updates() { return store.updates; },
  get selected() { return page.selected; },
  get skeletons() { return page.skeletons; },
  get charts() { return page.charts; },
  // ms from each label's creation on its page to its arrival here (same-machine clocks only)
  get lagsMs() { return store.lags; },
});

await session.showUser($('#user'));
const since = Date.now() - 30 * 60 * 1000;
const [alertList, counts] = await Promise.all([
  alertsApi.loadAlerts(),
  session.apiFetch(`/api/labels/counts?interval=60&since=${since}`).then((r) => r.json()),
  page.refreshRules(),
]).catch((err) => { page.say(err.message); return [[], { buckets: [] }]; });
store.setAlerts(alertList);
charts.seed(counts.buckets);
page.search(); // the newest events, unfiltered, until the operator filters
document.body.dataset.status = 'ready';
page.queueRender();

// The dashboard's screen: renders the store into the grid, detail, charts and alert list (at most
// once a frame), and handles selection, acknowledgements, rules and history searches. Its state
// (the selected client, the rules, the history query) lives in the object this returns.
import { WATCH } from '../common/contract.js';
import { displayName, drawTimeline, renderGrid, renderSessions } from './grid.js';
import * as history from './history.js';
import { renderAlerts, renderRules, ruleFromForm } from './alerts.js';

export function createDashboardPage({ $, store, session, alertsApi, charts, skeletonView, socket }) {
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
      renderAlerts($('#alert-list'), $('#alert-count'), store.alerts, clientName, ack);
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
      session.apiFetch(`/api/labels?client_id=${id}&since=${since}&limit=5000`),
      session.apiFetch(`/api/clients/${id}/sessions`)]);
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
    renderRules($('#rule-table tbody'), rules, clientName,
      (id, on) => alertsApi.setRuleEnabled(id, on).then(refreshRules, (err) => say(err.message)),
      (id) => alertsApi.deleteRule(id).then(refreshRules, (err) => say(err.message)));
  }

  async function runSearch(more = false) {
    const tbody = $('#history-table tbody');
    try {
      const page = await history.search(session, historyQuery, more ? historyNext : 0);
      if (!more) tbody.replaceChildren();
      history.appendRows(tbody, page.events, clientName);
      historyNext = page.next_before_id;
      $('#history-more').hidden = historyNext == null;
      say('');
    } catch (err) {
      say(`History: ${err.message}`);
    }
  }

  return {
    say,
    queueRender,
    select,
    refreshRules,
    addRule: (rule) => alertsApi.addRule(rule).then(refreshRules, (err) => say(err.message)),
    ruleFromForm,
    // The history form's filter; the export links follow it.
    search(form) {
      if (form) historyQuery = history.queryFrom(form);
      history.exportLinks(historyQuery, $('#export-csv'), $('#export-jsonl'));
      return runSearch();
    },
    searchMore: () => runSearch(true),
    // A pose from the watched client.
    skeleton(msg) { if (msg.client_id === selected) { skeletons += 1; skeletonView.draw(msg); } },
    get selected() { return selected; },
    get rules() { return rules.slice(); },
    get skeletons() { return skeletons; },
    get charts() { return chartSummary; },
  };
}

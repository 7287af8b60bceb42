// Raised alerts (acknowledge) and alert rules (add, preset, switch on/off, delete).

// The REST calls, through the page's session (CSRF).
export function createAlertsApi({ apiJson: call }) {
  return Object.freeze({
    loadAlerts: () => call('GET', '/api/alerts?limit=50').then((d) => d.alerts),
    acknowledge: (id) => call('POST', `/api/alerts/${id}/ack`),
    loadRules: () => call('GET', '/api/alert-rules').then((d) => d.rules),
    addRule: (rule) => call('POST', '/api/alert-rules', rule),
    setRuleEnabled: (id, enabled) => call('PATCH', `/api/alert-rules/${id}`, { enabled }),
    deleteRule: (id) => call('DELETE', `/api/alert-rules/${id}`),
  });
}

const cell = (text) => { const td = document.createElement('td'); td.textContent = text; return td; };
const button = (text, onClick) => {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
};

export function renderAlerts(list, count, alerts, clientName, onAck) {
  const open = alerts.filter((a) => a.acknowledged_at == null);
  count.textContent = open.length ? `(${open.length} open)` : '';
  list.replaceChildren(...alerts.slice(0, 30).map((a) => {
    const li = document.createElement('li');
    li.dataset.alert = a.id;
    li.classList.toggle('acknowledged', a.acknowledged_at != null);
    const text = document.createElement('span');
    const when = new Date(a.raised_at).toLocaleTimeString();
    text.textContent = `${when} · ${a.rule_name}: ${clientName(a.client_id, a.client_name)} held ${a.label} `
      + `(${(100 * a.confidence).toFixed(0)} %) for ${((a.raised_ts - a.started_ts) / 1000).toFixed(1)} s`;
    li.append(text);
    if (a.acknowledged_at == null) li.append(button('Acknowledge', () => onAck(a.id)));
    else li.append(cell(`acknowledged by ${a.acknowledged_by}`));
    return li;
  }));
}

export function renderRules(tbody, rules, clientName, onToggle, onDelete) {
  tbody.replaceChildren(...rules.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.rule = r.id;
    const toggle = document.createElement('input');
    toggle.type = 'checkbox';
    toggle.checked = r.enabled;
    toggle.addEventListener('change', () => onToggle(r.id, toggle.checked));
    const on = document.createElement('td');
    on.append(toggle);
    const actions = document.createElement('td');
    actions.append(button('Delete', () => onDelete(r.id)));
    tr.append(cell(r.name), cell(r.labels.join(', ')), cell(`≥ ${r.min_confidence}`), cell(`${r.hold_s} s`),
      cell(r.client_id ? clientName(r.client_id) : 'every client'), on, actions);
    return tr;
  }));
}

export function ruleFromForm(form) {
  const f = form.elements;
  const rule = {
    labels: f.labels.value.split(',').map((s) => s.trim()).filter(Boolean),
    min_confidence: Number(f.min_confidence.value),
    hold_s: Number(f.hold_s.value),
    client_id: f.client_id.value || null,
  };
  if (f.name.value.trim()) rule.name = f.name.value.trim();
  return rule;
}

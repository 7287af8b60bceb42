// The live grid of clients and one client's detail (label timeline, low-rate skeleton).
// Names and labels come from pages anyone can open: always set as text, never as HTML.
import { createRenderer } from '../common/renderer.js';
import { COCO_KEYPOINTS } from '../common/skeleton.js';

const colour = (label) => {
  let h = 0;
  for (const ch of String(label)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return `hsl(${h} 70% 55%)`;
};
export const labelColour = colour;

function ago(ms) {
  if (ms < 1500) return 'now';
  if (ms < 90000) return `${Math.round(ms / 1000)} s ago`;
  return `${Math.round(ms / 60000)} min ago`;
}

export const displayName = (c) => c.name || c.client_id.slice(0, 10);

export function renderGrid(tbody, clients, now, selected, onSelect) {
  const rows = new Map([...tbody.children].map((tr) => [tr.dataset.client, tr]));
  const sorted = clients.slice().sort((a, b) => (b.connected - a.connected) || displayName(a).localeCompare(displayName(b)));
  const ordered = sorted.map((c) => {
    let tr = rows.get(c.client_id);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.client = c.client_id;
      for (let i = 0; i < 9; i += 1) tr.append(document.createElement('td'));
      tr.addEventListener('click', () => onSelect(tr.dataset.client));
    }
    rows.delete(c.client_id);
    const cells = [
      displayName(c), c.label ?? '–', c.confidence == null ? '' : `${(100 * c.confidence).toFixed(0)} %`,
      c.backbone ?? '', c.model ? `${c.model} v${c.model_version ?? '?'}` : '', c.fps == null ? '' : c.fps.toFixed(1),
      ago(now - c.last_seen), c.connected ? 'connected' : 'disconnected', c.kind === 'edge' ? 'edge node' : 'browser',
    ];
    cells.forEach((text, i) => { if (tr.children[i].textContent !== text) tr.children[i].textContent = text; });
    tr.title = c.client_id;
    tr.children[1].style.color = c.label ? colour(c.label) : '';
    tr.dataset.connected = String(c.connected);
    tr.dataset.kind = c.kind ?? 'page';
    tr.classList.toggle('selected', c.client_id === selected);
    return tr;
  });
  for (const tr of rows.values()) tr.remove();
  ordered.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null); });
}

// Label changes over the last minutes as coloured bands, newest on the right.
export function drawTimeline(canvas, legend, line, now, spanMs = 5 * 60 * 1000) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const x = (ts) => ((ts - (now - spanMs)) / spanMs) * canvas.width;
  line.forEach((p, i) => {
    const end = i + 1 < line.length ? line[i + 1].ts : now;
    ctx.fillStyle = colour(p.label);
    ctx.fillRect(Math.max(0, x(p.ts)), 10, Math.max(1, x(end) - Math.max(0, x(p.ts))), canvas.height - 20);
  });
  const seen = [...new Set(line.map((p) => p.label))];
  legend.replaceChildren(...seen.map((label) => {
    const span = document.createElement('span');
    span.textContent = `■ ${label}`;
    span.style.color = colour(label);
    return span;
  }));
}

// A client's recent sessions (GET /api/clients/<id>/sessions): start, end or "connected", address.
export function renderSessions(list, sessions) {
  const time = (ms) => new Date(ms).toLocaleString();
  list.replaceChildren(...sessions.slice(0, 5).map((s) => {
    const li = document.createElement('li');
    const minutes = ((s.ended_at ?? Date.now()) - s.started_at) / 60000;
    li.textContent = `${time(s.started_at)} – ${s.ended_at ? time(s.ended_at) : 'connected'} `
      + `(${minutes.toFixed(1)} min) · ${s.address || '?'}${s.name ? ` · ${s.name}` : ''}`;
    return li;
  }));
}

export function createSkeletonView(canvas) {
  const renderer = createRenderer(canvas);
  return {
    clear() { renderer.clear(); },
    draw(msg) {
      if (canvas.width !== Math.round(msg.width) || canvas.height !== Math.round(msg.height)) {
        renderer.resize(Math.round(msg.width), Math.round(msg.height));
      }
      const names = msg.keypoints.length === COCO_KEYPOINTS.length ? COCO_KEYPOINTS : [];
      const keypoints = msg.keypoints.map(([x, y, score], i) => ({ x, y, score, name: names[i] ?? `k${i}` }));
      renderer.draw([{ id: msg.person, keypoints }], { threshold: 0.3, mirrored: false });
    },
  };
}

// History: filter the label log, page through it, export the same filter as CSV or JSONL.

export function queryFrom(form) {
  const q = new URLSearchParams();
  const f = form.elements;
  for (const name of ['client_id', 'label', 'model']) if (f[name].value.trim()) q.set(name, f[name].value.trim());
  // datetime-local is the operator's local time; the API takes ms since the epoch.
  for (const name of ['since', 'until']) if (f[name].value) q.set(name, String(new Date(f[name].value).getTime()));
  return q;
}

// Newest first; `beforeId` continues where the previous page ended.
export async function search(session, query, beforeId = 0, limit = 200) {
  const q = new URLSearchParams(query);
  q.set('order', 'desc');
  q.set('limit', String(limit));
  if (beforeId) q.set('before_id', String(beforeId));
  const response = await session.apiFetch(`/api/labels?${q}`);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error);
  return data;
}

export function exportLinks(query, csv, jsonl) {
  csv.href = `/api/labels/export.csv?${query}`;
  jsonl.href = `/api/labels/export.jsonl?${query}`;
}

export function appendRows(tbody, events, clientName) {
  for (const e of events) {
    const tr = document.createElement('tr');
    const cells = [new Date(e.ts).toLocaleString(), clientName(e.client_id), e.seq, e.label,
      `${(100 * e.confidence).toFixed(0)} %`, e.model ? `${e.model} v${e.model_version ?? '?'}` : '', e.backbone ?? '', e.person];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = String(text);
      tr.append(td);
    }
    tbody.append(tr);
  }
}

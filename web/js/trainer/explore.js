// Exploring the dataset before training (GET /api/datasets/<id>/explore): a 2-D map of the
// samples' pose features (PCA, computed on the server) coloured by class, and per class the samples
// to review: pose not found, unsure, likely mislabelled (with the class its neighbours suggest),
// near-duplicates. Each is one click from deletion or, for a likely mislabel, a move; clicking its
// thumbnail rings it on the map. Labels are set as text, never HTML.
const KINDS = Object.freeze({
  no_pose: 'no pose found', unsure: 'unsure pose', mislabel: 'likely mislabelled', duplicate: 'near-duplicate',
});

export const colourOf = (classes, label) => `hsl(${(Math.max(0, classes.indexOf(label)) * 137) % 360} 75% 60%)`;

function describe(flag) {
  if (flag.kind === 'mislabel') return `looks like ${flag.suggested} (${Math.round(100 * flag.share)} % of its neighbours)`;
  if (flag.kind === 'duplicate') return `near-duplicate of #${flag.of} (${flag.of_label})`;
  if (flag.kind === 'unsure') return `unsure: ${flag.seen}/17 keypoints seen, mean score ${flag.mean_score}`;
  return `no pose found (${flag.seen}/17 keypoints seen)`;
}

export function createExplorer({ button, map, list, store, api, say, onChange }) {
  let result = null;
  let ringed = null;

  function drawMap() {
    const ctx = map.getContext('2d');
    const { width, height } = map;
    ctx.clearRect(0, 0, width, height);
    const shown = (result?.points ?? []).filter((p) => p.x != null);
    if (!shown.length) return;
    const classes = Object.keys(result.per_class);
    const xs = shown.map((p) => p.x); const ys = shown.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = 12;
    const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad - 90);
    const sy = (y) => height - pad - ((y - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
    for (const p of shown) {
      ctx.fillStyle = colourOf(classes, p.label);
      ctx.beginPath();
      ctx.arc(sx(p.x), sy(p.y), p.flags.length ? 4 : 3, 0, 2 * Math.PI);
      ctx.fill();
      if (p.flags.length || p.id === ringed) {
        ctx.strokeStyle = p.id === ringed ? '#fff' : '#000';
        ctx.lineWidth = p.id === ringed ? 3 : 1;
        ctx.beginPath();
        ctx.arc(sx(p.x), sy(p.y), p.id === ringed ? 9 : 5, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    ctx.font = '12px sans-serif';
    classes.forEach((label, i) => { // the legend, on the right
      ctx.fillStyle = colourOf(classes, label);
      ctx.fillRect(width - 84, 8 + 16 * i, 10, 10);
      ctx.fillText(label.slice(0, 12), width - 70, 17 + 16 * i);
    });
  }

  function action(text, title, run) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.title = title;
    b.addEventListener('click', () => run().catch((err) => say(err.message, true)));
    return b;
  }

  async function remove(point) {
    await api.deleteSample(point.id);
    store.samples = store.samples.filter((s) => s.id !== point.id);
    result.points = result.points.filter((p) => p.id !== point.id);
    render();
    onChange();
  }

  async function move(point, label) {
    await api.relabelSample(point.id, label);
    const sample = store.samples.find((s) => s.id === point.id);
    if (sample) sample.label = label;
    point.label = label;
    point.flags = point.flags.filter((f) => f.kind !== 'mislabel');
    render();
    onChange();
  }

  function item(point) {
    const li = document.createElement('li');
    li.dataset.sample = String(point.id);
    li.dataset.kinds = point.flags.map((f) => f.kind).join(' ');
    const img = document.createElement('img');
    img.alt = `sample ${point.id}`;
    if (point.thumbnail) img.src = point.thumbnail;
    img.title = 'Show it on the map';
    img.addEventListener('click', () => { ringed = point.id; drawMap(); });
    const text = document.createElement('span');
    text.textContent = `#${point.id}: ${point.flags.map(describe).join('; ')}`;
    li.append(img, text, action('Delete', 'Delete this sample', () => remove(point)));
    const mislabel = point.flags.find((f) => f.kind === 'mislabel');
    if (mislabel) li.append(action(`Move to ${mislabel.suggested}`, 'Relabel it', () => move(point, mislabel.suggested)));
    return li;
  }

  function render() {
    drawMap();
    if (!result) { list.replaceChildren(); return; }
    const classes = [...new Set(result.points.map((p) => p.label))].sort();
    list.replaceChildren(...classes.map((label) => {
      const mine = result.points.filter((p) => p.label === label);
      const flagged = mine.filter((p) => p.flags.length);
      const section = document.createElement('section');
      section.dataset.label = label;
      const h = document.createElement('h3');
      const counts = Object.keys(KINDS).map((k) => [k, mine.filter((p) => p.flags.some((f) => f.kind === k)).length])
        .filter(([, n]) => n).map(([k, n]) => `${n} ${KINDS[k]}`);
      h.textContent = `${label}: ${mine.length} samples${counts.length ? ` · ${counts.join(' · ')}` : ' · nothing to review'}`;
      h.style.color = colourOf(Object.keys(result.per_class), label);
      const ul = document.createElement('ul');
      ul.append(...flagged.map(item));
      section.append(h, ul);
      return section;
    }));
  }

  async function explore() {
    if (!store.dataset) return;
    button.disabled = true;
    try {
      result = await api.explore(store.dataset.id);
      ringed = null;
      render();
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener('click', () => explore().catch((err) => say(err.message, true)));
  return {
    explore,
    clear() { result = null; render(); },
    // For tests and tools: how many samples are flagged, by kind.
    summary: () => result && Object.fromEntries(Object.keys(KINDS).map((k) => [k,
      result.points.filter((p) => p.flags.some((f) => f.kind === k)).length])),
  };
}

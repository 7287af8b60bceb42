// A training run's report: its cross-validation confusion matrix (rows: the true class, columns:
// what the model said; the diagonal is right) and the samples the folds got wrong, most confident
// first (a confident mistake is often a mislabelled sample), each one click from deletion or a move
// to the class the model said. Shown when a run finishes, and for the dataset's last run on load.
// Labels are set as text, never HTML.
import { trainingText } from './runs.js';

const SHOWN = 40;

function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

export function createRunReport({ element, store, api, say, onChange }) {
  const [title, table, list] = ['h3', 'table', 'ul'].map((tag) => element.appendChild(document.createElement(tag)));
  table.className = 'confusion';
  let shown = null;

  const labelsOf = (metrics) => metrics.labels ?? Object.keys(metrics.per_class ?? {});

  function confusion(metrics) {
    const labels = labelsOf(metrics);
    const head = document.createElement('tr');
    head.append(cell('th', 'true \\ said'), ...labels.map((l) => cell('th', l)), cell('th', 'accuracy'));
    const rows = metrics.confusion.map((row, i) => {
      const tr = document.createElement('tr');
      const max = Math.max(1, ...row);
      tr.append(cell('th', labels[i]), ...row.map((n, j) => {
        const td = cell('td', String(n), i === j ? 'diag' : (n ? 'off' : ''));
        td.style.setProperty('--share', (n / max).toFixed(2));
        return td;
      }));
      const acc = metrics.per_class?.[labels[i]];
      tr.append(cell('td', acc == null ? '–' : `${Math.round(100 * acc)} %`));
      return tr;
    });
    table.replaceChildren(head, ...rows);
  }

  function mistake(m, labels) {
    const li = document.createElement('li');
    li.dataset.sample = String(m.sample_id);
    const sample = store.samples.find((s) => s.id === m.sample_id);
    const img = document.createElement('img');
    img.alt = `sample ${m.sample_id}`;
    if (sample?.thumbnail) img.src = sample.thumbnail;
    li.append(img, cell('span', `#${m.sample_id}: ${m.true}, said ${m.said} ${Math.round(100 * m.confidence)} %`));
    if (!sample) { li.append(cell('em', ' (deleted)')); return li; }
    const button = (text, run) => {
      const b = cell('button', text);
      b.type = 'button';
      b.addEventListener('click', () => run().then(() => { show(shown); onChange(); }).catch((err) => say(err.message, true)));
      return b;
    };
    li.append(button('Delete', async () => {
      await api.deleteSample(m.sample_id);
      store.samples = store.samples.filter((s) => s.id !== m.sample_id);
    }));
    // A sample where nobody was found (said "no pose") has no class to move to.
    if (labels.includes(m.said)) {
      li.append(button(`Move to ${m.said}`, async () => {
        await api.relabelSample(m.sample_id, m.said);
        sample.label = m.said;
      }));
    }
    return li;
  }

  // run: {id, params?: {ensemble, epochs, ...}, metrics: {accuracy, per_class, confusion, labels?, mistakes?}} or null.
  function show(run) {
    shown = run;
    element.hidden = !run?.metrics?.confusion;
    if (element.hidden) return;
    const { metrics } = run;
    const mistakes = (metrics.mistakes ?? []).filter((m) => Number.isInteger(m.sample_id));
    const how = run.params?.epochs ? ` (${trainingText(run.params)})` : '';
    title.textContent = `Run ${run.id}${how}: validation accuracy ${Math.round(100 * metrics.accuracy)} % · `
      + `${mistakes.length} misclassified sample${mistakes.length === 1 ? '' : 's'} (most confident first)`;
    confusion(metrics);
    list.replaceChildren(...mistakes.slice(0, SHOWN).map((m) => mistake(m, labelsOf(metrics))));
  }

  // The dataset's last finished run.
  async function latest() {
    const runs = await api.listRuns();
    show(runs.find((r) => r.dataset_id === store.dataset?.id && r.status === 'done') ?? null);
  }

  return { show, latest, get shown() { return shown; } };
}

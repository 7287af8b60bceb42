// The model registry: every model with its accuracy; activate, delete, roll back.
// Names and labels are set as text, never HTML.
import { trainingText } from './runs.js';

export function createModels({ rows, rollback, api, say }) {
  function button(text, onClick, disabled = false) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.disabled = disabled;
    b.addEventListener('click', () => onClick().then(refresh).catch((err) => say(err.message, true)));
    return b;
  }

  async function refresh() {
    const models = await api.listModels();
    rows.replaceChildren(...models.map((m) => {
      const row = document.createElement('tr');
      row.dataset.model = `${m.name}/${m.version}`;
      const accuracy = m.metrics?.accuracy;
      for (const text of [`${m.name} v${m.version}${m.active ? ' (active)' : ''}`, m.features, trainingText(m.training),
        m.labels.join(', '),
        accuracy == null ? '–' : `${(100 * accuracy).toFixed(0)} %`]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      const actions = document.createElement('td');
      actions.append(button('Activate', () => api.activateModel(m.id), m.active),
        button('Delete', () => api.deleteModel(m.id), m.active));
      row.append(actions);
      return row;
    }));
  }

  rollback.addEventListener('click', () => api.rollbackModel().then(refresh).catch((err) => say(err.message, true)));
  return { refresh };
}

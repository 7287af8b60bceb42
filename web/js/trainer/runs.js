// Training runs: start one from the form, follow its progress (train_progress events) and draw
// the curves; a finished run's model is registered by the server, so the model table is refreshed.
import { drawCurves } from './curves.js';

// onDone(run): a finished run {id, metrics} (its validation and misclassified samples).
export function createRuns({ form, status, curves, store, api, onModel, onDone }) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!store.dataset) return;
    const { features, epochs, train } = form.elements;
    train.disabled = true;
    store.epochs = [];
    drawCurves(curves, [], 1);
    try {
      const run = await api.train(store.dataset.id, { features: features.value, epochs: Number(epochs.value) });
      store.run = { id: run.id, event: 'start' };
      status.textContent = 'Training…';
    } catch (err) {
      status.textContent = err.message;
      train.disabled = false;
    }
  });

  function showProgress(event) {
    if (!store.run || event.run_id !== store.run.id) return;
    store.run = { ...store.run, event: event.event };
    if (event.event === 'epoch') {
      store.epochs.push(event);
      status.textContent = `epoch ${event.epoch}/${event.epochs} · loss ${event.loss.toFixed(3)} · `
        + `val acc ${(event.val_accuracy ?? 0).toFixed(2)}`;
      drawCurves(curves, store.epochs, event.epochs);
    } else if (event.event === 'done') {
      status.textContent = `Done: validation accuracy ${(100 * event.validation.accuracy).toFixed(0)} %. `
        + 'The new model is now active in every open live page.';
      form.elements.train.disabled = false;
      onDone({ id: event.run_id, metrics: { ...event.validation, mistakes: event.mistakes ?? [] } });
      setTimeout(onModel, 500); // the server registers it right after
    } else if (event.event === 'error') {
      status.textContent = `Training failed: ${event.message}`;
      form.elements.train.disabled = false;
    }
  }

  return { showProgress };
}

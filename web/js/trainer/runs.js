// Training runs: start one from the form, follow its progress (train_progress events: every fold
// of the cross-validation, then the final model on all samples) and draw the current stage's
// curves; a finished run's model is registered by the server, so the model table is refreshed.
import { drawCurves } from './curves.js';

// onDone(run): a finished run {id, metrics} (its validation and misclassified samples).
export function createRuns({ form, status, curves, store, api, onModel, onDone }) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!store.dataset) return;
    const { features, epochs, train } = form.elements;
    train.disabled = true;
    store.epochs = [];
    store.stages = [];
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
      const stage = stageOf(event);
      if (stage !== store.stages.at(-1)) { // a new fold (or the final model): its own curves
        store.stages.push(stage);
        store.epochs = [];
      }
      store.epochs.push(event);
      status.textContent = `${stage} · epoch ${event.epoch}/${event.epochs} · loss ${event.loss.toFixed(3)}`
        + (event.val_accuracy === undefined ? '' : ` · val acc ${event.val_accuracy.toFixed(2)}`);
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

// "fold 2/5" while cross-validating (each fold holds a group of samples out), then "final model".
function stageOf(event) {
  return event.fold == null ? 'final model (all samples)' : `fold ${event.fold}/${event.folds}`;
}

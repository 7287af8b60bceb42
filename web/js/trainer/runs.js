// Training runs: start one from the form, follow its progress (train_progress events: every fold
// of the cross-validation, then the final model on all samples) and draw the current stage's
// curves; a finished run's model is registered by the server, so the model table is refreshed.
// The form's "Training" choice is how many models are trained and merged (the request's
// `ensemble`) with its epochs per model: Quick (1 x 60, with feature noise: training/train.py) by default, because a Teachable
// Machine-style trainer records, trains and tries again in a loop, and Best accuracy (3 x 120,
// `posecast train`'s default: yoga5 0.971 against 0.943, README Training) takes about 6x as long.
import { drawCurves } from './curves.js';

// "3 models merged x 120 epochs" for a run's params or a model's `training` ({ensemble, epochs}).
export function trainingText(training) {
  if (!training?.epochs) return '–';
  const n = training.ensemble ?? 1;
  return `${n === 1 ? '1 model' : `${n} models merged`} × ${training.epochs} epochs`;
}

// onDone(run): a finished run {id, params, metrics} (its validation and misclassified samples).
export function createRuns({ form, status, curves, store, api, onModel, onDone }) {
  const { features, ensemble, epochs, train } = form.elements;
  // A choice sets its epochs per model (still editable); merged models exist for keypoint kinds only.
  ensemble.addEventListener('change', () => { epochs.value = ensemble.selectedOptions[0].dataset.epochs; });
  features.addEventListener('change', () => {
    const single = features.value === 'tm';
    for (const option of ensemble.options) option.disabled = single && option.value !== '1';
    if (ensemble.selectedOptions[0].disabled) {
      ensemble.value = '1';
      ensemble.dispatchEvent(new Event('change'));
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!store.dataset) return;
    train.disabled = true;
    store.epochs = [];
    store.stages = [];
    drawCurves(curves, [], 1);
    try {
      const run = await api.train(store.dataset.id, {
        features: features.value, ensemble: Number(ensemble.value), epochs: Number(epochs.value),
      });
      store.run = { id: run.id, event: 'start', params: run.params };
      status.textContent = `Training (${trainingText(run.params)})…`;
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
      onDone({ id: event.run_id, params: store.run.params, metrics: { ...event.validation, mistakes: event.mistakes ?? [] } });
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

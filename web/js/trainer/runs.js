// Training runs: start one from the form, follow its progress (train_progress events: every fold
// of the cross-validation, then the final model on all samples) and draw the current stage's
// curves; a finished run's model is registered by the server, so the model table is refreshed.
// The form's "Training" choice is how many models are trained and merged (the request's
// `ensemble`) with its epochs per model: Quick (1 x 60, with feature noise: training/train.py) by default, because a Teachable
// Machine-style trainer records, trains and tries again in a loop, and Best accuracy (3 x 120,
// `posecast train`'s default: yoga5 0.971 against 0.943, README Training) takes about 6x as long.
// `world` features merge one model per view (core/features.py VIEWS), so their Quick is 3 models
// of a third of the epochs: on 150 samples of yoga5 0.930 against keypoints' 0.903, at 1.1-2.7x
// the time (README, The trainer page).
// Features default to `world` where it can be had, as `posecast train` chooses (core/features.py
// default_features): every sample keeps BlazePose's world landmarks; `keypoints` otherwise.
import { drawCurves } from './curves.js';

const WORLD = 'world';
const CHOICES = Object.freeze({
  quick: { ensemble: 1, epochs: 60, [WORLD]: { ensemble: 3, epochs: 20 } },
  best: { ensemble: 3, epochs: 120 },
});

// The {ensemble, epochs} a choice ('quick' | 'best') means for a feature kind.
export function choiceOf(choice, features) {
  const { ensemble, epochs, ...byKind } = CHOICES[choice];
  return byKind[features] ?? { ensemble, epochs };
}

// "3 models merged x 120 epochs" for a run's params or a model's `training` ({ensemble, epochs}).
export function trainingText(training) {
  if (!training?.epochs) return '–';
  const n = training.ensemble ?? 1;
  return `${n === 1 ? '1 model' : `${n} models merged`} × ${training.epochs} epochs`;
}

// The features a run defaults to, and why: world when every sample keeps BlazePose's world
// landmarks (an empty dataset: when this page's backbone gives them), keypoints otherwise.
// worldBackbone: whether the page's backbone gives world landmarks.
export function defaultFeatures(samples, worldBackbone) {
  const lacking = samples.filter((s) => !s.world).length;
  if (!samples.length && !worldBackbone) {
    return { features: 'keypoints', why: 'this backbone gives no 3-D landmarks (world features need BlazePose)' };
  }
  if (lacking) {
    return {
      features: 'keypoints',
      why: `${lacking} of ${samples.length} sample${samples.length === 1 ? '' : 's'} have no 3-D landmarks `
        + '(recorded with another backbone than BlazePose, or before they were kept), so world features cannot train',
    };
  }
  const why = samples.length ? "every sample keeps BlazePose's 3-D landmarks"
    : 'BlazePose keeps 3-D landmarks with every sample';
  return { features: WORLD, why: `${why}: world features (the most accurate)` };
}

// onDone(run): a finished run {id, params, metrics} (its validation and misclassified samples).
// worldBackbone: whether this page's backbone gives world landmarks (BlazePose).
export function createRuns({ form, status, note, curves, store, api, worldBackbone, onModel, onDone }) {
  const { features, ensemble, epochs, train } = form.elements;
  const worldOption = [...features.options].find((o) => o.value === WORLD);
  let chosen = false; // the trainer picked the features: suggest() no longer changes them
  const applyChoice = () => {
    epochs.value = String(choiceOf(ensemble.value, features.value).epochs);
  };
  // A choice sets its epochs per model (still editable); merged models exist for keypoint kinds only.
  ensemble.addEventListener('change', applyChoice);
  const featuresChanged = () => {
    const single = features.value === 'tm';
    for (const option of ensemble.options) option.disabled = single && option.value !== 'quick';
    if (ensemble.selectedOptions[0].disabled) ensemble.value = 'quick';
    applyChoice();
  };
  features.addEventListener('change', () => { chosen = true; featuresChanged(); });

  // The default features for the dataset's samples, and why (shown beside the form).
  function suggest() {
    const { features: kind, why } = defaultFeatures(store.samples, worldBackbone);
    worldOption.disabled = kind !== WORLD;
    note.textContent = `Features: ${why}.`;
    if (features.value !== kind && (!chosen || (features.value === WORLD && worldOption.disabled))) {
      features.value = kind;
      featuresChanged();
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!store.dataset) return;
    train.disabled = true;
    store.epochs = [];
    store.stages = [];
    drawCurves(curves, [], 1);
    try {
      const run = await api.train(store.dataset.id, {
        features: features.value, ensemble: choiceOf(ensemble.value, features.value).ensemble, epochs: Number(epochs.value),
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

  // Another dataset: a choice made for the last one no longer holds.
  function datasetChanged() {
    chosen = false;
    suggest();
  }

  return { showProgress, suggest, datasetChanged };
}

// "fold 2/5" while cross-validating (each fold holds a group of samples out), then "final model".
function stageOf(event) {
  return event.fold == null ? 'final model (all samples)' : `fold ${event.fold}/${event.folds}`;
}

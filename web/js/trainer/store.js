// The trainer page's state: one object made by the orchestrator and passed to every module, and
// the read-only view of it that tests and tools see as window.posecastTrainer.
export function createTrainerStore({ backbone }) {
  return {
    status: 'loading', backbone, dataset: null, classes: [], samples: [], recorded: 0, run: null, epochs: [],
    stages: [],
    lastPose: null,
  };
}

// explorer, report: what the explore view flagged ({kind: count}) and the run report shown.
export function trainerView(store, { explorer, report } = {}) {
  return Object.freeze({
    get explore() { return explorer?.summary() ?? null; },
    get report() { return report?.shown ? { id: report.shown.id, mistakes: report.shown.metrics.mistakes?.length ?? 0 } : null; },
    get status() { return store.status; },
    get backbone() { return store.backbone; }, // what this page records with
    get dataset() { return store.dataset && { ...store.dataset }; },
    get counts() { return Object.fromEntries(store.classes.map((c) => [c, store.samples.filter((s) => s.label === c).length])); },
    get recorded() { return store.recorded; },
    get run() { return store.run && { ...store.run }; },
    get epochs() { return store.epochs.length; }, // of the current (or last) stage
    get stages() { return [...store.stages]; }, // ['fold 1/5', ..., 'final model (all samples)']
  });
}

// The page's message line; an error also sets the page's status to 'error' until the next message.
export function createSay(message, store) {
  return (text, isError = false) => {
    message.textContent = text;
    message.hidden = !text;
    document.body.dataset.status = isError ? 'error' : store.status;
  };
}

// The live page's classifier: loads the one the server says is active, classifies tracked poses
// (at most one call in flight; frames that arrive meanwhile are not classified), puts the result
// in the state and streams it as label events.
import { reportToServer } from '../common/report.js';
import { loadClassifier } from './classifier.js';

// current() -> {detector, source, settings} of the page right now.
export function createClassifying({ state, stream, notify, requestRender, current }) {
  let classifier = null;
  let classifying = false;

  async function classify(poses) {
    if (!classifier || classifying) return;
    classifying = true;
    const active = classifier;
    try {
      const { detector, source } = current();
      // From the next frame on, the pose pass also makes the features a Teachable Machine model
      // needs: one PoseNet inference per frame instead of two.
      if (detector) detector.shareTmFeatures = active.spec.features === 'tm';
      const result = await active.classify(poses, detector, source.element);
      if (active === classifier) {
        state.set({ classification: result && Object.freeze(result) });
        if (result) sendLabel(result, active.spec, poses);
        requestRender(); // the labels beside the skeletons (a still image has no next frame to show them)
      }
    } catch (err) {
      notify('model', `The classifier failed: ${err.message}`);
    } finally {
      classifying = false;
    }
  }

  // Every classified frame gives one label event per person; the main pose also goes to dashboards.
  function sendLabel(result, spec, poses) {
    const { source, settings } = current();
    const fps = Math.round(state.view.fps * 10) / 10;
    for (const person of result.people) {
      stream.push({
        label: person.label, confidence: person.confidence, model: spec.name, model_version: spec.version,
        backbone: settings.backbone, person: Math.max(0, person.trackId ?? 0), fps,
      });
    }
    const pose = poses.find((p) => (p.id ?? null) === result.trackId) ?? poses[0];
    if (pose) stream.skeleton(pose, source.width, source.height);
  }

  function checkFits() {
    const spec = classifier?.spec;
    const { detector } = current();
    const misfit = spec?.features === 'tm' && detector && !detector.tmFeatures;
    notify('classifier', misfit ? `${spec.name} uses Teachable Machine features: choose the PoseNet backbone.` : '');
  }

  async function use(spec) {
    const { detector } = current();
    if (detector) detector.shareTmFeatures = false; // until a Teachable Machine model classifies
    const previous = classifier;
    classifier = null;
    previous?.dispose();
    state.set({ model: null, classification: null });
    if (!spec) return;
    try {
      classifier = await loadClassifier(spec);
      state.set({ model: Object.freeze({ ...spec }) });
      checkFits();
    } catch (err) {
      const message = `Could not load the classifier ${spec.name} v${spec.version} (${err.message}).`;
      notify('classifier', message);
      reportToServer('error', message, { backbone: current().settings.backbone });
    }
    requestRender();
  }

  return { classify, checkFits, use };
}

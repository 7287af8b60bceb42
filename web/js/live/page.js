// The live page's pipeline: backend, backbone, source and loop, each replaced on demand; results go
// through the tracker and smoother into the state. Changes are serialised so a quick succession
// of clicks never runs two loads at once.
import { BACKBONES } from '../common/backbones.js';
import { useBackend } from '../common/backend.js';
import { SourceError, openFile, openWebcam } from '../common/camera.js';
import { estimateOnce, startTrackLoop, startVideoLoop, trackLoopSupported } from '../common/loop.js';
import { createRenderer, framePicture } from '../common/renderer.js';
import { reportToServer } from '../common/report.js';
import { createSpans } from '../common/spans.js';
import { createClassifying } from './classify.js';
import { createSmoother } from './smoothing.js';
import { createTracker } from './tracker.js';
import { createFrameView } from './view.js';

// inference: live/inference.js, where the pose model runs.
export function createLivePage({ dom, settings: initial, state, stream, inference }) {
  let settings = initial;
  const renderer = createRenderer(dom.canvas);
  const tracker = createTracker();
  const smoother = createSmoother();
  let detector = null;
  let source = null;
  let loop = null;
  let loading = Promise.resolve();
  const notices = { backend: '', model: '', source: '', classifier: '', backbone: '' };
  const spans = createSpans(); // this thread's share of each frame (the detector's own: detector.spans)
  state.set({ timing: () => ({ ...detector?.spans?.snapshot(), ...spans.snapshot() }) });

  // The model, the backend and the source each have their own notice; the page shows them all.
  function notify(kind, text, patch = {}) {
    notices[kind] = text;
    state.set({ ...patch, message: Object.values(notices).filter(Boolean).join(' ') });
  }

  const frameView = createFrameView(state, renderer, dom,
    () => ({ threshold: settings.threshold, mirrored: settings.mirror && source?.kind === 'webcam' }), spans);
  const requestRender = frameView.request;
  const classifying = createClassifying({
    state, stream, notify, requestRender, current: () => ({ detector, source, settings }),
  });

  const onResult = (poses, info) => spans.time('handle', () => handle(poses, info));
  function handle(poses, info) {
    let tracked = tracker.assign(poses, performance.now());
    if (!detector.smoothed && source.kind !== 'image') {
      tracked = smoother.apply(tracked, info.frame.mediaTime, Math.max(source.width, source.height));
    }
    state.record(tracked, { ...info, inferences: detector.inferences ?? 0 });
    classifying.classify(tracked);
    frameView.show(info.picture ?? null);
  }

  function onError(err) {
    frameView.show(null); // the live video again, not the last estimated frame frozen
    const message = `Pose estimation stopped: ${err.message ?? err}`;
    notify('model', message, { status: 'error' });
    reportToServer('error', message, { backbone: settings.backbone, backend: settings.backend });
  }

  // The video shows again until the next loop's first result is drawn.
  function stopLoop() {
    loop?.stop();
    loop = null;
    frameView.show(null);
  }

  function restartLoop() {
    stopLoop();
    state.resetStats();
    tracker.reset();
    smoother.reset();
    detector?.reset();
    if (!detector || !source) { requestRender(); return; }
    const hooks = { estimate: (el, picture) => detector.estimate(el, picture), onResult, onError };
    const capture = captureOf(source);
    state.set({ capture });
    if (capture === 'track') {
      loop = startTrackLoop(source.track, { origin: source.origin, watch: detector.watch, onResult, onError,
        canvas: settings.pixels === 'canvas' });
    } else {
      loop = source.kind === 'image' ? estimateOnce(source.element, hooks)
        : startVideoLoop(source.element, { ...hooks, depth: settings.inflight ?? detector.depth ?? 1,
          keep: settings.display === 'frame' ? framePicture : null });
    }
  }

  // How the loop takes the source's frames: 'track', a camera's straight to the pose worker (no
  // <video> in the path; loop.js startTrackLoop) where the browser, the worker and the address allow
  // it; otherwise 'video', off the <video> on this thread; 'image', a still.
  function captureOf(src) {
    if (src.kind === 'image') return 'image';
    const track = settings.capture === 'track' && settings.display === 'frame' && src.origin != null
      && typeof detector.watch === 'function' && trackLoopSupported();
    return track ? 'track' : 'video';
  }

  async function setBackbone(name) {
    stopLoop();
    state.resetStats();
    detector?.dispose();
    detector = null;
    const spec = BACKBONES[name];
    const multi = spec.multi === 'always' || (spec.multi === 'optional' && settings.multi);
    dom.form.elements.multi.disabled = spec.multi !== 'optional';
    notify('model', `Loading ${spec.label}…`, { status: 'loading', backbone: name });
    try {
      const loaded = await inference.load(name, { multi });
      detector = loaded.detector;
      state.set({ thread: loaded.thread });
    } catch (err) {
      const message = `Could not load the ${spec.label} model (${err.message ?? err}). Choose another backbone or reload the page.`;
      notify('model', message, { status: 'error' });
      reportToServer('error', message, { backbone: name, backend: settings.backend });
      return;
    }
    notify('model', '', { status: 'ready' });
    classifying.checkFits();
    restartLoop();
  }

  // A model learns one backbone's keypoints (its `backbone`): the page switches to it and says so,
  // unless the address pinned a backbone; then it says what the model was trained on.
  async function followModel(spec) {
    const want = spec?.backbone;
    if (!BACKBONES[want] || want === settings.backbone) { notify('backbone', ''); return; }
    const name = `${spec.name} v${spec.version}`;
    if (settings.pinned) {
      notify('backbone', `${name} was trained on ${BACKBONES[want].label} keypoints; this page runs `
        + `${BACKBONES[settings.backbone].label} as its address asks, so labels may be less accurate.`);
      return;
    }
    settings = { ...settings, backbone: want };
    dom.form.elements.backbone.value = want;
    notify('backbone', `${name} runs on ${BACKBONES[want].label}: switching…`);
    await setBackbone(want);
    notify('backbone', `${name} runs on ${BACKBONES[want].label}: switched.`);
  }

  // The user picked a backbone by hand: say so if the model was trained on another one.
  function checkBackbone() {
    const spec = state.view.model;
    const misfit = spec && BACKBONES[spec.backbone] && spec.backbone !== settings.backbone;
    notify('backbone', misfit ? `${spec.name} v${spec.version} was trained on ${BACKBONES[spec.backbone].label} `
      + `keypoints: labels may be less accurate on ${BACKBONES[settings.backbone].label}.` : '');
  }

  async function setSource(open) {
    stopLoop();
    source?.stop();
    source = null;
    try {
      source = await open();
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      notify('source', err.message, { source: 'none', sourceName: '' });
      reportToServer('warning', err.message, { backbone: settings.backbone });
      restartLoop();
      return;
    }
    dom.stage.dataset.kind = source.kind;
    dom.stage.style.aspectRatio = `${source.width} / ${source.height}`;
    dom.stage.style.setProperty('--aspect', source.width / source.height);
    dom.stage.classList.toggle('mirrored', settings.mirror && source.kind === 'webcam');
    renderer.resize(source.width, source.height);
    notify('source', '', { source: source.kind, sourceName: source.name });
    restartLoop();
  }

  const serial = (fn) => (...args) => { loading = loading.then(() => fn(...args)); return loading; };

  return {
    // firstModel: a promise of the model the server announces on connect (or null), so the page
    // loads that model's backbone first instead of loading the default and then switching.
    start: serial(async (firstModel = null) => {
      try {
        state.set({ backend: await useBackend(settings.backend) });
      } catch (err) {
        notify('backend', `TensorFlow.js could not start: ${err.message}`, { status: 'error' });
        reportToServer('error', `backend ${settings.backend}: ${err.message}`, { backend: settings.backend });
        return;
      }
      const webcam = settings.source === 'webcam' ? setSource(() => openWebcam(dom.video)) : null;
      const spec = settings.pinned ? null : await firstModel;
      if (BACKBONES[spec?.backbone]) {
        settings = { ...settings, backbone: spec.backbone };
        dom.form.elements.backbone.value = spec.backbone;
      }
      await setBackbone(settings.backbone);
      await webcam;
    }),
    change: serial(async (key, value) => {
      settings = { ...settings, [key]: value };
      if (key === 'backbone' || key === 'multi') {
        await setBackbone(settings.backbone);
        checkBackbone(); // a hand-picked backbone stays until the next model is activated
      } else if (key === 'backend') window.location.reload();
      else if (key === 'mirror') dom.stage.classList.toggle('mirrored', value && source?.kind === 'webcam');
      requestRender();
    }),
    useWebcam: serial(() => setSource(() => openWebcam(dom.video))),
    useClassifier: serial(async (spec) => {
      await classifying.use(spec);
      await followModel(spec);
    }),
    useFile: serial((file) => setSource(() => openFile(file, { video: dom.video, image: dom.image }))),
  };
}

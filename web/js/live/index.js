// The live page: wires settings, backend, backbone, source, loop and renderer together.
import { BACKBONES, loadBackbone } from '../common/backbones.js';
import { useBackend } from '../common/backend.js';
import { SourceError, openFile, openWebcam } from '../common/camera.js';
import { bindControls, readSettings } from './controls.js';
import { estimateOnce, startVideoLoop } from '../common/loop.js';
import { createRenderer } from '../common/renderer.js';
import { reportToServer } from '../common/report.js';
import { loadClassifier } from './classifier.js';
import { LIVE_NAMESPACE, MODEL_ACTIVATED, MODEL_CLEARED } from '../common/contract.js';
import { io } from '/assets/lib/socket.io.esm.min.js';
import { createSmoother } from './smoothing.js';
import { createLabelStream } from './stream.js';
import { createState } from './state.js';
import { createTracker } from './tracker.js';

const dom = {
  body: document.body,
  form: document.querySelector('#controls'),
  stage: document.querySelector('#stage'),
  video: document.querySelector('#video'),
  image: document.querySelector('#still'),
  canvas: document.querySelector('#overlay'),
  message: document.querySelector('#message'),
  hud: document.querySelector('#hud'),
  file: document.querySelector('#file'),
  webcam: document.querySelector('#webcam'),
  classes: document.querySelector('#classes'),
  label: document.querySelector('#label'),
  bars: document.querySelector('#bars'),
  modelName: document.querySelector('#model-name'),
  clientName: document.querySelector('#client-name'),
  streamStatus: document.querySelector('#stream-status'),
};

function createLivePage(settings, streamReady) {
  const state = createState(showStatus);
  let stream = null;
  streamReady.then((s) => { stream = s; });
  const renderer = createRenderer(dom.canvas);
  const tracker = createTracker();
  const smoother = createSmoother();
  let detector = null;
  let source = null;
  let loop = null;
  let frameRequested = false;
  let classifier = null;
  let classifying = false;
  let loading = Promise.resolve();
  const notices = { backend: '', model: '', source: '', classifier: '' };

  // The model, the backend and the source each have their own notice; the page shows them all.
  function notify(kind, text, patch = {}) {
    notices[kind] = text;
    state.set({ ...patch, message: Object.values(notices).filter(Boolean).join(' ') });
  }

  function showStatus(view) {
    dom.body.dataset.status = view.status;
    dom.body.dataset.source = view.source;
    dom.message.textContent = view.message;
    dom.message.hidden = !view.message;
  }

  function render() {
    frameRequested = false;
    const view = state.view;
    renderer.draw(view.poses, { threshold: settings.threshold, mirrored: settings.mirror && source?.kind === 'webcam' });
    renderClasses(view);
    dom.hud.textContent = `${view.fps.toFixed(1)} fps · model ${view.latencyMs.toFixed(1)} ms · `
      + `${view.poses.length} ${view.poses.length === 1 ? 'person' : 'people'} · ${view.backbone} · ${view.backend}`;
  }

  // Labels come from model files: always set as text, never as HTML.
  function renderClasses(view) {
    dom.classes.hidden = !view.model;
    if (!view.model) return;
    dom.modelName.textContent = `${view.model.name} v${view.model.version} · ${view.model.features}`;
    const result = view.classification;
    dom.label.textContent = result ? `${result.label} ${(100 * result.confidence).toFixed(0)} %` : '–';
    if (dom.bars.children.length !== view.model.labels.length) {
      dom.bars.replaceChildren(...view.model.labels.map(() => {
        const li = document.createElement('li');
        li.append(document.createElement('span'), document.createElement('b'));
        return li;
      }));
    }
    view.model.labels.forEach((label, i) => {
      const p = result?.scores[i]?.p ?? 0;
      const [name, bar] = dom.bars.children[i].children;
      name.textContent = label;
      bar.style.width = `${(100 * p).toFixed(1)}%`;
    });
  }

  const requestRender = () => {
    if (!frameRequested) { frameRequested = true; requestAnimationFrame(render); }
  };

  function onResult(poses, info) {
    let tracked = tracker.assign(poses, performance.now());
    if (!detector.smoothed && source.kind !== 'image') {
      tracked = smoother.apply(tracked, info.frame.mediaTime, Math.max(source.width, source.height));
    }
    state.record(tracked, info);
    classify(tracked);
    requestRender();
  }

  // At most one classification in flight; frames that arrive meanwhile are not classified.
  async function classify(poses) {
    if (!classifier || classifying) return;
    classifying = true;
    const current = classifier;
    try {
      const result = await current.classify(poses, detector, source.element);
      if (current === classifier) {
        state.set({ classification: result && Object.freeze(result) });
        if (result) sendLabel(result, current.spec, poses);
      }
    } catch (err) {
      notify('model', `The classifier failed: ${err.message}`);
    } finally {
      classifying = false;
    }
  }

  // Every classified frame gives one label event per person; the main pose also goes to dashboards.
  function sendLabel(result, spec, poses) {
    if (!stream) return;
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

  function checkClassifierFits() {
    const spec = classifier?.spec;
    const misfit = spec?.features === 'tm' && detector && !detector.tmFeatures;
    notify('classifier', misfit ? `${spec.name} uses Teachable Machine features: choose the PoseNet backbone.` : '');
  }

  async function setClassifier(spec) {
    const previous = classifier;
    classifier = null;
    previous?.dispose();
    state.set({ model: null, classification: null });
    if (!spec) return;
    try {
      classifier = await loadClassifier(spec);
      state.set({ model: Object.freeze({ ...spec }) });
      checkClassifierFits();
    } catch (err) {
      const message = `Could not load the classifier ${spec.name} v${spec.version} (${err.message}).`;
      notify('classifier', message);
      reportToServer('error', message, { backbone: settings.backbone });
    }
    requestRender();
  }

  function onError(err) {
    const message = `Pose estimation stopped: ${err.message ?? err}`;
    notify('model', message, { status: 'error' });
    reportToServer('error', message, { backbone: settings.backbone, backend: settings.backend });
  }

  function restartLoop() {
    loop?.stop();
    loop = null;
    state.resetStats();
    tracker.reset();
    smoother.reset();
    detector?.reset();
    if (!detector || !source) { requestRender(); return; }
    const hooks = { estimate: (el) => detector.estimate(el), onResult, onError };
    loop = source.kind === 'image' ? estimateOnce(source.element, hooks) : startVideoLoop(source.element, hooks);
  }

  async function setBackbone(name) {
    loop?.stop();
    state.resetStats();
    detector?.dispose();
    detector = null;
    const spec = BACKBONES[name];
    const multi = spec.multi === 'always' || (spec.multi === 'optional' && settings.multi);
    dom.form.elements.multi.disabled = spec.multi !== 'optional';
    notify('model', `Loading ${spec.label}…`, { status: 'loading', backbone: name });
    try {
      detector = await loadBackbone(name, { multi });
    } catch (err) {
      const message = `Could not load the ${spec.label} model (${err.message ?? err}). Choose another backbone or reload the page.`;
      notify('model', message, { status: 'error' });
      reportToServer('error', message, { backbone: name, backend: settings.backend });
      return;
    }
    notify('model', '', { status: 'ready' });
    checkClassifierFits();
    restartLoop();
  }

  async function setSource(open) {
    loop?.stop();
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

  // Changes are serialised so a quick succession of clicks never runs two loads at once.
  const serial = (fn) => (...args) => { loading = loading.then(() => fn(...args)); return loading; };

  return {
    start: serial(async () => {
      window.posecast = state.view;
      try {
        state.set({ backend: await useBackend(settings.backend) });
      } catch (err) {
        notify('backend', `TensorFlow.js could not start: ${err.message}`, { status: 'error' });
        reportToServer('error', `backend ${settings.backend}: ${err.message}`, { backend: settings.backend });
        return;
      }
      const webcam = settings.source === 'webcam' ? setSource(() => openWebcam(dom.video)) : null;
      await setBackbone(settings.backbone);
      await webcam;
    }),
    change: serial(async (key, value) => {
      settings = { ...settings, [key]: value };
      if (key === 'backbone' || key === 'multi') await setBackbone(settings.backbone);
      else if (key === 'backend') window.location.reload();
      else if (key === 'mirror') dom.stage.classList.toggle('mirrored', value && source?.kind === 'webcam');
      requestRender();
    }),
    useWebcam: serial(() => setSource(() => openWebcam(dom.video))),
    streamChanged: (status) => state.set({ stream: status }),
    useClassifier: serial((spec) => setClassifier(spec)),
    useFile: serial((file) => setSource(() => openFile(file, { video: dom.video, image: dom.image }))),
  };
}

function showStream(status) {
  const text = status.connected ? `streaming · ${status.buffered} queued` : `offline · ${status.buffered} queued`;
  dom.streamStatus.textContent = status.lastError ? `${text} · ${status.lastError}` : text;
  dom.streamStatus.dataset.connected = String(status.connected);
}

const settings = readSettings();
let page = null;
const streamReady = createLabelStream(io, { onChange: (status) => { showStream(status); page?.streamChanged(status); } });
page = createLivePage(settings, streamReady);
streamReady.then((stream) => {
  dom.clientName.value = stream.status().name ?? '';
  dom.clientName.addEventListener('change', () => stream.setName(dom.clientName.value.trim()));
});
bindControls(dom.form, settings, (key, value) => page.change(key, value));
dom.file.addEventListener('change', () => { if (dom.file.files[0]) page.useFile(dom.file.files[0]); });
dom.webcam.addEventListener('click', () => page.useWebcam());
page.start();

// The server says which classifier is active on connect and whenever it changes.
const socket = io(LIVE_NAMESPACE, { transports: ['websocket'] });
socket.on(MODEL_ACTIVATED, (spec) => page.useClassifier(spec));
socket.on(MODEL_CLEARED, () => page.useClassifier(null));

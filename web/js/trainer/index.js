// The trainer page: pick or create a dataset, record samples per class from the webcam (hold to
// record after a countdown, as Teachable Machine does), train, and watch the curves.
import { loadBackbone } from '../common/backbones.js';
import { useBackend } from '../common/backend.js';
import { openWebcam } from '../common/camera.js';
import { drawCurves } from './curves.js';
import { startVideoLoop } from '../common/loop.js';
import { createRenderer } from '../common/renderer.js';
import { mostConfident } from '../common/skeleton.js';
import * as api from './api.js';
import { showUser } from '../common/session.js';
import { io } from '/assets/lib/socket.io.esm.min.js';

const COUNTDOWN_MS = 2000;
const SAMPLE_EVERY_MS = 200;
const $ = (selector) => document.querySelector(selector);

const dom = {
  message: $('#message'), video: $('#video'), stage: $('#stage'), hud: $('#hud'),
  datasetForm: $('#dataset-form'), classList: $('#class-list'), classForm: $('#class-form'),
  trainForm: $('#train-form'), trainStatus: $('#train-status'), curves: $('#curves'),
  card: $('#class-card'),
};

const store = {
  status: 'loading', backbone: new URLSearchParams(location.search).get('backbone') ?? 'posenet',
  dataset: null, classes: [], samples: [], recorded: 0, run: null, epochs: [], lastPose: null,
};
window.posecastTrainer = Object.freeze({
  get status() { return store.status; },
  get dataset() { return store.dataset && { ...store.dataset }; },
  get counts() { return Object.fromEntries(store.classes.map((c) => [c, store.samples.filter((s) => s.label === c).length])); },
  get recorded() { return store.recorded; },
  get run() { return store.run && { ...store.run }; },
  get epochs() { return store.epochs.length; },
});

function say(text, isError = false) {
  dom.message.textContent = text;
  dom.message.hidden = !text;
  document.body.dataset.status = isError ? 'error' : store.status;
}

let detector = null;

async function startCamera() {
  await useBackend('wasm');
  detector = await loadBackbone(store.backbone);
  const renderer = createRenderer($('#overlay'));
  try {
    const source = await openWebcam(dom.video);
    dom.stage.dataset.kind = 'webcam';
    dom.stage.style.aspectRatio = `${source.width} / ${source.height}`;
    dom.stage.style.setProperty('--aspect', source.width / source.height);
    renderer.resize(source.width, source.height);
    startVideoLoop(dom.video, {
      estimate: (el) => detector.estimate(el),
      onResult: (poses) => {
        store.lastPose = mostConfident(poses);
        renderer.draw(poses, { threshold: 0.3, mirrored: false });
        dom.hud.textContent = store.lastPose ? `person seen · ${store.backbone}` : `no person · ${store.backbone}`;
      },
      onError: (err) => say(`Pose estimation stopped: ${err.message}`, true),
    });
  } catch (err) {
    say(err.message, true);
  }
}

// --- datasets and classes -------------------------------------------------------------------

async function refreshDatasets(selectId) {
  const select = dom.datasetForm.elements.dataset;
  const all = await api.listDatasets();
  select.replaceChildren(...all.map((d) => new Option(d.name, d.id)));
  if (selectId ?? all[0]?.id) select.value = selectId ?? all[0].id;
  if (select.value) await loadDataset(Number(select.value));
}

async function loadDataset(id) {
  const ds = await api.getDataset(id);
  store.dataset = { id: ds.id, name: ds.name };
  store.samples = ds.samples;
  store.classes = [...new Set([...store.classes, ...ds.samples.map((s) => s.label)])];
  renderClasses();
}

function renderClasses() {
  dom.classList.replaceChildren(...store.classes.map((label) => {
    const card = dom.card.content.firstElementChild.cloneNode(true);
    const mine = store.samples.filter((s) => s.label === label);
    card.dataset.label = label;
    card.querySelector('.label').textContent = label; // text, never HTML
    card.querySelector('.count').textContent = `${mine.length} sample${mine.length === 1 ? '' : 's'}`;
    bindRecord(card.querySelector('.record'), label);
    card.querySelector('.upload input').addEventListener('change', (e) => {
      const files = [...e.target.files];
      e.target.value = '';
      addFiles(label, files).catch((err) => say(err.message, true));
    });
    card.querySelector('.thumbs').replaceChildren(...mine.slice(-40).map(thumbnail));
    return card;
  }));
}

function thumbnail(sample) {
  const figure = document.createElement('figure');
  const img = document.createElement('img');
  img.alt = sample.label;
  if (sample.thumbnail) img.src = sample.thumbnail;
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = '×';
  remove.title = 'Delete this sample';
  remove.addEventListener('click', async () => {
    await api.deleteSample(sample.id).catch((err) => say(err.message, true));
    store.samples = store.samples.filter((s) => s.id !== sample.id);
    renderClasses();
  });
  // Move the sample to another class.
  const move = document.createElement('select');
  move.title = 'Class of this sample';
  move.append(...store.classes.map((c) => new Option(c, c)));
  move.value = sample.label;
  move.addEventListener('change', async () => {
    try {
      await api.relabelSample(sample.id, move.value);
      sample.label = move.value;
    } catch (err) { say(err.message, true); }
    renderClasses();
  });
  figure.append(img, remove, move);
  return figure;
}

// --- recording -------------------------------------------------------------------------------

const sizeOf = (el) => [el.videoWidth || el.naturalWidth, el.videoHeight || el.naturalHeight];

function thumbnailOf(element) {
  const [w, h] = sizeOf(element);
  const canvas = document.createElement('canvas');
  const scale = 96 / Math.max(w, h);
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  canvas.getContext('2d').drawImage(element, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.7);
}

// Stores one sample of `pose` as seen in `element` (the webcam video, an image or a video frame).
async function storeSample(label, pose, element, using) {
  const [width, height] = sizeOf(element);
  const sample = {
    label, backbone: store.backbone, width, height,
    keypoints: pose.keypoints.map(({ name, x, y, score }) => ({ name, x, y, score })),
    thumbnail: thumbnailOf(element),
  };
  if (using.tmFeatures) sample.tm = api.float32ToBase64(await using.tmFeatures(element));
  const saved = await api.addSample(store.dataset.id, sample);
  store.samples.push({ id: saved.id, label, thumbnail: `/api/samples/${saved.id}/thumbnail` });
  store.recorded += 1;
}

async function captureSample(label) {
  if (store.lastPose && store.dataset) await storeSample(label, store.lastPose, dom.video, detector);
}

// --- uploads per class: images, or a short video sampled every 200 ms ---------------------------

let uploadDetector = null; // its own instance: the webcam loop's keeps per-frame state

async function addFiles(label, files) {
  if (!store.dataset) throw new Error('Create or choose a dataset first.');
  uploadDetector ??= await loadBackbone(store.backbone);
  let added = 0; let skipped = 0;
  for (const file of files) {
    const url = URL.createObjectURL(file);
    try {
      if (file.type.startsWith('image/')) {
        const img = new Image();
        img.src = url;
        await img.decode();
        img.width = img.naturalWidth; img.height = img.naturalHeight;
        uploadDetector.reset();
        const pose = mostConfident(await uploadDetector.estimate(img));
        if (pose) { await storeSample(label, pose, img, uploadDetector); added += 1; } else skipped += 1;
      } else if (file.type.startsWith('video/')) {
        [added, skipped] = (await addVideoFrames(label, url)).map((n, i) => n + [added, skipped][i]);
      } else skipped += 1;
    } finally {
      URL.revokeObjectURL(url);
    }
    say(`${file.name}: ${added} sample(s) added${skipped ? `, ${skipped} without a person skipped` : ''}`);
  }
  renderClasses();
}

async function addVideoFrames(label, url, everySeconds = 0.2, maxFrames = 60) {
  const video = document.createElement('video');
  video.muted = true;
  video.src = url;
  await new Promise((resolve, reject) => { video.onloadeddata = resolve; video.onerror = () => reject(new Error('the video cannot be played')); });
  video.width = video.videoWidth; video.height = video.videoHeight;
  uploadDetector.reset();
  let added = 0; let skipped = 0;
  for (let t = 0, n = 0; t < video.duration && n < maxFrames; t += everySeconds, n += 1) {
    video.currentTime = t;
    await new Promise((resolve) => { video.onseeked = resolve; });
    const pose = mostConfident(await uploadDetector.estimate(video));
    if (pose) { await storeSample(label, pose, video, uploadDetector); added += 1; } else skipped += 1;
  }
  return [added, skipped];
}

function bindRecord(button, label) {
  let timer = null;
  let recording = false;
  const stop = () => {
    clearTimeout(timer);
    if (!recording && !button.classList.contains('counting')) return;
    recording = false;
    button.classList.remove('counting', 'recording');
    button.textContent = 'Hold to record';
    renderClasses();
  };
  button.addEventListener('pointerdown', (event) => {
    if (!store.dataset) { say('Create or choose a dataset first.', true); return; }
    button.setPointerCapture?.(event.pointerId);
    button.classList.add('counting');
    const started = performance.now();
    const tick = async () => {
      const left = COUNTDOWN_MS - (performance.now() - started);
      if (left > 0) {
        button.textContent = `Recording in ${Math.ceil(left / 1000)}…`;
        timer = setTimeout(tick, Math.min(left, 250));
        return;
      }
      if (!recording) {
        recording = true;
        button.classList.replace('counting', 'recording');
      }
      button.textContent = 'Recording… release to stop';
      try {
        await captureSample(label);
      } catch (err) {
        say(`A sample was refused: ${err.message}`, true);
      }
      if (recording) timer = setTimeout(tick, SAMPLE_EVERY_MS);
    };
    tick();
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) button.addEventListener(type, stop);
}

// --- training --------------------------------------------------------------------------------

function showProgress(event) {
  if (!store.run || event.run_id !== store.run.id) return;
  store.run = { ...store.run, event: event.event };
  if (event.event === 'epoch') {
    store.epochs.push(event);
    dom.trainStatus.textContent = `epoch ${event.epoch}/${event.epochs} · loss ${event.loss.toFixed(3)} · `
      + `val acc ${(event.val_accuracy ?? 0).toFixed(2)}`;
    drawCurves(dom.curves, store.epochs, event.epochs);
  } else if (event.event === 'done') {
    dom.trainStatus.textContent = `Done: validation accuracy ${(100 * event.validation.accuracy).toFixed(0)} %. `
      + 'The new model is now active in every open live page.';
    dom.trainForm.elements.train.disabled = false;
    setTimeout(() => refreshModels().catch(() => {}), 500); // the server registers it right after
  } else if (event.event === 'error') {
    dom.trainStatus.textContent = `Training failed: ${event.message}`;
    dom.trainForm.elements.train.disabled = false;
  }
}

dom.trainForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!store.dataset) return;
  const { features, epochs, train } = dom.trainForm.elements;
  train.disabled = true;
  store.epochs = [];
  drawCurves(dom.curves, [], 1);
  try {
    const run = await api.train(store.dataset.id, { features: features.value, epochs: Number(epochs.value) });
    store.run = { id: run.id, event: 'start' };
    dom.trainStatus.textContent = 'Training…';
  } catch (err) {
    dom.trainStatus.textContent = err.message;
    train.disabled = false;
  }
});

dom.datasetForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const ds = await api.createDataset(dom.datasetForm.elements.name.value.trim());
    dom.datasetForm.elements.name.value = '';
    store.classes = [];
    await refreshDatasets(ds.id);
    say('');
  } catch (err) { say(err.message, true); }
});
dom.datasetForm.elements.dataset.addEventListener('change', (e) => {
  store.classes = [];
  loadDataset(Number(e.target.value)).catch((err) => say(err.message, true));
});

dom.classForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const label = dom.classForm.elements.label.value.trim();
  if (label && !store.classes.includes(label)) store.classes.push(label);
  dom.classForm.elements.label.value = '';
  renderClasses();
});

// --- the model registry ------------------------------------------------------------------------

function button(text, onClick, disabled = false) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.disabled = disabled;
  b.addEventListener('click', () => onClick().then(refreshModels).catch((err) => say(err.message, true)));
  return b;
}

async function refreshModels() {
  const models = await api.listModels();
  $('#model-rows').replaceChildren(...models.map((m) => {
    const row = document.createElement('tr');
    row.dataset.model = `${m.name}/${m.version}`;
    const accuracy = m.metrics?.accuracy;
    for (const text of [`${m.name} v${m.version}${m.active ? ' (active)' : ''}`, m.features, m.labels.join(', '),
      accuracy == null ? '–' : `${(100 * accuracy).toFixed(0)} %`]) {
      const cell = document.createElement('td');
      cell.textContent = text; // names and labels are text, never HTML
      row.append(cell);
    }
    const actions = document.createElement('td');
    actions.append(button('Activate', () => api.activateModel(m.id), m.active),
      button('Delete', () => api.deleteModel(m.id), m.active));
    row.append(actions);
    return row;
  }));
}
$('#rollback').addEventListener('click', () => api.rollbackModel().then(refreshModels).catch((err) => say(err.message, true)));

// Zip uploads are checked and imported on the server; progress comes back over Socket.IO.
let pendingImport = null;
$('#zip').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file || !store.dataset) return;
  say(`Uploading ${file.name}…`);
  try {
    const reply = await api.importZip(store.dataset.id, file);
    pendingImport = reply.import_id;
    say(`Importing ${reply.images} images…`);
  } catch (err) { say(`The zip was refused: ${err.message}`, true); }
});

function showImport(event) {
  if (event.import_id !== pendingImport) return;
  if (event.event === 'progress') say(`Importing: ${event.done} / ${event.total} images`);
  else if (event.event === 'done') {
    say(`Imported ${event.added} samples.`);
    loadDataset(store.dataset.id);
  } else say(`The import failed, nothing was stored: ${event.message}`, true);
}

showUser(document.querySelector('#user'));
const trainerSocket = io('/trainer', { transports: ['websocket'] });
trainerSocket.on('train_progress', showProgress);
trainerSocket.on('import_progress', showImport);
await refreshDatasets().catch((err) => say(err.message, true));
await refreshModels().catch((err) => say(err.message, true));
await startCamera().catch((err) => say(`Could not start: ${err.message}`, true));
store.status = 'ready';
document.body.dataset.status = 'ready';

// Settings live in the URL query (so a reload, a bookmark or a test can choose them) and in the
// form controls; this module keeps the two in step.
import { BACKBONES, DEFAULT_BACKBONE } from '../common/backbones.js';
import { BACKENDS } from '../common/backend.js';

const DEFAULTS = Object.freeze({ backbone: DEFAULT_BACKBONE, backend: 'wasm', threshold: 0.3, mirror: true, multi: false, source: 'webcam', worker: true, display: 'frame', capture: 'track', pixels: 'planes' });

export function readSettings(search = window.location.search) {
  const q = new URLSearchParams(search);
  const threshold = Number.parseFloat(q.get('threshold'));
  return {
    backbone: BACKBONES[q.get('backbone')] ? q.get('backbone') : DEFAULTS.backbone,
    // An address that names the backbone (a bookmark, a test, a benchmark) keeps it; otherwise the
    // page runs the backbone the active model was trained on (page.js followModel).
    pinned: Boolean(BACKBONES[q.get('backbone')]),
    backend: BACKENDS.includes(q.get('backend')) ? q.get('backend') : DEFAULTS.backend,
    threshold: threshold >= 0 && threshold <= 1 ? threshold : DEFAULTS.threshold,
    mirror: q.has('mirror') ? q.get('mirror') !== '0' : DEFAULTS.mirror,
    multi: q.has('multi') ? q.get('multi') !== '0' : DEFAULTS.multi,
    source: q.get('source') === 'none' ? 'none' : DEFAULTS.source,
    // worker=0 runs the pose model on the page's thread (live/inference.js)
    worker: q.has('worker') ? q.get('worker') !== '0' : DEFAULTS.worker,
    // inflight=1 or 3 keeps that many frames in the worker instead of two (the bench compares them); null: the detector's
    inflight: ['1', '2', '3'].includes(q.get('inflight')) ? Number(q.get('inflight')) : null,
    // display=video shows the <video> under a transparent overlay instead of drawing each estimated
    // frame on the overlay (live/view.js; the bench compares them)
    display: q.get('display') === 'video' ? 'video' : DEFAULTS.display,
    // capture=video reads a webcam's frames off the <video> on the page's thread instead of sending
    // them from the camera's track straight to the pose worker (live/page.js captureOf; the bench
    // compares them)
    capture: ['track', 'video'].includes(q.get('capture')) ? q.get('capture') : DEFAULTS.capture,
    // pixels=canvas: a webcam's frames from its track are drawn on a canvas to be read instead of
    // read from their planes (common/frame-pixels.js; the bench compares them)
    pixels: q.get('pixels') === 'canvas' ? 'canvas' : DEFAULTS.pixels,
  };
}

function writeSettings(settings) {
  const q = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(settings)) {
    if (key === 'pinned') continue;
    q.set(key, typeof value === 'boolean' ? Number(value) : value);
  }
  window.history.replaceState(null, '', `?${q}`);
}

// Fills the form from settings and calls onChange(key, value) when the user changes something.
export function bindControls(form, settings, onChange) {
  const { backbone, backend, threshold, mirror, multi } = form.elements;
  for (const [id, spec] of Object.entries(BACKBONES)) backbone.add(new Option(spec.label, id));
  for (const id of BACKENDS) backend.add(new Option(id, id));
  backbone.value = settings.backbone;
  backend.value = settings.backend;
  threshold.value = settings.threshold;
  mirror.checked = settings.mirror;
  multi.checked = settings.multi;
  form.querySelector('output[for=threshold]').value = settings.threshold.toFixed(2);

  const emit = (key, value) => { writeSettings({ [key]: value }); onChange(key, value); };
  backbone.addEventListener('change', () => emit('backbone', backbone.value));
  backend.addEventListener('change', () => emit('backend', backend.value));
  mirror.addEventListener('change', () => emit('mirror', mirror.checked));
  multi.addEventListener('change', () => emit('multi', multi.checked));
  threshold.addEventListener('input', () => {
    form.querySelector('output[for=threshold]').value = Number(threshold.value).toFixed(2);
    emit('threshold', Number(threshold.value));
  });
  form.addEventListener('submit', (e) => e.preventDefault());
}

// The display name dashboards show for this page; an empty name clears it.
export function bindClientName(input, stream) {
  input.value = stream.status().name ?? '';
  input.addEventListener('change', () => stream.setName(input.value.trim()));
}

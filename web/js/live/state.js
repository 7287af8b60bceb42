// The page's state, owned here and changed only through set()/record(). window.posecast is a
// read-only view of it for tests, benchmarks and tools. Whatever shows it (status, message, stream
// status) subscribes; set() tells every subscriber, record() tells no one (frames are drawn once
// per animation frame instead).
const HISTORY = 300;
const FPS_WINDOW_MS = 1000;

const freezePose = (p) => Object.freeze({
  ...p, keypoints: Object.freeze(p.keypoints.map((k) => Object.freeze({ ...k }))),
});

export function createState() {
  const subscribers = [];
  const store = {
    status: 'loading', message: '', backbone: null, backend: null, thread: null, capture: null, source: 'none', sourceName: '',
    fps: 0, latencyMs: 0, estimates: 0, inferences: 0, firstPoseMs: null, poses: Object.freeze([]),
    frame: null, history: [], model: null, classification: null, stream: null, overlay: Object.freeze([]), shown: null,
    timing: () => null,
  };
  const stamps = [];

  const view = Object.freeze({
    get status() { return store.status; },
    get message() { return store.message; },
    get backbone() { return store.backbone; },
    get backend() { return store.backend; },
    // where the pose model runs: 'worker' (a Web Worker) or 'main' (the page's own thread)
    get thread() { return store.thread; },
    // how the loop takes frames: 'track' (a camera's, straight to the pose worker), 'video' (off
    // the <video> on the page's thread) or 'image' (live/page.js captureOf)
    get capture() { return store.capture; },
    get source() { return store.source; },
    // the picked file's name, or 'webcam'
    get sourceName() { return store.sourceName; },
    get fps() { return store.fps; },
    get latencyMs() { return store.latencyMs; },
    get estimates() { return store.estimates; },
    // the backbone's model runs (PoseNet with a Teachable Machine model: one per estimate)
    get inferences() { return store.inferences; },
    // ms from navigation start to the first frame with a person in it
    get firstPoseMs() { return store.firstPoseMs; },
    get poses() { return store.poses; },
    get frame() { return store.frame; },
    // the active classifier {id, name, version, features, labels, url} and its last output
    // {label, confidence, scores: [{label, p}], trackId, people: [{trackId, label, confidence}]}
    get model() { return store.model; },
    get classification() { return store.classification; },
    // the texts last drawn beside the skeletons: [{trackId, text, x, y}] (track id, label, confidence)
    get overlay() { return store.overlay; },
    // the frame the overlay shows under the skeletons {mediaTime, presentedFrames} (the one they
    // were estimated on), or null while the <video> itself shows (live/view.js)
    get shown() { return store.shown; },
    // the last results, oldest first: [{t, mediaTime, presentedFrames, poses}]
    get history() { return store.history.slice(); },
    // label streaming to the server: {clientId, name, connected, buffered, nextSeq, sent, acked,
    // duplicates, rejected, dropped, lastError}
    get stream() { return store.stream; },
    // where the time goes, cumulative since the backbone loaded (common/spans.js): {name: {ms, n}},
    // e.g. grab, worker idle / read / model, handle, draw
    get timing() { return store.timing(); },
  });

  return {
    view,
    set(patch) {
      Object.assign(store, patch);
      for (const fn of subscribers) fn(view);
    },
    // fn(view) now and after every set().
    subscribe(fn) {
      subscribers.push(fn);
      fn(view);
    },
    record(poses, { frame, latencyMs, inferences = 0 }) {
      const now = performance.now();
      const frozen = Object.freeze(poses.map(freezePose));
      stamps.push(now);
      while (stamps[0] < now - FPS_WINDOW_MS) stamps.shift();
      store.fps = stamps.length > 1 ? (1000 * (stamps.length - 1)) / (now - stamps[0]) : 0;
      store.latencyMs = store.estimates ? 0.9 * store.latencyMs + 0.1 * latencyMs : latencyMs;
      store.estimates += 1;
      store.inferences = inferences;
      store.poses = frozen;
      store.frame = Object.freeze({ mediaTime: frame.mediaTime, presentedFrames: frame.presentedFrames });
      if (store.firstPoseMs == null && frozen.length) store.firstPoseMs = now;
      store.history.push(Object.freeze({ t: now, ...store.frame, poses: frozen }));
      if (store.history.length > HISTORY) store.history.shift();
    },
    // What the renderer drew: the labels and the frame under them (or null); like record(), tells
    // no one (it changes every drawn frame).
    recordDrawn(labels, shown) {
      store.overlay = Object.freeze([...labels]);
      store.shown = shown;
    },
    resetStats() {
      stamps.length = 0;
      Object.assign(store, { fps: 0, latencyMs: 0, estimates: 0, poses: Object.freeze([]), frame: null, history: [], classification: null });
    },
  };
}

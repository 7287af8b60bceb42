// The page's side of the pose worker (pose-worker.js, pose-service.js). startPoseWorker() starts it
// and resolves once it is ready; its load() gives detectors of the same shape as backbones.js's
// (estimate, reset, dispose, inferences, and tmFeatures/shareTmFeatures for PoseNet), whose
// estimate() hands the frame over as an ImageBitmap (shrunk, transferred, not copied): the model
// runs on the worker's thread while this one captures, draws and streams, and reads the next frame.
import { FROM_WORKER, TO_WORKER } from './pose-messages.js';
import { createSpans } from './spans.js';

const WORKER_URL = '/js/common/pose-worker.js';
const START_TIMEOUT_MS = 60_000; // the libraries and wasm, cold, on a slow machine

// What the worker path needs; without it the page runs the models on its own thread.
export function workerSupported() {
  return typeof Worker === 'function' && typeof OffscreenCanvas === 'function'
    && typeof OffscreenCanvasRenderingContext2D === 'function' && typeof createImageBitmap === 'function';
}

// Resolves to {load(backbone, {multi}) -> detector, terminate()}; rejects if the worker cannot start.
export function startPoseWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    const pending = new Map(); // request id -> {resolve, reject}
    let lastId = 0;
    let ready = false;

    function failAll(message) {
      for (const p of pending.values()) p.reject(new Error(message));
      pending.clear();
    }
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new Error(`the pose worker did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);

    worker.onerror = (event) => {
      event.preventDefault();
      const message = `the pose worker failed: ${event.message || 'no detail'}`;
      clearTimeout(timer);
      if (!ready) { worker.terminate(); reject(new Error(message)); }
      failAll(message);
    };
    worker.onmessage = ({ data }) => {
      if (data.type === FROM_WORKER.READY) {
        ready = true;
        clearTimeout(timer);
        resolve(client);
        return;
      }
      const p = pending.get(data.id);
      if (!p) return;
      pending.delete(data.id);
      if (data.type === FROM_WORKER.REPLY) p.resolve(data.result);
      else p.reject(new Error(data.message));
    };

    function call(type, payload = {}, transfer = []) {
      return new Promise((res, rej) => {
        lastId += 1;
        pending.set(lastId, { resolve: res, reject: rej });
        worker.postMessage({ type, id: lastId, ...payload }, transfer);
      });
    }

    const client = Object.freeze({
      load: (backbone, options) => remoteDetector(call, backbone, options),
      terminate() { worker.terminate(); failAll('the pose worker was stopped'); },
    });
  });
}

// Video frames cross at most this long on their long side (320 x 240 for a 640 x 480 webcam):
// createImageBitmap scales them on this thread, so the worker reads and converts a third of a
// 576 x 576 frame's pixels (about 1.5 ms a frame instead of 10-13 ms, README "Performance"). The
// models look at 192-257 px anyway, and agreement with golden keypoints, frame by frame, stayed
// within a point or two of full size (README). A still image is estimated once and crosses whole.
export const FRAME_MAX_SIDE = 320;

// The scale a frame of width x height crosses at: its long side at most FRAME_MAX_SIDE.
export function frameScale(width, height) {
  return Math.min(1, FRAME_MAX_SIDE / Math.max(width, height));
}

// A frame of the source, read now: the bitmap, the factors back to the source's pixels, and the
// time pose-detection would read off a video (its keypoint filter needs it; a still image has
// none). The loop calls estimate() in the task that follows the frame's requestVideoFrameCallback,
// so the frame read is the one it records. Reading every presented frame there instead, to be
// exact also when the model is busy, made the loop slower at 60 fps (a bitmap per frame, most
// never estimated).
function grab(source) {
  if (!source.videoWidth) return createImageBitmap(source).then((frame) => ({ frame, scale: [1, 1] }));
  const timestampMs = source.currentTime * 1000;
  const k = frameScale(source.videoWidth, source.videoHeight);
  const size = k < 1
    ? { resizeWidth: Math.round(k * source.videoWidth), resizeHeight: Math.round(k * source.videoHeight), resizeQuality: 'low' }
    : {};
  return createImageBitmap(source, size).then((frame) => (
    { frame, timestampMs, scale: [source.videoWidth / frame.width, source.videoHeight / frame.height] }));
}

// The worker's poses, in the source's pixels.
function scaledBack(poses, [sx, sy]) {
  if (sx === 1 && sy === 1) return poses;
  return poses.map((p) => ({ ...p, keypoints: p.keypoints.map((k) => ({ ...k, x: k.x * sx, y: k.y * sy })) }));
}

async function remoteDetector(call, backbone, { multi = false } = {}) {
  const info = await call(TO_WORKER.LOAD, { backbone, multi });
  const quiet = (promise) => { promise.catch(() => {}); };
  let shared = null; // the last estimate's Teachable Machine features, when it made them
  // Requests reach the worker in the order they were made, also when a frame takes a while to
  // read: a reset never overtakes a frame of the old source.
  let posted = Promise.resolve();
  function inOrder(post) {
    const done = posted.then(post);
    posted = done.catch(() => {});
    return done;
  }
  // Posts the frame once it is read; resolves to {scale, reply} once it is posted.
  const handOver = (grabbed, post) => inOrder(() => grabbed.then(({ frame, scale, timestampMs }) => (
    { scale, reply: post(frame, timestampMs) })));
  const spans = createSpans();
  const detector = {
    multi: info.multi,
    smoothed: info.smoothed,
    inferences: 0,
    shareTmFeatures: false,
    // Frames the loop may hand over at once (common/loop.js): one estimating, the next waiting in
    // the worker. A still image, or a frame whose estimate fails, costs nothing more.
    depth: 2,
    // Per estimate (ms): grab (reading the frame here), then in the worker idle (waiting for it),
    // read (into a tensor) and model.
    spans,
    async estimate(source) {
      const { scale, reply } = await handOver(spans.time('grab', () => grab(source)), (frame, timestampMs) => call(
        TO_WORKER.ESTIMATE, { frame, timestampMs, shareTmFeatures: detector.shareTmFeatures }, [frame]));
      const out = await reply;
      for (const [name, ms] of Object.entries(out.spans)) spans.add(`worker ${name}`, ms);
      detector.inferences = out.inferences;
      shared = out.features;
      return scaledBack(out.poses, scale);
    },
    reset() { shared = null; inOrder(() => { quiet(call(TO_WORKER.RESET)); }); },
    dispose() { shared = null; inOrder(() => { quiet(call(TO_WORKER.DISPOSE)); }); },
    // bench/live_page.py: the model alone on this source's current frame, read as the loop reads
    // it, as a tensor, in the worker.
    async bareRate(source, seconds) {
      const { reply } = await handOver(grab(source), (frame) => call(TO_WORKER.BARE_RATE, { frame, seconds }, [frame]));
      return reply;
    },
  };
  if (info.tmFeatures) {
    detector.tmFeatures = async (source) => {
      if (shared) {
        const features = shared;
        shared = null;
        return features;
      }
      const { reply } = await handOver(grab(source), (frame) => call(TO_WORKER.FEATURES, { frame }, [frame]));
      const out = await reply;
      detector.inferences = out.inferences;
      return out.features;
    };
  }
  return detector;
}

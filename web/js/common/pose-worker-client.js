// The page's side of the pose worker (pose-worker.js, pose-service.js). startPoseWorker() starts it
// and resolves once it is ready; its load() gives detectors of the same shape as backbones.js's
// (estimate, reset, dispose, inferences, and tmFeatures/shareTmFeatures for PoseNet), whose
// estimate() hands the frame over as an ImageBitmap (transferred, not copied): the model runs on
// the worker's thread while this one captures, draws and streams.
import { FROM_WORKER, TO_WORKER } from './pose-messages.js';

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

// A frame of the source, read now: the bitmap, and the time pose-detection would read off a video
// (its keypoint filter needs it; a still image has none). The loop calls estimate() in the task
// that follows the frame's requestVideoFrameCallback when it was waiting for one, so the frame read
// is the one it records. Reading every presented frame there instead, to be exact also when the
// model is busy, made the loop slower at 60 fps (a bitmap per frame, most never estimated).
function grab(source) {
  const timestampMs = source.currentTime != null ? source.currentTime * 1000 : undefined;
  return createImageBitmap(source).then((frame) => ({ frame, timestampMs }));
}

async function remoteDetector(call, backbone, { multi = false } = {}) {
  const info = await call(TO_WORKER.LOAD, { backbone, multi });
  const quiet = (promise) => { promise.catch(() => {}); };
  let shared = null; // the last estimate's Teachable Machine features, when it made them
  const detector = {
    multi: info.multi,
    smoothed: info.smoothed,
    inferences: 0,
    shareTmFeatures: false,
    async estimate(source) {
      shared = null;
      const { frame, timestampMs } = await grab(source);
      const out = await call(TO_WORKER.ESTIMATE, { frame, timestampMs, shareTmFeatures: detector.shareTmFeatures }, [frame]);
      detector.inferences = out.inferences;
      shared = out.features;
      return out.poses;
    },
    reset() { shared = null; quiet(call(TO_WORKER.RESET)); },
    dispose() { shared = null; quiet(call(TO_WORKER.DISPOSE)); },
    // bench/live_page.py: the model alone on this source's current frame, as a tensor, in the worker.
    async bareRate(source, seconds) {
      const { frame } = await grab(source);
      return call(TO_WORKER.BARE_RATE, { frame, seconds }, [frame]);
    },
  };
  if (info.tmFeatures) {
    detector.tmFeatures = async (source) => {
      if (shared) {
        const features = shared;
        shared = null;
        return features;
      }
      const { frame } = await grab(source);
      const out = await call(TO_WORKER.FEATURES, { frame }, [frame]);
      detector.inferences = out.inferences;
      return out.features;
    };
  }
  return detector;
}

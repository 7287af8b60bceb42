// The page's side of the pose worker (pose-worker.js, pose-service.js). startPoseWorker() starts it
// and resolves once it is ready; its load() gives detectors of the same shape as backbones.js's
// (estimate, reset, dispose, inferences, and tmFeatures/shareTmFeatures for PoseNet), whose
// estimate() reads the frame here into pixels (common/frame-pixels.js: shrunk, transferred, not
// copied) and hands them over: the model runs on the worker's thread while this one reads the next
// frame, tracks, draws and streams.
import { createFrameReader } from './frame-pixels.js';
import { FROM_WORKER, TO_WORKER } from './pose-messages.js';
import { createSpans } from './spans.js';

const WORKER_URL = '/js/common/pose-worker.js';
const START_TIMEOUT_MS = 60_000; // the libraries and wasm, cold, on a slow machine

// What the worker path needs; without it the page runs the models on its own thread.
export function workerSupported() {
  return typeof Worker === 'function' && typeof OffscreenCanvas === 'function'
    && typeof OffscreenCanvasRenderingContext2D === 'function';
}

// Resolves to {load(backbone, {multi}) -> detector, terminate()}; rejects if the worker cannot start.
export function startPoseWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    const pending = new Map(); // request id -> {resolve, reject}
    const watches = new Map(); // WATCH request id -> fn(message) for each POSES message of that watch
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
      for (const fn of watches.values()) fn({ message });
    };
    worker.onmessage = ({ data }) => {
      if (data.type === FROM_WORKER.READY) {
        ready = true;
        clearTimeout(timer);
        resolve(client);
        return;
      }
      if (data.type === FROM_WORKER.POSES) {
        const fn = watches.get(data.id);
        if (fn) fn(data);
        else data.frame?.close(); // a result of a watch stopped meanwhile
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

    // A WATCH request (pose-messages.js): onMessage gets each of its POSES messages until the
    // returned stop() (which asks the worker to stop it).
    function watch(payload, transfer, onMessage) {
      lastId += 1;
      const id = lastId;
      watches.set(id, onMessage);
      worker.postMessage({ type: TO_WORKER.WATCH, id, ...payload }, transfer);
      return () => {
        if (!watches.delete(id)) return;
        call(TO_WORKER.UNWATCH, { watch: id }).catch(() => {});
      };
    }

    const client = Object.freeze({
      load: (backbone, options) => remoteDetector({ call, watch }, backbone, options),
      terminate() { worker.terminate(); failAll('the pose worker was stopped'); },
    });
  });
}

// The spans of a track's frame from its taking to its result (the worker's idle time and the
// frame's age are before it).
const LATENCY_SPANS = Object.freeze(['read', 'tensor', 'model']);

// The worker's poses, in the source's pixels.
function scaledBack(poses, [sx, sy]) {
  if (sx === 1 && sy === 1) return poses;
  return poses.map((p) => ({ ...p, keypoints: p.keypoints.map((k) => ({ ...k, x: k.x * sx, y: k.y * sy })) }));
}

async function remoteDetector({ call, watch }, backbone, { multi = false } = {}) {
  const info = await call(TO_WORKER.LOAD, { backbone, multi });
  const quiet = (promise) => { promise.catch(() => {}); };
  const read = createFrameReader();
  const spans = createSpans();
  // The source's current frame, read here and posted at once (so requests reach the worker in the
  // order they were made: a reset never overtakes a frame of the old source); its pixels' buffer
  // is transferred. Returns {scale, reply: the worker's answer (a promise)}.
  function handOver(source, type, payload = {}) {
    const { pixels, scale, timestampMs } = spans.time('read', () => read(source));
    return { scale, reply: call(type, { pixels, timestampMs, ...payload }, [pixels.data.buffer]) };
  }
  let shared = null; // the last estimate's Teachable Machine features, when it made them
  let sharing = false; // whether estimates also make them (a Teachable Machine model classifies)
  let watching = false; // a camera track is read in the worker (watch)
  const detector = {
    multi: info.multi,
    smoothed: info.smoothed,
    inferences: 0,
    // Set by live/classify.js. While the worker reads a camera track, told at once: learnt at the
    // next result instead, the frames already estimated had no features and classify.js asked
    // for a second PoseNet pass for each (test_tm_model.py counted two).
    get shareTmFeatures() { return sharing; },
    set shareTmFeatures(value) {
      if (value === sharing) return;
      sharing = value;
      if (watching) quiet(call(TO_WORKER.SHARE, { shareTmFeatures: value }));
    },
    // Frames the loop may hand over at once (common/loop.js): one estimating, the next waiting in
    // the worker. A still image, or a frame whose estimate fails, costs nothing more.
    depth: 2,
    // Per estimate (ms): read (the frame, here), then in the worker idle (waiting for it), tensor
    // (wrapping its pixels) and model.
    spans,
    // picture: the frame the loop took of the source (common/loop.js), read instead of the source
    // so the pixels are exactly the frame the page shows and records.
    async estimate(source, picture = null) {
      const { scale, reply } = handOver(picture ?? source, TO_WORKER.ESTIMATE, { shareTmFeatures: detector.shareTmFeatures });
      const out = await reply;
      for (const [name, ms] of Object.entries(out.spans)) spans.add(`worker ${name}`, ms);
      detector.inferences = out.inferences;
      shared = out.features;
      return scaledBack(out.poses, scale);
    },
    reset() { shared = null; quiet(call(TO_WORKER.RESET)); },
    dispose() { shared = null; quiet(call(TO_WORKER.DISPOSE)); },
    // bench/live_page.py: the model alone on this source's current frame, read as the loop reads
    // it, as a tensor, in the worker.
    bareRate: (source, seconds) => handOver(source, TO_WORKER.BARE_RATE, { seconds }).reply,
    // A camera's frames straight to the worker (loop.js startTrackLoop): readable, a
    // MediaStreamTrackProcessor's stream (transferred), is read there; onResult(poses, {picture:
    // the VideoFrame estimated (the callee owns it), index: its count on the stream, latencyMs})
    // for each estimate, onError(err) once if it fails; canvas: the frames drawn on a canvas to be
    // read rather than read from their planes. -> stop().
    watch(readable, { onResult, onError, canvas = false }) {
      watching = true;
      const stopWatch = watch({ readable, canvas, shareTmFeatures: sharing }, [readable], (data) => {
        if (data.message !== undefined) { stop(); onError(new Error(data.message)); return; }
        let latencyMs = 0; // from taking the frame to the result: its read in the worker, tensor, model
        for (const [name, ms] of Object.entries(data.spans)) {
          spans.add(`worker ${name}`, ms);
          if (LATENCY_SPANS.includes(name)) latencyMs += ms;
        }
        detector.inferences = data.inferences;
        shared = data.features;
        onResult(scaledBack(data.poses, data.scale), { picture: data.frame, index: data.index, latencyMs });
      });
      const stop = () => { watching = false; stopWatch(); };
      return stop;
    },
  };
  if (info.tmFeatures) {
    detector.tmFeatures = async (source) => {
      if (shared) {
        const features = shared;
        shared = null;
        return features;
      }
      const out = await handOver(source, TO_WORKER.FEATURES).reply;
      detector.inferences = out.inferences;
      return out.features;
    };
  }
  return detector;
}

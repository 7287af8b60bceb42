// Runs in the pose worker (pose-worker.js): one backbone of backbones.js on the wasm backend,
// estimating the frames the page sends (pose-worker-client.js). Requests are answered one at a
// time, in order, so a new backbone never loads while a frame is being estimated.
import { bareRate } from './bare-rate.js';
import { loadBackbone } from './backbones.js';
import { useBackend } from './backend.js';
import { readFrames, watchTrack } from './frame-pump.js';
import { FROM_WORKER, TO_WORKER } from './pose-messages.js';

// Frames arrive as int32 RGB pixels read on the page (common/frame-pixels.js); each is wrapped once
// in an int32 [h, w, 3] tensor that every step of the estimate shares (crop, model, Teachable
// Machine features).
async function using({ data, width, height }, fn) {
  const tensor = globalThis.tf.tensor3d(data, [height, width, 3], 'int32');
  try { return await fn(tensor); } finally { tensor.dispose(); }
}

export async function serve(scope) {
  await useBackend('wasm');
  let detector = null;
  let answeredAt = null; // when the last answer was posted: the worker idles from then to the next request
  const loaded = () => {
    if (!detector) throw new Error('no backbone is loaded');
    return detector;
  };

  // One estimate on a frame's pixels; with a Teachable Machine model the same PoseNet pass makes its
  // features (backbones.js).
  function estimateOn(pixels, { timestampMs, shareTmFeatures }) {
    const t0 = performance.now();
    return using(pixels, async (frame) => {
      const t1 = performance.now();
      const d = loaded();
      if (d.tmFeatures) d.shareTmFeatures = shareTmFeatures;
      const poses = await d.estimate(frame, { timestampMs });
      const features = d.tmFeatures && shareTmFeatures ? await d.tmFeatures(frame) : null;
      return { poses, inferences: d.inferences ?? 0, features, spans: { tensor: t1 - t0, model: performance.now() - t1 } };
    });
  }

  let queue = Promise.resolve();
  // fn after every request before it (a new backbone never loads mid-estimate); -> fn's result
  const enqueue = (fn) => {
    const job = queue.then(fn);
    queue = job.catch(() => {});
    return job;
  };

  let watching = null; // the camera track's frames being estimated (TO_WORKER.WATCH): {id, share, watch}

  const handlers = Object.freeze({
    async [TO_WORKER.LOAD]({ backbone, multi }) {
      detector?.dispose();
      detector = null;
      detector = await loadBackbone(backbone, { multi });
      return { multi: detector.multi, smoothed: detector.smoothed, tmFeatures: Boolean(detector.tmFeatures) };
    },
    [TO_WORKER.ESTIMATE]({ pixels, timestampMs, shareTmFeatures }) {
      const idle = answeredAt === null ? 0 : performance.now() - answeredAt;
      return estimateOn(pixels, { timestampMs, shareTmFeatures })
        .then((out) => ({ ...out, spans: { idle, ...out.spans } }));
    },
    [TO_WORKER.FEATURES]: ({ pixels }) => using(pixels, async (frame) => {
      const d = loaded();
      const features = await d.tmFeatures(frame);
      return { features, inferences: d.inferences };
    }),
    [TO_WORKER.WATCH]({ readable, canvas, shareTmFeatures }, id) {
      watching?.watch.stop();
      const current = { id, share: shareTmFeatures };
      current.watch = watchTrack(readFrames(readable, { canvas }), {
        // in the queue, so a new backbone never loads mid-estimate
        estimate: (pixels, timestampMs) => enqueue(() => (watching !== current ? null
          : estimateOn(pixels, { timestampMs, shareTmFeatures: current.share }))),
        onResult: (result, frame) => scope.postMessage({ type: FROM_WORKER.POSES, id, ...result, frame }, [frame]),
        onFailure(err) {
          if (watching === current) watching = null;
          scope.postMessage({ type: FROM_WORKER.POSES, id, message: err?.message ?? String(err) });
        },
      });
      watching = current;
      return null;
    },
    [TO_WORKER.SHARE]({ shareTmFeatures }) {
      if (watching) watching.share = shareTmFeatures;
      return null;
    },
    [TO_WORKER.UNWATCH]({ watch: id }) {
      if (watching?.id === id) { watching.watch.stop(); watching = null; }
      return null;
    },
    [TO_WORKER.RESET]() { detector?.reset(); return null; },
    [TO_WORKER.DISPOSE]() { detector?.dispose(); detector = null; return null; },
    [TO_WORKER.BARE_RATE]: ({ pixels, seconds }) => using(pixels, (frame) => bareRate(loaded(), frame, seconds)),
  });

  async function answer({ type, id, ...request }) {
    try {
      const handle = handlers[type];
      if (!handle) throw new Error(`unknown request "${type}"`);
      const result = await handle(request, id);
      answeredAt = performance.now();
      scope.postMessage({ type: FROM_WORKER.REPLY, id, result });
    } catch (err) {
      answeredAt = performance.now();
      scope.postMessage({ type: FROM_WORKER.FAILED, id, message: err?.message ?? String(err) });
    }
  }

  scope.onmessage = ({ data }) => { enqueue(() => answer(data)); };
  scope.postMessage({ type: FROM_WORKER.READY });
}

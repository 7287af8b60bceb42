// Runs in the pose worker (pose-worker.js): one backbone of backbones.js on the wasm backend,
// estimating the frames the page sends (pose-worker-client.js). Requests are answered one at a
// time, in order, so a new backbone never loads while a frame is being estimated.
import { bareRate } from './bare-rate.js';
import { loadBackbone } from './backbones.js';
import { useBackend } from './backend.js';
import { FROM_WORKER, TO_WORKER } from './pose-messages.js';

// Every frame that crosses is an ImageBitmap the worker owns: closed once used.
async function using(frame, fn) {
  try { return await fn(frame); } finally { frame.close(); }
}

export async function serve(scope) {
  await useBackend('wasm');
  let detector = null;
  const loaded = () => {
    if (!detector) throw new Error('no backbone is loaded');
    return detector;
  };

  const handlers = Object.freeze({
    async [TO_WORKER.LOAD]({ backbone, multi }) {
      detector?.dispose();
      detector = null;
      detector = await loadBackbone(backbone, { multi });
      return { multi: detector.multi, smoothed: detector.smoothed, tmFeatures: Boolean(detector.tmFeatures) };
    },
    [TO_WORKER.ESTIMATE]: ({ frame, timestampMs, shareTmFeatures }) => using(frame, async () => {
      const d = loaded();
      // With a Teachable Machine model, the same PoseNet pass makes its features (backbones.js).
      if (d.tmFeatures) d.shareTmFeatures = shareTmFeatures;
      const poses = await d.estimate(frame, { timestampMs });
      const features = d.tmFeatures && shareTmFeatures ? await d.tmFeatures(frame) : null;
      return { poses, inferences: d.inferences ?? 0, features };
    }),
    [TO_WORKER.FEATURES]: ({ frame }) => using(frame, async () => {
      const d = loaded();
      const features = await d.tmFeatures(frame);
      return { features, inferences: d.inferences };
    }),
    [TO_WORKER.RESET]() { detector?.reset(); return null; },
    [TO_WORKER.DISPOSE]() { detector?.dispose(); detector = null; return null; },
    [TO_WORKER.BARE_RATE]: ({ frame, seconds }) => using(frame, () => bareRate(loaded(), globalThis.tf, frame, seconds)),
  });

  async function answer({ type, id, ...request }) {
    try {
      const handle = handlers[type];
      if (!handle) throw new Error(`unknown request "${type}"`);
      scope.postMessage({ type: FROM_WORKER.REPLY, id, result: await handle(request) });
    } catch (err) {
      scope.postMessage({ type: FROM_WORKER.FAILED, id, message: err?.message ?? String(err) });
    }
  }

  let queue = Promise.resolve();
  scope.onmessage = ({ data }) => { queue = queue.then(() => answer(data)); };
  scope.postMessage({ type: FROM_WORKER.READY });
}

// Where the live page runs its pose model. In a Web Worker (common/pose-worker-client.js) when the
// browser has what that needs, the backend is wasm (the worker has no WebGL) and the address does
// not say ?worker=0; otherwise on this thread (common/backbones.js), which is also where it falls
// back if the worker cannot start. The worker starts at once, so it loads its libraries and wasm
// while the page loads its own.
import { loadBackbone } from '../common/backbones.js';
import { startPoseWorker, workerSupported } from '../common/pose-worker-client.js';
import { reportToServer } from '../common/report.js';

// settings: {worker, backend}.
export function createInference({ worker: wanted, backend }) {
  const refusal = !wanted ? 'the address asks for no worker (worker=0)'
    : backend !== 'wasm' ? `the ${backend} backend runs on the page's thread`
      : !workerSupported() ? 'this browser lacks Worker or OffscreenCanvas' : null;
  const worker = refusal ? Promise.resolve(null) : startPoseWorker().catch((err) => {
    reportToServer('warning', `pose inference falls back to the page's thread: ${err.message}`, { backend });
    return null;
  });

  return {
    // -> {detector, thread: 'worker' | 'main'}
    async load(name, options) {
      const client = await worker;
      if (client) return { detector: await client.load(name, options), thread: 'worker' };
      return { detector: await loadBackbone(name, options), thread: 'main' };
    },
  };
}

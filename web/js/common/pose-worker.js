// The pose worker's entry. A classic worker, not a module one: @tensorflow-models/posenet's UMD
// bundle attaches itself to `this`, which module scripts do not have. It loads TF.js core and
// converter, the wasm backend, posenet and pose-detection onto the worker's global (as the page's
// <script> tags do onto window), then the module that answers the page (pose-service.js).
importScripts(
  '/assets/lib/tf-core.es2017.min.js',
  '/assets/lib/tf-converter.es2017.min.js',
  '/assets/lib/tf-backend-wasm.es2017.min.js',
  '/assets/lib/posenet.min.js',
  '/assets/lib/pose-detection.min.js',
);

// A failure to start is thrown from a task of its own, so the page sees it as the worker's `error`
// event (a rejected promise would not reach the page) and falls back to its own thread.
import('./pose-service.js')
  .then((service) => service.serve(self))
  .catch((err) => setTimeout(() => { throw err; }));

// One TF.js per thread. On a page it is ml5's bundle (window.tf is set to ml5.tf by tf-global.js, so
// posenet and the wasm backend attach to the same instance); in the pose worker it is TF.js core and
// converter (common/pose-worker.js). wasm is the default: on CPU-only machines it beats WebGL, which
// falls back to a software rasteriser.
export const BACKENDS = Object.freeze(['wasm', 'webgl']);

export async function useBackend(name) {
  const tf = globalThis.tf;
  if (!BACKENDS.includes(name)) throw new Error(`unknown backend "${name}"`);
  if (name === 'wasm') tf.wasm.setWasmPaths('/assets/lib/');
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`the ${name} backend is not available in this browser`);
  await tf.ready();
  return tf.getBackend();
}

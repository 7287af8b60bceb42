// The bare model rate (bench/live_page.py): a detector's estimate() back to back on one prepared
// input tensor (a frame read once, owned by the caller): no capture, no video, no drawing.
export async function bareRate(detector, input, seconds, warmup = 5) {
  // A timestamp as a camera gives one, so temporal filters run as they do live.
  const run = () => detector.estimate(input, { timestampMs: performance.now() });
  for (let i = 0; i < warmup; i += 1) await run();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { await run(); n += 1; }
  return n / ((performance.now() - t0) / 1000);
}

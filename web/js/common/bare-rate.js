// The bare model rate (bench/live_page.py): a detector's estimate() back to back on one prepared
// input tensor (the frame read once): no capture, no video, no drawing. The same code measures it
// on a page's thread and in the pose worker.
export async function bareRate(detector, tf, frame, seconds, warmup = 5) {
  const input = tf.browser.fromPixels(frame);
  // A timestamp as a camera gives one, so temporal filters run as they do live.
  const run = () => detector.estimate(input, { timestampMs: performance.now() });
  try {
    for (let i = 0; i < warmup; i += 1) await run();
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) { await run(); n += 1; }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    input.dispose();
  }
}

// The estimation loop. One estimate in flight; the next starts as soon as the previous ends if the
// video has presented a newer frame (so the loop runs at the model's rate, not the display's), or
// on the next frame otherwise. Between estimates it yields a task so rendering and input keep up.

const yieldTask = globalThis.scheduler?.yield
  ? () => globalThis.scheduler.yield()
  : () => new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });

export function startVideoLoop(video, { estimate, onResult, onError }) {
  let stopped = false;
  let latest = null;
  let wake = null;
  const onFrame = (_now, meta) => {
    if (stopped) return;
    latest = meta;
    if (wake) { wake(); wake = null; }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);

  (async () => {
    let done = -1;
    while (!stopped) {
      if (!latest || latest.presentedFrames === done) {
        await new Promise((resolve) => { wake = resolve; });
        continue;
      }
      const frame = latest;
      done = frame.presentedFrames;
      const t0 = performance.now();
      try {
        const poses = await estimate(video);
        if (!stopped) onResult(poses, { frame, latencyMs: performance.now() - t0 });
      } catch (err) {
        if (!stopped) onError(err);
        stopped = true;
      }
      await yieldTask();
    }
  })();

  return { stop() { stopped = true; if (wake) wake(); } };
}

// A still image: one estimate, dropped if the source changes while it runs.
export function estimateOnce(image, { estimate, onResult, onError }) {
  let stopped = false;
  const t0 = performance.now();
  estimate(image).then(
    (poses) => { if (!stopped) onResult(poses, { frame: { mediaTime: 0, presentedFrames: 1 }, latencyMs: performance.now() - t0 }); },
    (err) => { if (!stopped) onError(err); },
  );
  return { stop() { stopped = true; } };
}

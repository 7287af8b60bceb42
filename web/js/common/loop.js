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

// capture(video, meta) -> Promise<grab> and release(grab), when given (the pose worker's
// detectors), read each frame as it is presented, in its requestVideoFrameCallback, so the pixels
// estimated are exactly the frame `meta` describes; estimate() then gets the grab of the newest
// frame instead of the video, and grabs never estimated are released.
export function startVideoLoop(video, { estimate, capture = null, release = null, onResult, onError }) {
  let stopped = false;
  let latest = null; // {meta, grab?}: the newest presented frame
  let wake = null;
  const drop = () => { if (latest?.grab) release(latest.grab); };
  const onFrame = (_now, meta) => {
    if (stopped) return;
    drop();
    latest = { meta, grab: capture ? capture(video, meta) : null };
    if (wake) { wake(); wake = null; }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);

  (async () => {
    let done = -1;
    while (!stopped) {
      if (!latest || latest.meta.presentedFrames === done) {
        await new Promise((resolve) => { wake = resolve; });
        continue;
      }
      const { meta: frame, grab } = latest;
      latest = { meta: frame, grab: null }; // taken: estimate() owns the grab now
      done = frame.presentedFrames;
      const t0 = performance.now();
      try {
        const poses = await estimate(grab ?? video);
        if (!stopped) onResult(poses, { frame, latencyMs: performance.now() - t0 });
      } catch (err) {
        if (!stopped) onError(err);
        stopped = true;
      }
      await yieldTask();
    }
    drop();
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

// The estimation loop. At most `depth` estimates in flight, each on a frame none of the others has
// had: a new one starts as soon as there is room if the video has presented a newer frame (so the
// loop runs at the model's rate, not the display's), or on the next frame otherwise. Results are
// handled in the order their frames were read; after each the loop yields a task so rendering and
// input keep up.
//
// depth 1 suits a detector on this thread. A detector in a worker takes 2 (pose-worker-client.js):
// the next frame is read (in its requestVideoFrameCallback) and handed over while the worker
// estimates the current one, so the worker starts it the moment it is done instead of idling for a
// round trip through this thread.

const yieldTask = globalThis.scheduler?.yield
  ? () => globalThis.scheduler.yield()
  : () => new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });

export function startVideoLoop(video, { estimate, onResult, onError, depth = 1 }) {
  let stopped = false;
  let latest = null;
  let wake = null;
  let done = -1;
  let inFlight = 0;
  let handled = Promise.resolve(); // the previous frame's result, handled
  const poke = () => { if (wake) { wake(); wake = null; } };

  function start(frame) {
    done = frame.presentedFrames;
    inFlight += 1;
    const t0 = performance.now();
    const result = estimate(video);
    handled = handled.then(() => result)
      .then((poses) => { if (!stopped) onResult(poses, { frame, latencyMs: performance.now() - t0 }); })
      .catch((err) => { if (!stopped) onError(err); stopped = true; })
      .then(yieldTask)
      .finally(() => { inFlight -= 1; poke(); });
  }

  // With room for more than one frame, a frame is read in its own callback, so the pixels are the
  // frame its mediaTime names even when this thread is slow (under load, a frame read later was at
  // times a newer one than the callback had named: agreement with golden keypoints fell).
  const onFrame = (_now, meta) => {
    if (stopped) return;
    latest = meta;
    if (depth > 1 && inFlight < depth && meta.presentedFrames !== done) start(meta);
    poke();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);

  // One frame at a time: the next starts as soon as the previous is handled if a newer frame was
  // presented meanwhile, so the loop runs at the model's rate.
  if (depth === 1) {
    (async () => {
      while (!stopped) {
        if (!latest || latest.presentedFrames === done || inFlight >= depth) {
          await new Promise((resolve) => { wake = resolve; });
          continue;
        }
        start(latest);
        await yieldTask();
      }
    })();
  }

  return { stop() { stopped = true; poke(); } };
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

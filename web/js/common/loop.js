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
//
// keep(video), when given, takes each frame before it is estimated: a picture of it (a VideoFrame,
// with its timestamp) that estimate(video, picture) may read instead of the video and that goes to
// onResult as `picture`, which then owns it (a frame whose result is dropped has it closed here).
// The picture names the frame: under load a callback can run after the video has moved on to a
// newer frame than its metadata says, so the frame recorded is the picture's (its mediaTime from
// the timestamp) and a picture of the frame the last estimate had is not estimated again.

const yieldTask = globalThis.scheduler?.yield
  ? () => globalThis.scheduler.yield()
  : () => new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });

export function startVideoLoop(video, { estimate, onResult, onError, depth = 1, keep = null }) {
  let stopped = false;
  let latest = null; // the last presented frame's metadata
  let done = -1; // the presentedFrames of the last frame an estimate took
  let inFlight = 0;
  let handled = Promise.resolve(); // the previous frame's result, handled
  let taken = null; // the mediaTime of the last picture estimated

  // An estimate on the latest presented frame, when there is room and no estimate had that frame.
  function next() {
    if (stopped || !latest || latest.presentedFrames === done || inFlight >= depth) return;
    done = latest.presentedFrames;
    const picture = keep?.(video) ?? null;
    const frame = picture ? { ...latest, mediaTime: picture.timestamp / 1e6 } : latest;
    if (picture && frame.mediaTime === taken) { picture.close(); return; }
    taken = frame.mediaTime;
    inFlight += 1;
    const t0 = performance.now();
    const result = estimate(video, picture);
    handled = handled.then(() => result)
      .then((poses) => {
        if (stopped) picture?.close();
        else onResult(poses, { frame, latencyMs: performance.now() - t0, picture });
      }, (err) => { picture?.close(); throw err; })
      .catch((err) => { if (!stopped) onError(err); stopped = true; })
      .then(yieldTask)
      // One frame at a time: the next starts as soon as this one is handled if a newer frame was
      // presented meanwhile, so the loop runs at the model's rate. With room for more, a frame is
      // only read in its own callback (onFrame), so the pixels are the frame its mediaTime names
      // even when this thread is slow (under load, a frame read later was at times a newer one
      // than the callback had named: agreement with golden keypoints fell).
      .finally(() => { inFlight -= 1; if (depth === 1) next(); });
  }

  const onFrame = (_now, meta) => {
    if (stopped) return;
    latest = meta;
    next();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);

  return { stop() { stopped = true; } };
}

// Whether frames can go from a camera's track straight to the pose worker (startTrackLoop): the
// page makes a MediaStreamTrackProcessor and transfers its stream (Chromium 94+; where the
// processor exists only in workers, or not at all, the page reads frames off the <video>).
export function trackLoopSupported() {
  return typeof MediaStreamTrackProcessor === 'function';
}

// The loop without a <video> in the path (README "Performance"): a camera track's frames go
// straight to the pose worker (watch: a worker detector's, pose-worker-client.js), which reads them,
// keeps the newest and estimates it whenever its model is free; this thread neither wakes at the
// camera's rate nor reads pixels, it only handles results, each with its frame as `picture` (which
// onResult then owns). frame.mediaTime is the frame's time since origin (µs on the timestamps'
// clock, camera.js trackOrigin): the <video>'s mediaTime of the same frame. canvas: the worker
// draws each frame to read it rather than reading its planes (frame-pixels.js; the bench compares).
export function startTrackLoop(track, { origin, watch, onResult, onError, canvas = false }) {
  let stopped = false;
  const own = track.clone(); // stopped with the loop: that ends the processor's stream in the worker
  const { readable } = new MediaStreamTrackProcessor({ track: own });
  const stop = () => { stopped = true; own.stop(); };
  const unwatch = watch(readable, {
    canvas,
    onResult(poses, { picture, index, latencyMs }) {
      if (stopped) { picture.close(); return; }
      const frame = { mediaTime: (picture.timestamp - origin) / 1e6, presentedFrames: index };
      onResult(poses, { frame, latencyMs, picture });
    },
    onError(err) {
      if (!stopped) onError(err);
      stop();
    },
  });
  return { stop() { stop(); unwatch(); } };
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

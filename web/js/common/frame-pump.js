// Runs in the pose worker (pose-service.js): a camera's frames straight off its track, from a
// MediaStreamTrackProcessor's readable the page transferred (loop.js startTrackLoop). Every frame is
// read as it comes and only the newest is kept (the others are closed at once, so a faster camera
// costs nothing beyond its capture); whenever the model is free the newest is taken, read and
// estimated, and its result goes back with it (watchTrack). The frames come read either from this
// thread (readFrames: read when the model is free, in series with it) or from the frame reader, a
// worker of their own the page gave the stream (framesFrom, frame-reader-worker.js: read while the
// model runs).
import { createFrameReader } from './frame-pixels.js';

// Now, in ms, on a clock every worker of the page shares (performance.now() counts from each
// worker's own start): a frame's arrival in one worker and its estimate in another compare.
export const sharedNow = () => performance.timeOrigin + performance.now();

// The loop on a track's frames: frames (readFrames or framesFrom) gives them read ({frame, index,
// pixels, scale, timestampMs, spans, hereMs: ms of this thread next() spent reading});
// estimate(pixels, timestampMs) -> a promise of {poses, spans, ...} (null once the watch is over);
// onResult(result with scale, index and spans {idle, age, read or reader's, tensor, model}, frame)
// owns the frame; onFailure(err) once, if it fails; clock (camera.js's: a frame's timestamp in ms
// less its capture time on sharedNow's clock) gives the age span: from capture to the estimate.
// -> {stop()}.
export function watchTrack(frames, { estimate, onResult, onFailure, clock = null }) {
  let stopped = false;
  let last = -Infinity; // the timestamp of the last frame estimated: none is estimated twice
  const stop = () => { stopped = true; frames.stop(); };
  async function loop() {
    let free = performance.now(); // when the last estimate ended: the worker idles from then to the next frame
    for (;;) {
      const taken = await frames.next();
      if (!taken) return;
      const { frame, index, pixels, scale, timestampMs, hereMs } = taken;
      if (frame.timestamp <= last) { frame.close(); continue; } // never twice, never backwards
      last = frame.timestamp;
      const spans = { idle: performance.now() - free - hereMs, ...taken.spans }; // idle: waiting for a frame
      if (clock !== null) spans.age = sharedNow() - (frame.timestamp / 1000 - clock);
      let result = null;
      try {
        const out = stopped ? null : await estimate(pixels, timestampMs);
        result = out && { ...out, scale, index, spans: { ...spans, ...out.spans } };
      } finally {
        if (!result || stopped) frame.close();
      }
      if (!result || stopped) return;
      onResult(result, frame);
      free = performance.now();
    }
  }
  loop().catch((err) => { if (!stopped) onFailure(err); stop(); });
  return { stop };
}

// A stream's newest frame read on this thread, shrunk (frame-pixels.js), when next() asks, or null
// once stopped; canvas: drawn on a canvas rather than read from its planes.
export function readFrames(readable, { canvas = false } = {}) {
  const pump = createFramePump(readable);
  const read = createFrameReader();
  return {
    async next() {
      const taken = await pump.next();
      if (!taken) return null;
      const t0 = performance.now();
      const pixels = read(taken.frame, canvas ? null : taken.planes);
      const readMs = performance.now() - t0;
      return { ...taken, ...pixels, spans: { read: readMs }, hereMs: readMs };
    },
    stop: () => pump.stop(),
  };
}

// The same from the frame reader at the other end of port (frame-reader-worker.js), which reads
// frames while the model runs: next() asks it for its newest ('want') and it answers at once with
// one it has read (or the first it can). spans: the reader's read of that frame, and all its
// reads since the last frame it sent (frames read and overtaken by newer ones included); next()
// rejects if the reader fails.
//
// Why ask rather than have the reader send each frame as it is read: a message sent to this
// thread while its model runs was handled 40-120 ms later, after the model's run and often the
// next (Chromium 156): the frames estimated were a model run old. Asked once the model is free,
// the answer comes at once.
export function framesFrom(port) {
  let answer = null; // next()'s resolve while it waits
  let ended = null; // null while frames may come; then an Error, or true when the stream ended
  port.onmessage = ({ data }) => {
    if (data === null) ended ??= true;
    else if (data.error) ended = new Error(`the frame reader failed: ${data.error}`);
    if (answer) { answer(data?.frame ? data : null); answer = null; } else data?.frame?.close();
  };
  return {
    async next() {
      if (ended instanceof Error) throw ended;
      if (ended) return null;
      const got = await new Promise((resolve) => { answer = resolve; port.postMessage('want'); });
      if (ended instanceof Error) throw ended;
      if (!got) return null;
      const { readMs, busyMs, ...taken } = got;
      return { ...taken, spans: { 'reader read': readMs, 'reader busy': busyMs }, hereMs: 0 };
    },
    stop() {
      ended ??= true;
      port.postMessage('stop');
      answer?.(null);
      answer = null;
    },
  };
}

// The newest frame read off the stream; next() takes it as a copy ({frame, planes, index, arrivedAt:
// performance.now() when it came}); peek() says which it is without taking it ({index, arrivedAt} or
// null); onFrame() after each frame comes, onEnd() once the stream ends. Why a copy: a camera lends
// a consumer only a few frames at a time (Chromium 156's stopped delivering to a worker that held
// two open), so the frame the page shows until the next result and the one being estimated would
// starve the track. Copied (allocationSize() bytes, 0.5 MB for 576 x 576 I420; 0.7 ms) the
// camera's frame is closed at once.
export function createFramePump(readable, { onFrame = () => {}, onEnd = () => {} } = {}) {
  const reader = readable.getReader();
  let newest = null; // {frame: VideoFrame, index, arrivedAt}, not yet taken
  let read = 0; // frames read off the track so far (the index of the newest)
  let last = -Infinity; // the timestamp of the newest frame read: a frame never comes twice
  let wake = null; // next()'s resolve while it waits
  let stopped = false;

  const settle = () => { wake?.(); wake = null; };
  (async () => {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done || stopped) { frame?.close(); break; }
      if (frame.timestamp <= last) { frame.close(); continue; }
      last = frame.timestamp;
      read += 1;
      newest?.frame.close();
      newest = { frame, index: read, arrivedAt: performance.now() };
      settle();
      onFrame();
    }
  })().catch(() => {}).finally(() => { stopped = true; settle(); onEnd(); });

  return {
    peek: () => (newest && { index: newest.index, arrivedAt: newest.arrivedAt }),
    // -> the newest frame not yet taken (waiting for one), or null once stopped; the caller owns
    // the frame (a copy).
    async next() {
      while (!newest && !stopped) await new Promise((resolve) => { wake = resolve; });
      const taken = stopped ? null : newest;
      newest = null;
      if (!taken) return null;
      try {
        return { ...taken, ...await copyOf(taken.frame) };
      } finally {
        taken.frame.close();
      }
    },
    stop() {
      stopped = true;
      newest?.frame.close();
      newest = null;
      reader.cancel().catch(() => {});
      settle();
    },
  };
}

// A VideoFrame with the same picture and timestamp in memory of its own, and its planes ({data:
// Uint8Array, layout}: what frame-pixels.js reads, without drawing the frame).
async function copyOf(frame) {
  const data = new Uint8Array(frame.allocationSize());
  const layout = await frame.copyTo(data);
  const { width, height } = frame.visibleRect;
  const copy = new VideoFrame(data, {
    format: frame.format, codedWidth: width, codedHeight: height, layout, timestamp: frame.timestamp,
    displayWidth: frame.displayWidth, displayHeight: frame.displayHeight, colorSpace: frame.colorSpace,
  });
  return { frame: copy, planes: { data, layout } };
}

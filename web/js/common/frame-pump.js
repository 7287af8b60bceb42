// Runs in the pose worker (pose-service.js): a camera's frames straight off its track, from a
// MediaStreamTrackProcessor's readable the page transferred (loop.js startTrackLoop). Every frame is
// read as it comes and only the newest is kept (the others are closed at once, so a faster camera
// costs nothing beyond its capture); whenever the model is free the newest is taken, read and
// estimated, and its result goes back with it (watchTrack).
import { createFrameReader } from './frame-pixels.js';

// The loop on a track's frames: frames (readFrames) gives them read ({frame, index, capturedAt,
// pixels, scale, timestampMs, readMs}); estimate(pixels, timestampMs) -> a promise of {poses,
// spans, ...} (null once the watch is over); onResult(result with scale, index and spans {idle,
// age: from the frame's capture to its estimate, read, tensor, model}, frame) owns the frame;
// onFailure(err) once, if it fails. -> {stop()}.
export function watchTrack(frames, { estimate, onResult, onFailure }) {
  let stopped = false;
  const stop = () => { stopped = true; frames.stop(); };
  async function loop() {
    let free = performance.now(); // when the last estimate ended: the worker idles from then to the next frame
    for (;;) {
      const taken = await frames.next();
      if (!taken) return;
      const { frame, index, capturedAt, pixels, scale, timestampMs, readMs } = taken;
      // idle: waiting for a frame
      const spans = { idle: performance.now() - free - readMs, age: performance.now() - capturedAt, read: readMs };
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
      // the camera's frame stays open through the read (~1 ms), as the copy is built after it
      try {
        const planes = await planesOf(taken.frame);
        const t0 = performance.now();
        const pixels = read(taken.frame, canvas ? null : planes);
        const readMs = performance.now() - t0;
        // built after the read: the copy takes the planes' memory over (transferred, not copied)
        return { ...taken, frame: frameOf(taken.frame, planes), ...pixels, readMs };
      } finally {
        taken.frame.close();
      }
    },
    stop: () => pump.stop(),
  };
}

// The newest frame read off the stream; next() takes it ({frame, index, capturedAt: when it was
// captured, on this thread's clock}) and the caller closes it once it is read and copied
// (readFrames: the planes' copy and their read, ~1.6 ms idle; drawn, ?pixels=canvas, 4-7 ms).
// Why a copy: a camera lends a consumer only a few frames at a time (Chromium 156's stopped
// delivering to a worker that held two open through estimates), so the frame the page shows until
// the next result and the one being estimated would starve the track. Copied (allocationSize()
// bytes, 0.5 MB for 576 x 576 I420) the camera's frame is closed before the estimate.
function createFramePump(readable) {
  const reader = readable.getReader();
  let newest = null; // {frame: VideoFrame, index}, not yet taken
  let read = 0; // frames read off the track so far (the index of the newest)
  let last = -Infinity; // the timestamp of the newest frame read: a frame never comes twice
  // A frame's timestamp (its capture, on the camera's clock, ms) less when it was read here, the
  // largest yet: the camera's clock against this thread's, off by the quickest delivery seen (a
  // millisecond or two, once a frame came promptly; taken from the camera's first two frames
  // alone, under load, an age once came out at -10 ms)
  let ahead = -Infinity;
  let wake = null; // next()'s resolve while it waits
  let stopped = false;

  const settle = () => { wake?.(); wake = null; };
  (async () => {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done || stopped) { frame?.close(); break; }
      if (frame.timestamp <= last) { frame.close(); continue; }
      last = frame.timestamp;
      ahead = Math.max(ahead, frame.timestamp / 1000 - performance.now());
      read += 1;
      newest?.frame.close();
      newest = { frame, index: read };
      settle();
    }
  })().catch(() => {}).finally(() => {
    stopped = true;
    newest?.frame.close(); // the stream ended (the track stopped, the camera went) with one not taken
    newest = null;
    settle();
  });

  return {
    // -> the newest frame not yet taken (waiting for one), or null once stopped; the caller owns
    // the frame (the camera's: close it soon).
    async next() {
      while (!newest && !stopped) await new Promise((resolve) => { wake = resolve; });
      const taken = stopped ? null : newest;
      newest = null;
      return taken && { ...taken, capturedAt: taken.frame.timestamp / 1000 - ahead };
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

// A frame's planes ({data: Uint8Array, layout}) in memory of their own: what frame-pixels.js reads
// without drawing the frame, and what frameOf makes a frame of.
async function planesOf(frame) {
  const data = new Uint8Array(frame.allocationSize());
  return { data, layout: await frame.copyTo(data) };
}

// A VideoFrame of frame's planes (planesOf), with its picture, timestamp and colours; the planes'
// memory is transferred to it (detached here: read them first), as a second copy cost the worker
// ~0.5 ms per frame.
function frameOf(frame, { data, layout }) {
  const { width, height } = frame.visibleRect;
  return new VideoFrame(data, {
    format: frame.format, codedWidth: width, codedHeight: height, layout, timestamp: frame.timestamp,
    displayWidth: frame.displayWidth, displayHeight: frame.displayHeight, colorSpace: frame.colorSpace,
    transfer: [data.buffer],
  });
}

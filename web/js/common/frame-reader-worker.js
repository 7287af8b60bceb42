// The frame reader: a worker of its own that reads a camera's frames for the pose worker while its
// model runs, so the read (a copy, then drawn shrunk and read back: 4-7 ms) is off the model's
// thread (pose-worker-client.js starts it; README "Performance"). It gets a MediaStreamTrackProcessor's
// stream and a port to the pose worker (frame-pump.js framesFrom), keeps the stream's newest frame
// and sends frames read (frame-pixels.js) with the frame itself, both transferred.
//
// Which frames it reads (policy): 'jit' (the default) reads a frame when it is the last that can
// be read before the model is free again (predicted from the recent times between the pose
// worker's takes), so each estimate gets a frame as fresh as reading at the end would give, at
// about one read per estimate; 'every' reads every frame (freshest, a read per camera frame);
// 'ahead' reads one as soon as the last was taken (one read per estimate, a model run older).
// Whatever the policy, a frame is read at once when the pose worker waits for one ('want').
import { createFrameReader } from './frame-pixels.js';
import { createFramePump } from './frame-pump.js';

const RECENT = 8; // how many recent times the predictions take the median of

function recent() {
  const values = [];
  return {
    add(v) { values.push(v); if (values.length > RECENT) values.shift(); },
    median() {
      if (!values.length) return null;
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[sorted.length >> 1];
    },
  };
}

// Reads readable's frames for the pose worker at port's other end. -> {stop()}.
function readFor(readable, port, policy) {
  const read = createFrameReader();
  const gaps = { frames: recent(), takes: recent() }; // ms between frames, between takes
  const readMs = recent();
  let lastFrameAt = null;
  let lastTakeAt = null;
  let reading = false;
  let wanted = false; // the pose worker waits for a frame
  let sent = false; // a frame was sent since the pose worker last took one
  let stopped = false;

  // Whether the newest frame (arrived at `at`, this thread's ms) is worth reading now.
  function worthReading(at) {
    if (wanted || policy === 'every') return true;
    if (policy === 'ahead') return !sent;
    const [cycle, gap, r] = [gaps.takes.median(), gaps.frames.median(), readMs.median()];
    if (cycle === null || gap === null || r === null) return true; // nothing to predict from yet
    const free = lastTakeAt + cycle; // when the model should be free again
    // nothing sent yet: read this one unless the next frame can still be read in time; one sent:
    // read this newer one only if it will be ready in time
    return sent ? performance.now() + r <= free : at + gap + r >= free;
  }

  // Reads the newest frame if it is worth it; a failure is told to the pose worker (and ends this).
  const consider = () => {
    considering().catch((err) => {
      stopped = true;
      pump.stop();
      port.postMessage({ error: err?.message ?? String(err) });
    });
  };
  async function considering() {
    const newest = pump.peek();
    if (reading || stopped || !newest || !worthReading(newest.arrivedAt)) return;
    reading = true;
    try {
      const t0 = performance.now();
      const taken = await pump.next();
      if (!taken || stopped) { taken?.frame.close(); return; }
      const { pixels, scale, timestampMs } = read(taken.frame);
      const ms = performance.now() - t0;
      readMs.add(ms);
      port.postMessage({ ...taken, pixels, scale, timestampMs, readMs: ms }, [taken.frame, pixels.data.buffer]);
      sent = true;
      wanted = false;
    } finally {
      reading = false;
    }
    consider();
  }

  const pump = createFramePump(readable, {
    onFrame() {
      const now = performance.now();
      if (lastFrameAt !== null) gaps.frames.add(now - lastFrameAt);
      lastFrameAt = now;
      consider();
    },
    onEnd: () => { if (!stopped) port.postMessage(null); },
  });

  port.onmessage = ({ data }) => {
    if (data === 'stop') { stopped = true; pump.stop(); return; }
    if (data === 'took') {
      const now = performance.now();
      if (lastTakeAt !== null) gaps.takes.add(now - lastTakeAt);
      lastTakeAt = now;
      sent = false;
    } else if (data === 'want') wanted = true;
    consider();
  };
  return { stop() { stopped = true; pump.stop(); } };
}

// One stream at a time: {readable, port, policy} replaces the one before.
function listen(scope) {
  let current = null;
  scope.onmessage = ({ data: { readable, port, policy } }) => {
    current?.stop();
    current = readFor(readable, port, policy);
  };
}

listen(self);

// The frame reader: a worker of its own that reads a camera's frames for the pose worker while its
// model runs, so the read (a copy, then drawn shrunk and read back: 4-7 ms) is off the model's
// thread (pose-worker-client.js starts it; README "Performance"). It gets a MediaStreamTrackProcessor's
// stream and a port to the pose worker (frame-pump.js framesFrom), keeps the stream's newest frame
// and sends frames read (frame-pixels.js) with the frame itself, both transferred.
//
// Which frames it reads (policy): 'jit' (the default) reads a frame when it is the last that can
// be read before the model is free again (predicted from the recent times between the pose
// worker's asks), so each estimate gets a frame as fresh as reading at the end would give, at
// about one read per estimate; 'every' reads every frame (freshest, a read per camera frame);
// 'ahead' reads one as soon as the last was taken (one read per estimate, a model run older).
// The pose worker asks for a frame when its model is free ('want'): it gets the newest read at
// once, or, when none is, the newest frame is read for it then.
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
function readFor(readable, port, { policy, canvas }) {
  const read = createFrameReader();
  const gaps = { frames: recent(), wants: recent() }; // ms between frames, between the pose worker's asks
  const readMs = recent();
  let lastFrameAt = null;
  let lastWantAt = null;
  let ready = null; // the newest frame read, not yet sent
  let busy = 0; // ms of reads since the last frame sent
  let reading = false;
  let wanted = false; // the pose worker waits for a frame
  let stopped = false;

  // Whether the newest frame (arrived at `at`) is worth reading now.
  function worthReading(at) {
    if (wanted || policy === 'every') return true;
    if (policy === 'ahead') return !ready;
    const [cycle, gap, r] = [gaps.wants.median(), gaps.frames.median(), readMs.median()];
    if (cycle === null || gap === null || r === null) return true; // nothing to predict from yet
    const free = lastWantAt + cycle; // when the pose worker should ask next
    // none read yet: read this one unless the next frame can still be read in time; one read:
    // read this newer one only if it will be ready in time
    return ready ? performance.now() + r <= free : at + gap + r >= free;
  }

  function send() {
    const { frame, pixels } = ready;
    port.postMessage({ ...ready, busyMs: busy }, [frame, pixels.data.buffer]);
    ready = null;
    busy = 0;
    wanted = false;
  }

  async function considering() {
    const newest = pump.peek();
    if (reading || stopped || !newest || !worthReading(newest.arrivedAt)) return;
    reading = true;
    try {
      const t0 = performance.now();
      const taken = await pump.next();
      if (!taken || stopped) { taken?.frame.close(); return; }
      const { frame, index } = taken;
      const { pixels, scale, timestampMs } = read(frame, canvas ? null : taken.planes);
      const ms = performance.now() - t0;
      readMs.add(ms);
      busy += ms;
      ready?.frame.close(); // overtaken
      ready = { frame, index, pixels, scale, timestampMs, readMs: ms };
      if (wanted) send();
    } finally {
      reading = false;
    }
    consider();
  }
  // Reads the newest frame if it is worth it; a failure is told to the pose worker (and ends this).
  const consider = () => {
    considering().catch((err) => {
      stopped = true;
      pump.stop();
      port.postMessage({ error: err?.message ?? String(err) });
    });
  };

  const pump = createFramePump(readable, {
    onFrame() {
      const now = performance.now();
      if (lastFrameAt !== null) gaps.frames.add(now - lastFrameAt);
      lastFrameAt = now;
      consider();
    },
    onEnd: () => { if (!stopped) port.postMessage(null); },
  });

  function stop() {
    stopped = true;
    ready?.frame.close();
    ready = null;
    pump.stop();
  }
  port.onmessage = ({ data }) => {
    if (data === 'stop') { stop(); return; }
    const now = performance.now(); // 'want': the pose worker's model is free
    if (lastWantAt !== null) gaps.wants.add(now - lastWantAt);
    lastWantAt = now;
    wanted = true;
    if (ready) send();
    else consider();
  };
  return { stop };
}

// One stream at a time: {readable, port, policy, canvas} replaces the one before.
function listen(scope) {
  let current = null;
  scope.onmessage = ({ data: { readable, port, ...options } }) => {
    current?.stop();
    current = readFor(readable, port, options);
  };
}

listen(self);

// A worker that reads a camera's frames for the pose worker (loop.js startTrackLoop with
// capture=track-reader): off the thread that runs the model and off the page's. It gets a
// MediaStreamTrackProcessor's stream and a port to the pose worker (frame-pump.js framesFrom), keeps
// the stream's newest frame and, each time the pose worker asks, sends it read and shrunk
// (frame-pixels.js) with the frame itself (both transferred), or null once stopped.
import { createFrameReader } from './frame-pixels.js';
import { createFramePump } from './frame-pump.js';

self.onmessage = ({ data: { readable, port } }) => {
  const pump = createFramePump(readable);
  const read = createFrameReader();
  let answered = Promise.resolve(); // one question at a time, in order
  port.onmessage = ({ data }) => {
    if (data === 'stop') { pump.stop(); return; }
    answered = answered.then(async () => {
      const taken = await pump.next();
      if (!taken) { port.postMessage(null); return; }
      const t0 = performance.now();
      const { pixels, scale, timestampMs } = read(taken.frame);
      port.postMessage({ ...taken, pixels, scale, timestampMs, readMs: performance.now() - t0, readHere: false },
        [taken.frame, pixels.data.buffer]);
    });
  };
};

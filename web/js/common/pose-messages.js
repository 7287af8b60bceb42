// The messages between a page and its pose worker (pose-worker.js), named once here. The page
// sends {type, id, ...} (TO_WORKER); the worker answers each with {type: REPLY, id, result} or
// {type: FAILED, id, message}, in order, one request at a time. It says READY once, when its
// libraries and the wasm backend are up, and not before: the page sends nothing until then.
export const TO_WORKER = Object.freeze({
  LOAD: 'load', // {backbone, multi} -> {multi, smoothed, tmFeatures}; replaces the previous backbone
  // pixels: {data: Int32Array RGB (its buffer transferred), width, height} (common/frame-pixels.js)
  ESTIMATE: 'estimate', // {pixels, timestampMs, shareTmFeatures} -> {poses, inferences, features, spans: {idle, tensor, model} ms}
  FEATURES: 'features', // {pixels} -> {features, inferences}: Teachable Machine features of a frame
  // readable: a MediaStreamTrackProcessor's stream of a camera's VideoFrames (transferred); the
  // worker estimates its newest frame whenever the model is free and posts each result as POSES
  // {id: this request's, poses, scale, index, frame (VideoFrame, transferred), inferences, features,
  // spans: {idle, age (from the frame's capture), read, tensor, model} ms}, or {id, message} when it
  // fails (and stops watching); canvas: the frames drawn on a canvas to be read (frame-pixels.js)
  WATCH: 'watch', // {readable, canvas, shareTmFeatures} -> null; replaces any watch before it
  SHARE: 'share', // {shareTmFeatures} -> null: the watch makes Teachable Machine features from now on (or not)
  UNWATCH: 'unwatch', // {watch: a WATCH request's id} -> null: stops it (its stream is cancelled)
  RESET: 'reset', // {} -> null: forget temporal state (a new source)
  DISPOSE: 'dispose', // {} -> null: free the backbone's weights
  BARE_RATE: 'bare-rate', // {pixels, seconds} -> estimates per second on that frame as a tensor (bench)
});

export const FROM_WORKER = Object.freeze({ READY: 'ready', REPLY: 'reply', FAILED: 'failed', POSES: 'poses' });

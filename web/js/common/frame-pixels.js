// Reading a frame for the pose worker, on the page's thread (or in the worker, for a camera track's
// frames: frame-pump.js): the source (a video's current frame, shrunk; a still image whole) drawn
// on a CPU canvas, or a camera frame's planes converted (frame-yuv.js), into the int32 RGB pixels
// TF.js makes a tensor of (as tf.browser.fromPixels would), in a buffer that is transferred, not copied.
// The worker only wraps them in a tensor: all it does per frame is the model. Reading in the
// worker instead (an ImageBitmap made here, drawn and read back there) cost the worker 1.5-1.8 ms
// of CPU per frame, which on two cores is what the loop runs short of (README "Performance").

import { knowsColours, readPlanes, readsFormat } from './frame-yuv.js';

// Video frames are read at most this long on their long side (320 x 240 for a 640 x 480 webcam):
// the models look at 192-257 px anyway, and agreement with golden keypoints, frame by frame, stayed
// within a point or two of full size (README).
export const FRAME_MAX_SIDE = 320;
// Read at exactly half their size instead where that is this long or longer (576 x 576 -> 288 x 288
// rather than 320 x 320): a camera frame's planes then read three times faster (frame-yuv.js
// readHalf), and pose_1's keypoints, every frame sought, came as close to golden (mean 4.3 px off
// against 4.4 at 320 for MoveNet Lightning, 6.3 against 6.2 for BlazePose lite, 11.2 for PoseNet).
const FRAME_HALF_MIN_SIDE = 256;

// The scale a frame of width x height is read at: exactly half where that makes its long side
// FRAME_HALF_MIN_SIDE to FRAME_MAX_SIDE long (512-640 px frames), else its long side at most
// FRAME_MAX_SIDE.
export function frameScale(width, height) {
  const half = Math.max(width, height) / 2;
  if (half <= FRAME_MAX_SIDE && half >= FRAME_HALF_MIN_SIDE) return 0.5;
  return Math.min(1, FRAME_MAX_SIDE / (2 * half));
}

// A source's size, whether a video is what it shows and its time in ms: a <video>, a VideoFrame
// taken of one (common/loop.js) or a still image.
function describe(source) {
  if (typeof VideoFrame === 'function' && source instanceof VideoFrame) {
    return { w: source.displayWidth, h: source.displayHeight, video: true, timestampMs: source.timestamp / 1000 };
  }
  if (source.videoWidth) {
    return { w: source.videoWidth, h: source.videoHeight, video: true, timestampMs: source.currentTime * 1000 };
  }
  return { w: source.width, h: source.height, video: false, timestampMs: undefined };
}

// -> read(source, planes) -> {pixels: {data: Int32Array (RGB, row by row), width, height}, scale:
// [sx, sy] (the factors back to the source's pixels), timestampMs (a video's time; the keypoint
// filter of pose-detection needs it, a still image has none)}. Synchronous: the loop reads a frame
// in the task of its requestVideoFrameCallback, so the pixels are the frame it records. planes: a
// VideoFrame's, copied out (frame-pump.js), read without drawing the frame when they are I420 or
// NV12 in a colour matrix frame-yuv.js knows (idle, in the loop, 1.1 against 4.2-6.7 ms drawn, at
// half size; the same pixels to half a level on average).
export function createFrameReader() {
  let ctx = null; // a canvas of the last frame's size, kept: a new one per frame costs more
  return function read(source, planes = null) {
    const { w, h, video, timestampMs } = describe(source);
    const k = video ? frameScale(w, h) : 1;
    const width = Math.round(k * w);
    const height = Math.round(k * h);
    const scale = [w / width, h / height];
    // copyTo's planes hold the visible rectangle: read as they are when it is shown unscaled
    if (planes && readsFormat(source.format) && knowsColours(source.colorSpace)
        && source.visibleRect.width === w && source.visibleRect.height === h) {
      const data = readPlanes(source.format, planes.data, planes.layout, w, h, width, height, source.colorSpace);
      return { pixels: { data, width, height }, scale, timestampMs };
    }
    if (ctx?.canvas.width !== width || ctx?.canvas.height !== height) {
      // willReadFrequently: a canvas in memory, not on the GPU, so reading it back costs no readback
      ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    }
    ctx.drawImage(source, 0, 0, width, height);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    const data = new Int32Array(width * height * 3);
    for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
      data[i] = rgba[j];
      data[i + 1] = rgba[j + 1];
      data[i + 2] = rgba[j + 2];
    }
    return { pixels: { data, width, height }, scale, timestampMs };
  };
}

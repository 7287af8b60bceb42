// The pose backbones the page can run. Each loader returns a detector with one shape:
//   estimate(source) -> Promise<Pose[]>, Pose = {id?, score, keypoints: [{x, y, score, name}]}
// in the source's own pixels; reset() forgets temporal state; dispose() frees the weights;
// `smoothed` says whether it filters keypoints over time itself. The table of backbones is
// web/pose-tables.json (Python reads it too); the loaders are here. They run on the page's main
// thread and in the pose worker alike (common/pose-worker.js): the libraries are read from
// globalThis (the page's <script> tags and the worker's importScripts put them there), and a
// detector takes any source TF.js reads: a video, an image, an ImageBitmap or a tensor.
import tables from '/pose-tables.json' with { type: 'json' };
import { snakeCase } from './skeleton.js';

const WEIGHTS = '/assets/pose/';

// {label, keypoints (how many), layout, multi: 'no' | 'optional' | 'always'} per backbone.
export const BACKBONES = Object.freeze(Object.fromEntries(Object.entries(tables.backbones)
  .map(([name, b]) => [name, Object.freeze({
    label: b.label, keypoints: tables.layouts[b.layout].keypoints.length, layout: b.layout, multi: b.multi,
  })])));
export const DEFAULT_BACKBONE = tables.default_backbone;

// @tensorflow-models/pose-detection runs MoveNet and BlazePose (as ml5's bodyPose does, with its
// defaults); a page that has no <script> for it imports it on first use.
async function poseDetection() {
  if (!globalThis.poseDetection) await import('/assets/lib/pose-detection.min.js');
  return globalThis.poseDetection;
}

const LOADERS = Object.freeze({
  'posenet': (opts) => loadPoseNet(opts),
  'movenet-lightning': () => loadBodyPose('MoveNet', {
    modelType: 'SINGLEPOSE_LIGHTNING', modelUrl: `${WEIGHTS}movenet-lightning.json` }),
  'movenet-thunder': () => loadBodyPose('MoveNet', {
    modelType: 'SINGLEPOSE_THUNDER', modelUrl: `${WEIGHTS}movenet-thunder.json` }),
  'movenet-multipose': () => loadBodyPose('MoveNet', {
    modelType: 'MULTIPOSE_LIGHTNING', modelUrl: `${WEIGHTS}movenet-multipose.json`,
    enableTracking: true, minPoseScore: 0.2 }),
  'blazepose-lite': () => loadBlazePose({
    runtime: 'tfjs', modelType: 'lite', detectorModelUrl: `${WEIGHTS}blazepose-detector.json`,
    landmarkModelUrl: `${WEIGHTS}blazepose-lite.json` }),
  'blazepose-full': () => loadBlazePose({
    runtime: 'tfjs', modelType: 'full', detectorModelUrl: `${WEIGHTS}blazepose-detector.json`,
    landmarkModelUrl: `${WEIGHTS}blazepose-full.json` }),
  'blazepose-heavy': () => loadBlazePose({
    runtime: 'tfjs', modelType: 'heavy', detectorModelUrl: `${WEIGHTS}blazepose-detector.json`,
    landmarkModelUrl: `${WEIGHTS}blazepose-heavy.json` }),
});

export async function loadBackbone(name, { multi = false } = {}) {
  const load = LOADERS[name];
  if (!load) throw new Error(`unknown backbone "${name}"`);
  const detector = await load({ multi });
  detector.estimateStill ??= async (source) => { detector.reset(); return refinedStill(detector, source); };
  return detector;
}

// A still image (an uploaded photo) gets what a held pose gets, as in Python's runtime
// (estimate()): the first frame, then, when it found someone, a second pass refined on the crop
// around them.
async function refinedStill(detector, source) {
  const first = await detector.estimate(source);
  return first.length ? detector.estimate(source) : first;
}

async function loadPoseNet({ multi }) {
  const net = await globalThis.posenet.load({
    architecture: 'MobileNetV1', outputStride: 16, inputResolution: 257, multiplier: 0.75,
    modelUrl: `${WEIGHTS}posenet.json`,
  });
  const fromPoseNet = (p, dx, dy) => ({
    score: p.score,
    keypoints: p.keypoints.map((k) => ({
      x: k.position.x + dx, y: k.position.y + dy, score: k.score, name: snakeCase(k.part),
    })),
  });
  let region = null;
  let shared = null; // Teachable Machine features of the last estimate, when it made them
  const detector = {
    multi,
    smoothed: false,
    // PoseNet inferences run so far: with a Teachable Machine model one per frame, not two.
    inferences: 0,
    // Set while a Teachable Machine model is active: estimate() then makes the whole frame's
    // features in the same PoseNet pass (tmFeatures() hands them over) instead of a second pass.
    shareTmFeatures: false,
    // Single-person mode also uses the multi-pose decoder, capped at one person: it follows the
    // part tree along the displacement fields instead of taking each part's heatmap argmax on its
    // own, which keeps limbs attached. It also looks at a square around the last pose, as MoveNet
    // does, so the person fills more of the 257 px input.
    async estimate(source) {
      if (detector.shareTmFeatures) return estimateSharingFeatures(source);
      shared = null;
      const tf = globalThis.tf;
      const [h, w] = sizeOf(tf, source);
      const box = multi ? null : region;
      const input = box
        ? tf.tidy(() => tf.slice(pixelsOf(tf, source), [box.y, box.x, 0], [box.size, box.size, 3]))
        : source;
      let poses;
      detector.inferences += 1;
      try {
        poses = await net.estimateMultiplePoses(input, {
          flipHorizontal: false, maxDetections: multi ? 6 : 1, scoreThreshold: multi ? 0.25 : 0.1, nmsRadius: 20,
        });
      } finally {
        if (box) input.dispose();
      }
      const out = poses.map((p) => fromPoseNet(p, box ? box.x : 0, box ? box.y : 0));
      region = multi ? null : cropAround(out[0], w, h);
      return out;
    },
    // Teachable Machine's pose features for the whole frame: PoseNet's heatmap scores and offsets
    // at 257 px, concatenated per cell (17 x 17 x (17 + 34) = 14,739 floats).
    async tmFeatures(source) {
      if (shared) {
        const features = shared;
        shared = null;
        return features;
      }
      const tf = globalThis.tf;
      detector.inferences += 1;
      const features = tf.tidy(() => {
        const { heatmapScores, offsets } = net.baseModel.predict(squareInput(tf, source).resized);
        return tf.concat([heatmapScores, offsets], 2);
      });
      const data = await features.data();
      features.dispose();
      return data;
    },
    reset() { region = null; shared = null; },
    dispose() { net.dispose(); },
  };

  // One PoseNet pass over the whole frame, padded square at 257 px as Teachable Machine does:
  // its heatmaps and offsets are both the model's features and what the poses are decoded from.
  async function estimateSharingFeatures(source) {
    const tf = globalThis.tf;
    detector.inferences += 1;
    const [outputs, features, padX, padY, side] = tf.tidy(() => {
      const input = squareInput(tf, source);
      const o = net.baseModel.predict(input.resized);
      return [[o.heatmapScores, o.offsets, o.displacementFwd, o.displacementBwd],
        tf.concat([o.heatmapScores, o.offsets], 2), input.padX, input.padY, input.side];
    });
    try {
      const buffers = await Promise.all(outputs.map((t) => t.buffer()));
      const poses = await globalThis.posenet.decodeMultiplePoses(...buffers, 16, multi ? 6 : 1, multi ? 0.25 : 0.1, 20);
      shared = await features.data();
      const scale = side / 257;
      return poses.map((p) => ({
        score: p.score,
        keypoints: p.keypoints.map((k) => ({
          x: k.position.x * scale - padX, y: k.position.y * scale - padY, score: k.score, name: snakeCase(k.part),
        })),
      }));
    } finally {
      tf.dispose([...outputs, features]);
    }
  }
  return detector;
}

// The frame padded to a square (evenly on both sides) and resized to PoseNet's 257 px input.
function squareInput(tf, source) {
  const pixels = pixelsOf(tf, source);
  const [h, w] = pixels.shape;
  const padY = w > h ? Math.round(0.5 * (w - h)) : 0;
  const padX = h > w ? Math.round(0.5 * (h - w)) : 0;
  const square = tf.pad(pixels, [[padY, padY], [padX, padX], [0, 0]]);
  return { resized: tf.image.resizeBilinear(square, [257, 257]), padX, padY, side: Math.max(h + 2 * padY, w + 2 * padX) };
}

// The source as an int32 [h, w, 3] tensor (a tensor stays as it is: the caller owns it).
function pixelsOf(tf, source) {
  return source instanceof tf.Tensor ? source : tf.browser.fromPixels(source);
}

// [height, width] of a video (its frames), an image, a bitmap or a tensor.
function sizeOf(tf, source) {
  if (source instanceof tf.Tensor) return source.shape.slice(0, 2);
  return [source.videoHeight || source.height, source.videoWidth || source.width];
}

// A square, 1.6x the pose's extent, inside the frame; null (use the whole frame) when the pose is
// too unsure or already fills most of the frame.
function cropAround(pose, w, h) {
  const seen = pose?.keypoints.filter((k) => k.score >= 0.3) ?? [];
  if (seen.length < 6) return null;
  const xs = seen.map((k) => k.x); const ys = seen.map((k) => k.y);
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
  const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  const size = Math.round(Math.min(Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 1.6, w, h));
  if (size > 0.8 * Math.min(w, h) || size < 32) return null;
  const x = Math.round(Math.min(Math.max(cx - size / 2, 0), w - size));
  const y = Math.round(Math.min(Math.max(cy - size / 2, 0), h - size));
  return { x, y, size };
}

// ml5 1.4's bodyPose defaults, which the page used before it called pose-detection itself.
const BODY_POSE_DEFAULTS = Object.freeze({
  MoveNet: { enableSmoothing: true, minPoseScore: 0.25, multiPoseMaxDimension: 256, enableTracking: true,
    trackerType: 'boundingBox' },
  BlazePose: { enableSmoothing: true },
});

async function loadBodyPose(model, options) {
  return bodyPoseDetector(options, await createNet(model, options));
}

async function createNet(model, options) {
  const lib = await poseDetection();
  const config = { ...BODY_POSE_DEFAULTS[model], ...options };
  if (model === 'MoveNet') config.modelType = lib.movenet.modelType[options.modelType];
  return lib.createDetector(lib.SupportedModels[model], config);
}

// BlazePose, and for still images a fallback when its detector finds nobody (a person lying,
// seen from above, upside down: the detector was trained on upright people), as Python's runtime
// does (runtime/blazepose.py _fallback): MoveNet Thunder, which finds people in any orientation,
// seeds the region of interest and the landmark model runs on it; its pose presence (>= 0.5)
// must say a person is there. Video keeps the library's own tracking.
async function loadBlazePose(options) {
  const net = await createNet('BlazePose', options);
  const detector = bodyPoseDetector(options, net);
  let seed = null; // MoveNet Thunder, loaded on the first still image the detector misses
  detector.estimateStill = async (source) => {
    detector.reset();
    const poses = await refinedStill(detector, source);
    // nobody: the detector found no one, or the refined pass lost who it found
    if (poses.length) return poses;
    seed ??= await loadBackbone('movenet-thunder');
    const [person] = await seed.estimateStill(source);
    if (!person) return [];
    const [h, w] = sizeOf(globalThis.tf, source);
    // pose-detection's BlazePose skips its detector when it holds a region of interest (its
    // tracking between frames); this hands it the seeded one
    net.regionOfInterest = seedRoi(person.keypoints, w, h);
    return refinedStill(detector, source);
  };
  const dispose = detector.dispose;
  detector.dispose = () => { dispose(); seed?.dispose(); };
  return detector;
}

// runtime/blazepose_ops.py seed_roi: the ROI BlazePose's detector would have given, from MoveNet's
// keypoints: centred on the hips, the body point along hips -> shoulders as far away as the
// farthest keypoint, turned so it points up, squared and scaled 1.25x (calculateAlignmentPointsRects
// and transformNormalizedRect). Normalised to the image, as the library keeps it.
function seedRoi(keypoints, w, h) {
  const at = Object.fromEntries(keypoints.map((k) => [k.name, k]));
  const mid = (a, b) => [(at[a].x + at[b].x) / 2, (at[a].y + at[b].y) / 2];
  const [hx, hy] = mid('left_hip', 'right_hip');
  const [sx, sy] = mid('left_shoulder', 'right_shoulder');
  const reach = Math.max(...keypoints.map((k) => Math.hypot(k.x - hx, k.y - hy)));
  const up = Math.max(Math.hypot(sx - hx, sy - hy), 1e-9);
  const [ex, ey] = [hx + (sx - hx) / up * reach, hy + (sy - hy) / up * reach];
  const side = 2 * Math.hypot(ex - hx, ey - hy) * 1.25;
  const angle = Math.PI / 2 - Math.atan2(-(ey - hy), ex - hx);
  const rotation = angle - 2 * Math.PI * Math.floor((angle + Math.PI) / (2 * Math.PI));
  return { xCenter: hx / w, yCenter: hy / h, width: side / w, height: side / h, rotation };
}

function bodyPoseDetector(options, net) {
  return {
    multi: options.modelType === 'MULTIPOSE_LIGHTNING',
    smoothed: true, // pose-detection's keypoint filter, on video (a timestamp)
    // timestampMs: the frame's media time, for the keypoint filter; a video gives its own, and
    // without one (a still image) nothing is filtered.
    async estimate(source, { timestampMs } = {}) {
      const poses = await net.estimatePoses(source, undefined, timestampMs);
      return poses.map((p) => ({
        id: p.id,
        score: p.score ?? 0,
        keypoints: p.keypoints.map((k) => ({ x: k.x, y: k.y, score: k.score ?? 0, name: k.name })),
        // BlazePose's world landmarks (metres, origin mid-hips): what `world` models classify with
        ...(p.keypoints3D && { keypoints3D: p.keypoints3D.map((k) => ({ x: k.x, y: k.y, z: k.z, name: k.name })) }),
      }));
    },
    // MultiPose keeps only tracker state, which tolerates a new source; single-pose models crop
    // around the last pose, so a new source must forget it.
    reset() { if (options.modelType !== 'MULTIPOSE_LIGHTNING') net.reset(); },
    dispose() { net.dispose(); },
  };
}

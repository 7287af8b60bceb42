// The pose backbones the page can run. Each loader returns a detector with one shape:
//   estimate(source) -> Promise<Pose[]>, Pose = {id?, score, keypoints: [{x, y, score, name}]}
// in the source's own pixels; reset() forgets temporal state; dispose() frees the weights;
// `smoothed` says whether it filters keypoints over time itself. The table of backbones is
// web/pose-tables.json (Python reads it too); the loaders are here.
import tables from '/pose-tables.json' with { type: 'json' };
import { snakeCase } from './skeleton.js';

const WEIGHTS = '/assets/pose/';

// {label, keypoints (how many), layout, multi: 'no' | 'optional' | 'always'} per backbone.
export const BACKBONES = Object.freeze(Object.fromEntries(Object.entries(tables.backbones)
  .map(([name, b]) => [name, Object.freeze({
    label: b.label, keypoints: tables.layouts[b.layout].keypoints.length, layout: b.layout, multi: b.multi,
  })])));
export const DEFAULT_BACKBONE = tables.default_backbone;

const LOADERS = Object.freeze({
  'posenet': (opts) => loadPoseNet(opts),
  'movenet-lightning': () => loadBodyPose('MoveNet', {
    modelType: 'SINGLEPOSE_LIGHTNING', modelUrl: `${WEIGHTS}movenet-lightning.json` }),
  'movenet-thunder': () => loadBodyPose('MoveNet', {
    modelType: 'SINGLEPOSE_THUNDER', modelUrl: `${WEIGHTS}movenet-thunder.json` }),
  'movenet-multipose': () => loadBodyPose('MoveNet', {
    modelType: 'MULTIPOSE_LIGHTNING', modelUrl: `${WEIGHTS}movenet-multipose.json`,
    enableTracking: true, minPoseScore: 0.2 }),
  'blazepose-lite': () => loadBodyPose('BlazePose', {
    runtime: 'tfjs', modelType: 'lite', detectorModelUrl: `${WEIGHTS}blazepose-detector.json`,
    landmarkModelUrl: `${WEIGHTS}blazepose-lite.json` }),
  'blazepose-full': () => loadBodyPose('BlazePose', {
    runtime: 'tfjs', modelType: 'full', detectorModelUrl: `${WEIGHTS}blazepose-detector.json`,
    landmarkModelUrl: `${WEIGHTS}blazepose-full.json` }),
  'blazepose-heavy': () => loadBodyPose('BlazePose', {
    runtime: 'tfjs', modelType: 'heavy', detectorModelUrl: `${WEIGHTS}blazepose-detector.json`,
    landmarkModelUrl: `${WEIGHTS}blazepose-heavy.json` }),
});

export async function loadBackbone(name, { multi = false } = {}) {
  const load = LOADERS[name];
  if (!load) throw new Error(`unknown backbone "${name}"`);
  return load({ multi });
}

async function loadPoseNet({ multi }) {
  const net = await window.posenet.load({
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
      const tf = window.tf;
      const w = source.videoWidth || source.width;
      const h = source.videoHeight || source.height;
      const box = multi ? null : region;
      const input = box
        ? tf.tidy(() => tf.browser.fromPixels(source).slice([box.y, box.x, 0], [box.size, box.size, 3]))
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
      const tf = window.tf;
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
    const tf = window.tf;
    detector.inferences += 1;
    const [outputs, features, padX, padY, side] = tf.tidy(() => {
      const input = squareInput(tf, source);
      const o = net.baseModel.predict(input.resized);
      return [[o.heatmapScores, o.offsets, o.displacementFwd, o.displacementBwd],
        tf.concat([o.heatmapScores, o.offsets], 2), input.padX, input.padY, input.side];
    });
    try {
      const buffers = await Promise.all(outputs.map((t) => t.buffer()));
      const poses = await window.posenet.decodeMultiplePoses(...buffers, 16, multi ? 6 : 1, multi ? 0.25 : 0.1, 20);
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
  const pixels = tf.browser.fromPixels(source);
  const [h, w] = pixels.shape;
  const padY = w > h ? Math.round(0.5 * (w - h)) : 0;
  const padX = h > w ? Math.round(0.5 * (h - w)) : 0;
  const square = tf.pad(pixels, [[padY, padY], [padX, padX], [0, 0]]);
  return { resized: tf.image.resizeBilinear(square, [257, 257]), padX, padY, side: Math.max(h + 2 * padY, w + 2 * padX) };
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

async function loadBodyPose(model, options) {
  // Outside p5's preload, ml5 factories resolve to the loaded model.
  const bodyPose = await window.ml5.bodyPose(model, options);
  return {
    multi: options.modelType === 'MULTIPOSE_LIGHTNING',
    smoothed: true, // ml5 turns on pose-detection's keypoint filter by default
    async estimate(source) {
      const poses = await bodyPose.detect(source);
      return poses.map((p) => ({
        id: p.id,
        score: p.confidence ?? p.score ?? 0,
        keypoints: p.keypoints.map((k) => ({
          x: k.x, y: k.y, score: k.confidence ?? k.score ?? 0, name: k.name,
        })),
      }));
    },
    // MultiPose keeps only tracker state, which tolerates a new source; single-pose models crop
    // around the last pose, so a new source must forget it.
    reset() { if (options.modelType !== 'MULTIPOSE_LIGHTNING') bodyPose.model.reset(); },
    dispose() { bodyPose.model?.dispose?.(); },
  };
}

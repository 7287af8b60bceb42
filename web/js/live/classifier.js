// The active pose classifier: a TF.js layers model exported by `posecast train` (pose or keypoint
// features) or Teachable Machine (tm features, needs PoseNet).
import tables from '/pose-tables.json' with { type: 'json' };
import { makePoseVector, makeWorldVector } from '../common/features.js';
import { COCO_KEYPOINTS, mostConfident } from '../common/skeleton.js';

// The label a pose gets when the model's top probability is under its rejection threshold
// (web/contract.json: label events carry it, with the top class's probability as confidence).
export const REJECTED_LABEL = 'unknown';

const MIN_SCORE = 0.2; // training/features.py MIN_SCORE: both sides must normalise alike

// 17 keypoints centred on the hips and scaled by the pose's extent, then their scores
// (training/features.py keypoint_vector, line for line).
export function keypointVector(pose) {
  const byName = new Map(pose.keypoints.map((k) => [k.name, k]));
  const pts = COCO_KEYPOINTS.map((n) => byName.get(n) ?? { x: 0, y: 0, score: 0 });
  const lh = byName.get('left_hip'); const rh = byName.get('right_hip');
  let cx; let cy;
  if (lh && rh && lh.score >= MIN_SCORE && rh.score >= MIN_SCORE) {
    cx = (lh.x + rh.x) / 2; cy = (lh.y + rh.y) / 2;
  } else {
    const w = pts.reduce((s, k) => s + k.score + 1e-6, 0);
    cx = pts.reduce((s, k) => s + k.x * (k.score + 1e-6), 0) / w;
    cy = pts.reduce((s, k) => s + k.y * (k.score + 1e-6), 0) / w;
  }
  const spread = Math.max(0, ...pts.filter((k) => k.score >= MIN_SCORE).map((k) => Math.hypot(k.x - cx, k.y - cy)));
  const scale = spread > 1e-6 ? spread : 1;
  return [...pts.map((k) => (k.x - cx) / scale), ...pts.map((k) => (k.y - cy) / scale), ...pts.map((k) => k.score)];
}

const MAX_PEOPLE = 6;

// The function that turns a pose into the model's input row (null: this backbone cannot give it).
function vectorFor(spec) {
  if (spec.features === 'world') {
    // BlazePose's world landmarks (keypoints3D) beside the keypoints; the table travels with the model.
    const world = makeWorldVector(spec.normalisation?.world_features ?? tables.world_features, COCO_KEYPOINTS);
    return (pose) => {
      const rest = world(pose);
      return rest && [...keypointVector(pose), ...rest];
    };
  }
  if (spec.features !== 'pose') return keypointVector;
  // The table the model was trained with travels in its metadata; older exports use the page's.
  return makePoseVector(spec.normalisation?.pose_features ?? tables.pose_features, COCO_KEYPOINTS);
}

export async function loadClassifier(spec) {
  const tf = window.tf;
  const model = await tf.loadLayersModel(spec.url);
  const n = spec.labels.length;
  const vector = vectorFor(spec);
  const threshold = spec.threshold ?? 0; // calibrated at training (posecast.json rejection); 0: never reject
  return {
    spec,
    // The most confident pose's result ({label, confidence, scores, trackId, rejected, best}) plus
    // `people`: every pose's {trackId, label, confidence} (keypoint models classify up to 6 people in one
    // batch; Teachable Machine features describe the whole image, so one). Null when the model
    // cannot run on this backbone.
    async classify(poses, detector, source) {
      const main = mostConfident(poses);
      if (!main) return null;
      let rows;
      let people;
      if (spec.features === 'tm') {
        if (!detector.tmFeatures) return null;
        rows = [await detector.tmFeatures(source)];
        people = [main];
      } else {
        people = [main, ...poses.filter((p) => p !== main)].slice(0, MAX_PEOPLE);
        rows = people.map(vector);
        if (rows.some((row) => !row)) return null; // world features without BlazePose's keypoints3D
      }
      const width = rows[0].length;
      const output = tf.tidy(() => model.predict(tf.tensor2d(rows.flat(), [rows.length, width])));
      const probs = await output.data();
      output.dispose();
      const results = people.map((pose, k) => {
        const scores = spec.labels.map((label, i) => ({ label, p: probs[k * n + i] }));
        const best = scores.reduce((a, b) => (b.p > a.p ? b : a));
        // Under the threshold the pose is none of the classes the model knows: not forced into one.
        const rejected = best.p < threshold;
        return { label: rejected ? REJECTED_LABEL : best.label, best: best.label, rejected, confidence: best.p,
          scores, trackId: pose.id ?? null };
      });
      return { ...results[0], people: results.map(({ trackId, label, confidence }) => ({ trackId, label, confidence })) };
    },
    dispose() { model.dispose(); },
  };
}

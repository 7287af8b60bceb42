// Keypoint names and skeleton edges, by name so one renderer serves 17 (COCO) and 33 (BlazePose).

export const COCO_KEYPOINTS = Object.freeze([
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
  'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
  'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
]);

const COCO_EDGES = [
  ['nose', 'left_eye'], ['nose', 'right_eye'], ['left_eye', 'left_ear'], ['right_eye', 'right_ear'],
  ['left_shoulder', 'right_shoulder'], ['left_shoulder', 'left_elbow'], ['left_elbow', 'left_wrist'],
  ['right_shoulder', 'right_elbow'], ['right_elbow', 'right_wrist'], ['left_shoulder', 'left_hip'],
  ['right_shoulder', 'right_hip'], ['left_hip', 'right_hip'], ['left_hip', 'left_knee'],
  ['left_knee', 'left_ankle'], ['right_hip', 'right_knee'], ['right_knee', 'right_ankle'],
];

const BLAZEPOSE_EXTRA_EDGES = [
  ['left_eye_inner', 'left_eye'], ['left_eye', 'left_eye_outer'], ['right_eye_inner', 'right_eye'],
  ['right_eye', 'right_eye_outer'], ['mouth_left', 'mouth_right'],
  ['left_wrist', 'left_pinky'], ['left_wrist', 'left_index'], ['left_pinky', 'left_index'],
  ['left_wrist', 'left_thumb'], ['right_wrist', 'right_pinky'], ['right_wrist', 'right_index'],
  ['right_pinky', 'right_index'], ['right_wrist', 'right_thumb'],
  ['left_ankle', 'left_heel'], ['left_heel', 'left_foot_index'], ['left_ankle', 'left_foot_index'],
  ['right_ankle', 'right_heel'], ['right_heel', 'right_foot_index'], ['right_ankle', 'right_foot_index'],
];

const ALL_EDGES = [...COCO_EDGES, ...BLAZEPOSE_EXTRA_EDGES];
const edgeCache = new Map();

// Index pairs for a keypoint layout, computed once per layout (keyed by its names).
export function edgesFor(keypoints) {
  const key = keypoints.map((k) => k.name).join(',');
  let edges = edgeCache.get(key);
  if (!edges) {
    const index = new Map(keypoints.map((k, i) => [k.name, i]));
    edges = ALL_EDGES.filter(([a, b]) => index.has(a) && index.has(b))
      .map(([a, b]) => [index.get(a), index.get(b)]);
    edgeCache.set(key, edges);
  }
  return edges;
}

// The pose the model is surest of, or null.
export function mostConfident(poses) {
  return poses.length ? poses.reduce((a, b) => (b.score > a.score ? b : a)) : null;
}

// PoseNet names parts in camelCase; everything else uses COCO snake_case.
export function snakeCase(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// Keypoint names and skeleton edges, by name so one renderer serves 17 (COCO) and 33 (BlazePose).
// The tables are web/pose-tables.json, which Python reads too.
import tables from '/pose-tables.json' with { type: 'json' };

export const COCO_KEYPOINTS = Object.freeze([...tables.layouts.coco17.keypoints]);

const ALL_EDGES = Object.freeze(tables.edges.map(([a, b]) => Object.freeze([a, b])));

function indexEdges(names) {
  const index = new Map(names.map((name, i) => [name, i]));
  return Object.freeze(ALL_EDGES.filter(([a, b]) => index.has(a) && index.has(b))
    .map(([a, b]) => Object.freeze([index.get(a), index.get(b)])));
}

// Index pairs of every known layout, computed once (keyed by its names).
const LAYOUT_EDGES = Object.freeze(Object.fromEntries(Object.values(tables.layouts)
  .map(({ keypoints }) => [keypoints.join(','), indexEdges(keypoints)])));

// Index pairs for a keypoint layout: a known layout's are looked up, any other is computed.
export function edgesFor(keypoints) {
  const names = keypoints.map((k) => k.name);
  return LAYOUT_EDGES[names.join(',')] ?? indexEdges(names);
}

// The pose the model is surest of, or null.
export function mostConfident(poses) {
  return poses.length ? poses.reduce((a, b) => (b.score > a.score ? b : a)) : null;
}

// PoseNet names parts in camelCase; everything else uses COCO snake_case.
export function snakeCase(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

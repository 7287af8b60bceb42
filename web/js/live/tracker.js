// Stable person ids across frames for detectors that give none (PoseNet, single-pose models):
// greedy matching on bounding-box IoU with the previous frame's tracks.
const MIN_IOU = 0.2;
const MAX_AGE_MS = 1000;

function box(pose, minScore) {
  let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
  for (const k of pose.keypoints) {
    if (k.score < minScore) continue;
    x0 = Math.min(x0, k.x); y0 = Math.min(y0, k.y); x1 = Math.max(x1, k.x); y1 = Math.max(y1, k.y);
  }
  return x1 > x0 ? [x0, y0, x1, y1] : null;
}

function iou(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

export function createTracker({ minScore = 0.2 } = {}) {
  let tracks = [];
  let nextId = 1;
  return {
    // Returns the poses with an `id` each; poses that already carry one keep it.
    assign(poses, now) {
      tracks = tracks.filter((t) => now - t.seen <= MAX_AGE_MS);
      const free = new Set(tracks);
      const out = poses.map((pose) => {
        if (pose.id != null) return pose;
        const b = box(pose, minScore);
        let best = null; let bestIou = MIN_IOU;
        for (const t of b ? free : []) {
          const v = iou(b, t.box);
          if (v > bestIou) { best = t; bestIou = v; }
        }
        if (best) {
          free.delete(best);
          best.box = b; best.seen = now;
          return { ...pose, id: best.id };
        }
        const id = nextId++;
        if (b) tracks.push({ id, box: b, seen: now });
        return { ...pose, id };
      });
      return out;
    },
    reset() { tracks = []; nextId = 1; },
  };
}

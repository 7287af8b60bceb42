// The classifier's `pose` feature vector, step for step as core/features.py pose_matrix computes it
// (tests/training/test_pose_features.py runs both on the same keypoints). No imports: the tables
// (web/pose-tables.json's pose_features, or the copy a model carries) and the keypoint names are
// passed in, so node runs this module as it is.

// makePoseVector(table, names) -> pose => number[] (table.min_score, torso_multiplier, angles, distances).
export function makePoseVector(table, names) {
  const index = new Map(names.map((n, i) => [n, i]));
  const at = (n) => index.get(n);
  const angles = table.angles.map((t) => t.map(at));
  const pairs = table.distances.map((p) => p.map(at));
  const [lh, rh, ls, rs] = ['left_hip', 'right_hip', 'left_shoulder', 'right_shoulder'].map(at);

  return function poseVector(pose) {
    const byName = new Map(pose.keypoints.map((k) => [k.name, k]));
    const pts = names.map((n) => byName.get(n) ?? { x: 0, y: 0, score: 0 });
    // Keypoints under min_score are masked: zero coordinates, visibility 0, no angle or distance.
    const vis = pts.map((k) => (k.score >= table.min_score ? 1 : 0));
    const hipsSeen = vis[lh] * vis[rh] > 0;
    const torsoSeen = hipsSeen && vis[ls] * vis[rs] > 0;
    const hipMid = [(pts[lh].x + pts[rh].x) / 2, (pts[lh].y + pts[rh].y) / 2];
    const nSeen = Math.max(vis.reduce((s, v) => s + v, 0), 1);
    const meanSeen = [pts.reduce((s, k, i) => s + k.x * vis[i], 0) / nSeen,
      pts.reduce((s, k, i) => s + k.y * vis[i], 0) / nSeen];
    const [cx, cy] = hipsSeen ? hipMid : meanSeen;
    const rel = pts.map((k) => [k.x - cx, k.y - cy]);
    const spread = Math.max(0, ...rel.map(([x, y], i) => Math.hypot(x, y) * vis[i]));
    const torso = torsoSeen
      ? Math.hypot((pts[ls].x + pts[rs].x) / 2 - hipMid[0], (pts[ls].y + pts[rs].y) / 2 - hipMid[1]) : 0;
    let size = Math.max(torso * table.torso_multiplier, spread);
    size = size > 1e-6 ? size : 1;
    const out = [...rel.map(([x], i) => (x / size) * vis[i]), ...rel.map(([, y], i) => (y / size) * vis[i]), ...vis];
    for (const [a, b, c] of angles) {
      const u = [pts[a].x - pts[b].x, pts[a].y - pts[b].y];
      const v = [pts[c].x - pts[b].x, pts[c].y - pts[b].y];
      let norm = Math.hypot(u[0], u[1]) * Math.hypot(v[0], v[1]);
      const seen = vis[a] * vis[b] * vis[c] * (norm > 1e-9 ? 1 : 0);
      norm = norm > 1e-9 ? norm : 1;
      // Signed, so a bend to one side differs from the other; mirroring in training covers both.
      out.push(((u[0] * v[0] + u[1] * v[1]) / norm) * seen, ((u[0] * v[1] - u[1] * v[0]) / norm) * seen);
    }
    for (const [p, q] of pairs) {
      out.push((Math.hypot(pts[p].x - pts[q].x, pts[p].y - pts[q].y) / size) * vis[p] * vis[q]);
    }
    return out;
  };
}

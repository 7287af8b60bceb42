// The classifier's `pose` feature vector, step for step as core/features.py pose_matrix computes it
// (tests/training/test_pose_features.py runs both on the same keypoints). No imports: the tables
// (web/pose-tables.json's pose_features, or the copy a model carries) and the keypoint names are
// passed in, so node runs this module as it is.

// Both vectors' index set-up: name -> position, the table's angle triples and the torso's corners.
function layout(table, names) {
  const index = new Map(names.map((n, i) => [n, i]));
  const at = (n) => index.get(n);
  const torso = ['left_hip', 'right_hip', 'left_shoulder', 'right_shoulder'].map(at);
  return { at, angles: table.angles.map((t) => t.map(at)), torso };
}

// makePoseVector(table, names) -> pose => number[] (table.min_score, torso_multiplier, angles, distances).
export function makePoseVector(table, names) {
  const { at, angles, torso: [lh, rh, ls, rs] } = layout(table, names);
  const pairs = table.distances.map((p) => p.map(at));

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

// The `world` vector's 3-D part, step for step as core/features.py world_matrix computes it after
// the 51 `keypoints` floats: from BlazePose's keypoints3D (metres, origin mid-hips), the cosine of
// each angle triple's 3-D angle and of the torso-thigh angles, then the 17 points in the body's
// own frame over the torso's length. table: web/pose-tables.json's world_features (or the copy a
// model carries). makeWorldVector(table, names) -> pose => number[] | null (null: no keypoints3D,
// a backbone other than BlazePose).
export function makeWorldVector(table, names) {
  const { at, angles, torso: [lh, rh, ls, rs] } = layout(table, names);
  const thighs = table.torso_thigh.map((p) => p.map(at));
  const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
  // [unit vector, whether it had a length]: a zero vector stays zero, as its cosines do.
  const unit = (v) => {
    const n = Math.hypot(...v);
    return n > 1e-9 ? [v.map((c) => c / n), true] : [v, false];
  };

  return function worldVector(pose) {
    if (!pose.keypoints3D) return null;
    const byName = new Map(pose.keypoints3D.map((k) => [k.name, [k.x, k.y, k.z]]));
    const w = names.map((n) => byName.get(n) ?? [0, 0, 0]);
    const out = [];
    for (const [a, b, c] of angles) {
      const [u, okU] = unit(sub(w[a], w[b]));
      const [v, okV] = unit(sub(w[c], w[b]));
      out.push(okU && okV ? dot(u, v) : 0);
    }
    const hip = mid(w[lh], w[rh]);
    const up = sub(mid(w[ls], w[rs]), hip);
    const [torso, okT] = unit(up);
    for (const [h, k] of thighs) {
      const [thigh, okH] = unit(sub(w[k], w[h]));
      out.push(okH && okT ? dot(torso, thigh) : 0);
    }
    // The body's frame: x from the left hip to the right, y up the torso made orthogonal to x, z = x cross y.
    const [x, okX] = unit(sub(w[rh], w[lh]));
    const along = dot(up, x);
    const [y, okY] = unit([up[0] - along * x[0], up[1] - along * x[1], up[2] - along * x[2]]);
    const z = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]];
    const length = Math.hypot(...up);
    const scale = okX && okY && length > 1e-6 ? 1 / length : 0;
    for (const axis of [x, y, z]) {
      for (const p of w) out.push(dot(sub(p, hip), axis) * scale);
    }
    return out;
  };
}

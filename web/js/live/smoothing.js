// One Euro filter on keypoints (Casiez et al. 2012), with the constants pose-detection uses for
// MoveNet, so PoseNet's output is smoothed like the ml5 backbones' (which smooth internally).
// Coordinates are filtered in units of the frame's longer side, so the constants hold at any size.
const CONFIG = Object.freeze({ minCutOff: 2.5, beta: 300, derivateCutOff: 2.5 });
const MAX_GAP_S = 0.5;

const alpha = (cutoff, dt) => 1 / (1 + 1 / (2 * Math.PI * cutoff * dt));

function oneEuro() {
  let x = null; let dx = 0;
  return (value, dt) => {
    if (x === null) { x = value; return value; }
    const rawDx = (value - x) / dt;
    dx += alpha(CONFIG.derivateCutOff, dt) * (rawDx - dx);
    const cutoff = CONFIG.minCutOff + CONFIG.beta * Math.abs(dx);
    x += alpha(cutoff, dt) * (value - x);
    return x;
  };
}

export function createSmoother() {
  let tracks = new Map();
  return {
    // poses carry track ids; `t` is the frame time in seconds, `scale` the frame's longer side.
    apply(poses, t, scale) {
      const next = new Map();
      const out = poses.map((pose) => {
        let track = tracks.get(pose.id);
        if (!track || t - track.t > MAX_GAP_S || t <= track.t) track = { t: t - 1 / 30, filters: new Map() };
        const dt = t - track.t;
        track.t = t;
        next.set(pose.id, track);
        return {
          ...pose,
          keypoints: pose.keypoints.map((k) => {
            let f = track.filters.get(k.name);
            if (!f) { f = [oneEuro(), oneEuro()]; track.filters.set(k.name, f); }
            return { ...k, x: f[0](k.x / scale, dt) * scale, y: f[1](k.y / scale, dt) * scale };
          }),
        };
      });
      tracks = next;
      return out;
    },
    reset() { tracks = new Map(); },
  };
}

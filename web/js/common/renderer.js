// Draws keypoints and skeletons on a canvas the size of the source (1 canvas px = 1 source px).
import { edgesFor } from './skeleton.js';

const colour = (id) => `hsl(${((id ?? 0) * 67) % 360} 90% 55%)`;

export function createRenderer(canvas) {
  const ctx = canvas.getContext('2d');
  return {
    resize(width, height) {
      canvas.width = width;
      canvas.height = height;
    },
    clear() { ctx.clearRect(0, 0, canvas.width, canvas.height); },
    draw(poses, { threshold, mirrored }) {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      const r = Math.max(2, Math.round(Math.min(canvas.width, canvas.height) / 120));
      ctx.lineWidth = Math.max(2, r * 0.8);
      for (const pose of poses) {
        const kp = pose.keypoints;
        ctx.strokeStyle = ctx.fillStyle = colour(pose.id);
        ctx.beginPath();
        for (const [a, b] of edgesFor(kp)) {
          if (kp[a].score < threshold || kp[b].score < threshold) continue;
          ctx.moveTo(kp[a].x, kp[a].y);
          ctx.lineTo(kp[b].x, kp[b].y);
        }
        ctx.stroke();
        for (const k of kp) {
          if (k.score < threshold) continue;
          ctx.beginPath();
          ctx.arc(k.x, k.y, r, 0, 2 * Math.PI);
          ctx.fill();
        }
        label(ctx, pose, threshold, mirrored, r);
      }
    },
  };
}

// The stage is mirrored with CSS; text is flipped back so it stays readable.
function label(ctx, pose, threshold, mirrored, r) {
  const seen = pose.keypoints.filter((k) => k.score >= threshold);
  if (!seen.length || pose.id == null) return;
  const x = Math.min(...seen.map((k) => k.x));
  const y = Math.min(...seen.map((k) => k.y)) - 3 * r;
  ctx.save();
  ctx.font = `${6 * r}px sans-serif`;
  if (mirrored) {
    ctx.scale(-1, 1);
    ctx.fillText(`#${pose.id}`, -x - ctx.measureText(`#${pose.id}`).width, y);
  } else {
    ctx.fillText(`#${pose.id}`, x, y);
  }
  ctx.restore();
}

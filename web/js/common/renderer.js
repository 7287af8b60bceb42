// Draws keypoints and skeletons on a canvas the size of the source (1 canvas px = 1 source px),
// each person's track id and, when the classifier labelled them, their label and confidence; under
// them, when given, the very frame they were estimated on (the <video> is then hidden: README
// "Performance").
import { edgesFor } from './skeleton.js';

// A video's current frame, kept to be drawn under its skeletons once its estimate is back: a
// VideoFrame refers to the decoded frame, no copy is made. Null where the browser has no
// VideoFrame (the page then shows the <video> itself). The holder must close() it.
export function framePicture(video) {
  if (typeof VideoFrame !== 'function') return null;
  try { return new VideoFrame(video); } catch { return null; }
}

const colour = (id) => `hsl(${((id ?? 0) * 67) % 360} 90% 55%)`;

export function createRenderer(canvas) {
  const ctx = canvas.getContext('2d');
  return {
    resize(width, height) {
      canvas.width = width;
      canvas.height = height;
    },
    clear() { ctx.clearRect(0, 0, canvas.width, canvas.height); },
    // people: the classifier's [{trackId, label, confidence}] (optional); backdrop: the frame
    // the poses come from (framePicture), or null for a transparent canvas over the <video>.
    // Returns the texts drawn beside the skeletons: [{trackId, text, x, y}] (canvas px, before any
    // mirroring).
    draw(poses, { threshold, mirrored, people = [], backdrop = null }) {
      if (backdrop) ctx.drawImage(backdrop, 0, 0, canvas.width, canvas.height);
      else ctx.clearRect(0, 0, canvas.width, canvas.height);
      const labels = new Map((people ?? []).filter((p) => p.trackId != null).map((p) => [p.trackId, p]));
      const drawn = [];
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
        const text = label(ctx, pose, labels.get(pose.id), { threshold, mirrored, r });
        if (text) drawn.push(Object.freeze(text));
      }
      return drawn;
    },
  };
}

// The stage is mirrored with CSS; text is flipped back so it stays readable. The text sits above
// the person's highest keypoint, on a dark band so it reads on any background.
function label(ctx, pose, person, { threshold, mirrored, r }) {
  const seen = pose.keypoints.filter((k) => k.score >= threshold);
  if (!seen.length || pose.id == null) return null;
  const text = person ? `#${pose.id} ${person.label} ${Math.round(100 * person.confidence)} %` : `#${pose.id}`;
  const x = Math.max(0, Math.min(...seen.map((k) => k.x)));
  const size = 6 * r;
  const y = Math.max(size, Math.min(...seen.map((k) => k.y)) - 3 * r);
  ctx.save();
  ctx.font = `${size}px sans-serif`;
  const width = ctx.measureText(text).width;
  if (mirrored) ctx.scale(-1, 1);
  const left = mirrored ? -x - width : x;
  if (person) {
    const fill = ctx.fillStyle;
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(left - r, y - size, width + 2 * r, size * 1.25);
    ctx.fillStyle = fill;
  }
  ctx.fillText(text, left, y);
  ctx.restore();
  return { trackId: pose.id, text, x, y };
}

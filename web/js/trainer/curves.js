// Live training curves on a canvas: loss (left scale) and accuracies (0..1) per epoch.
const SERIES = Object.freeze([
  { key: 'loss', colour: '#ff8a5c', label: 'loss' },
  { key: 'val_loss', colour: '#ffcfb8', label: 'val loss' },
  { key: 'accuracy', colour: '#4cc2ff', label: 'acc' },
  { key: 'val_accuracy', colour: '#b6e8ff', label: 'val acc' },
]);

export function drawCurves(canvas, epochs, total) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  if (!epochs.length) return;
  const maxLoss = Math.max(1e-6, ...epochs.flatMap((e) => [e.loss ?? 0, e.val_loss ?? 0]));
  const x = (i) => 30 + ((w - 40) * (i + 1)) / Math.max(total, epochs.length);
  SERIES.forEach((s, n) => {
    const scale = s.key.includes('loss') ? maxLoss : 1;
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    epochs.forEach((e, i) => {
      const y = h - 20 - ((h - 30) * (e[s.key] ?? 0)) / scale;
      if (i === 0) ctx.moveTo(x(i), y); else ctx.lineTo(x(i), y);
    });
    ctx.stroke();
    ctx.fillStyle = s.colour;
    ctx.font = '12px sans-serif';
    ctx.fillText(s.label, 34 + n * 70, 14);
  });
}

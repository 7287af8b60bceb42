// "Hold to record", as Teachable Machine does: a countdown while the button is held, then a sample
// every 200 ms until it is released.
const COUNTDOWN_MS = 2000;
const SAMPLE_EVERY_MS = 200;

// canRecord() says whether recording may start; capture() stores one sample; onStop() follows a release.
export function bindRecord(button, { canRecord, capture, say, onStop }) {
  let timer = null;
  let recording = false;
  const stop = () => {
    clearTimeout(timer);
    if (!recording && !button.classList.contains('counting')) return;
    recording = false;
    button.classList.remove('counting', 'recording');
    button.textContent = 'Hold to record';
    onStop();
  };
  button.addEventListener('pointerdown', (event) => {
    if (!canRecord()) { say('Create or choose a dataset first.', true); return; }
    button.setPointerCapture?.(event.pointerId);
    button.classList.add('counting');
    const started = performance.now();
    const tick = async () => {
      const left = COUNTDOWN_MS - (performance.now() - started);
      if (left > 0) {
        button.textContent = `Recording in ${Math.ceil(left / 1000)}…`;
        timer = setTimeout(tick, Math.min(left, 250));
        return;
      }
      if (!recording) {
        recording = true;
        button.classList.replace('counting', 'recording');
      }
      button.textContent = 'Recording… release to stop';
      try {
        await capture();
      } catch (err) {
        say(`A sample was refused: ${err.message}`, true);
      }
      if (recording) timer = setTimeout(tick, SAMPLE_EVERY_MS);
    };
    tick();
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) button.addEventListener(type, stop);
}

// The webcam preview: its own detector, skeletons drawn over the video, and the pose it is surest
// of kept in store.lastPose for recording.
import { loadBackbone } from '../common/backbones.js';
import { useBackend } from '../common/backend.js';
import { openWebcam } from '../common/camera.js';
import { startVideoLoop } from '../common/loop.js';
import { createRenderer } from '../common/renderer.js';
import { mostConfident } from '../common/skeleton.js';

export function createPreview({ dom, store, say }) {
  let detector = null;

  async function start() {
    await useBackend('wasm');
    detector = await loadBackbone(store.backbone);
    const renderer = createRenderer(dom.overlay);
    try {
      const source = await openWebcam(dom.video);
      dom.stage.dataset.kind = 'webcam';
      dom.stage.style.aspectRatio = `${source.width} / ${source.height}`;
      dom.stage.style.setProperty('--aspect', source.width / source.height);
      renderer.resize(source.width, source.height);
      startVideoLoop(dom.video, {
        estimate: (el) => detector.estimate(el),
        onResult: (poses) => {
          store.lastPose = mostConfident(poses);
          renderer.draw(poses, { threshold: 0.3, mirrored: false });
          dom.hud.textContent = store.lastPose ? `person seen · ${store.backbone}` : `no person · ${store.backbone}`;
        },
        onError: (err) => say(`Pose estimation stopped: ${err.message}`, true),
      });
    } catch (err) {
      say(err.message, true);
    }
  }

  return {
    start,
    video: dom.video,
    get detector() { return detector; },
  };
}

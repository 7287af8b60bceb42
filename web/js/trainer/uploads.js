// Uploads per class: images, or a short video sampled every 200 ms; a sample per frame with a person.
import { loadBackbone } from '../common/backbones.js';
import { mostConfident } from '../common/skeleton.js';

export function createUploads({ store, sampler, say }) {
  let detector = null; // its own instance: the webcam loop's keeps per-frame state

  async function addVideoFrames(label, url, everySeconds = 0.2, maxFrames = 60) {
    const video = document.createElement('video');
    video.muted = true;
    video.src = url;
    await new Promise((resolve, reject) => { video.onloadeddata = resolve; video.onerror = () => reject(new Error('the video cannot be played')); });
    video.width = video.videoWidth; video.height = video.videoHeight;
    detector.reset();
    let added = 0; let skipped = 0;
    for (let t = 0, n = 0; t < video.duration && n < maxFrames; t += everySeconds, n += 1) {
      video.currentTime = t;
      await new Promise((resolve) => { video.onseeked = resolve; });
      const pose = mostConfident(await detector.estimate(video));
      if (pose) { await sampler.add(label, pose, video, detector); added += 1; } else skipped += 1;
    }
    return [added, skipped];
  }

  // Adds every file's samples to `label`, saying how many after each file.
  async function addFiles(label, files) {
    if (!store.dataset) throw new Error('Create or choose a dataset first.');
    detector ??= await loadBackbone(store.backbone);
    let added = 0; let skipped = 0;
    for (const file of files) {
      const url = URL.createObjectURL(file);
      try {
        if (file.type.startsWith('image/')) {
          const img = new Image();
          img.src = url;
          await img.decode();
          img.width = img.naturalWidth; img.height = img.naturalHeight;
          const pose = mostConfident(await detector.estimateStill(img));
          if (pose) { await sampler.add(label, pose, img, detector); added += 1; } else skipped += 1;
        } else if (file.type.startsWith('video/')) {
          [added, skipped] = (await addVideoFrames(label, url)).map((n, i) => n + [added, skipped][i]);
        } else skipped += 1;
      } finally {
        URL.revokeObjectURL(url);
      }
      say(`${file.name}: ${added} sample(s) added${skipped ? `, ${skipped} without a person skipped` : ''}`);
    }
  }

  return { addFiles };
}

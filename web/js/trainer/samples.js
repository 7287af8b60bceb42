// Storing samples: a pose, where it was seen (webcam video, image or video frame), a thumbnail and,
// for a backbone that has them, BlazePose's world landmarks (keypoints3D: what `world` models train
// on) and Teachable Machine's features.
import { float32ToBase64 } from './api.js';

const sizeOf = (el) => [el.videoWidth || el.naturalWidth, el.videoHeight || el.naturalHeight];

function thumbnailOf(element) {
  const [w, h] = sizeOf(element);
  const canvas = document.createElement('canvas');
  const scale = 96 / Math.max(w, h);
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  canvas.getContext('2d').drawImage(element, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.7);
}

export function createSampler({ api, store }) {
  // Stores one sample of `pose` as seen in `element`; `using` is the detector that saw it.
  async function add(label, pose, element, using) {
    const [width, height] = sizeOf(element);
    const sample = {
      label, backbone: store.backbone, width, height,
      keypoints: pose.keypoints.map(({ name, x, y, score }) => ({ name, x, y, score })),
      thumbnail: thumbnailOf(element),
    };
    if (pose.keypoints3D) sample.keypoints3D = pose.keypoints3D.map(({ name, x, y, z }) => ({ name, x, y, z }));
    if (using.tmFeatures) sample.tm = float32ToBase64(await using.tmFeatures(element));
    const saved = await api.addSample(store.dataset.id, sample);
    store.samples.push({
      id: saved.id, label, backbone: store.backbone, world: Boolean(sample.keypoints3D),
      thumbnail: `/api/samples/${saved.id}/thumbnail`,
    });
    store.recorded += 1;
  }

  return {
    add,
    // The webcam's latest pose, if there is one and a dataset to put it in.
    async capture(label, preview) {
      if (store.lastPose && store.dataset) await add(label, store.lastPose, preview.video, preview.detector);
    },
  };
}

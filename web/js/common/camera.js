// Frame sources: the webcam, or a video / image file the user picks. Each open* resolves to
// {kind, name, element, width, height, stop()} where element is what the detector reads.

export class SourceError extends Error {}

const CAMERA_MESSAGES = Object.freeze({
  NotAllowedError: 'Camera permission was denied. Allow the camera for this site, or pick a video file below.',
  SecurityError: 'The browser blocked the camera on this page. Pick a video file below.',
  NotFoundError: 'No camera was found. Pick a video or image file below.',
  NotReadableError: 'The camera is in use by another program. Close it, or pick a video file below.',
  OverconstrainedError: 'The camera cannot deliver a usable format. Pick a video file below.',
});

export async function openWebcam(video) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new SourceError('This browser offers no camera here (it needs https or localhost). Pick a video file below.');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      // No size constraint: cameras default to a size the models handle quickly, and a constraint
      // makes the browser crop the frame rather than scale it.
      audio: false, video: { facingMode: 'user' },
    });
  } catch (err) {
    throw new SourceError(CAMERA_MESSAGES[err.name] ?? `The camera could not start (${err.name}). Pick a video file below.`);
  }
  video.srcObject = stream;
  video.loop = false;
  const [track] = stream.getVideoTracks();
  const [origin] = await Promise.all([trackOrigin(track, video), playing(video)]);
  // track and origin: for a loop that reads the camera's frames off its track (loop.js startTrackLoop)
  return { kind: 'webcam', name: 'webcam', element: video, track, origin, ...sizeOf(video), stop: () => stopVideo(video) };
}

// The time (µs, on the clock of a VideoFrame's timestamp read off the track) from which the <video>
// times the camera's frames (mediaTime: from the camera's first frame, which the page may never
// see), where the browser can read frames off a track; else null (then the loop reads the <video>).
// Frames read off the track later are timed from it alike (loop.js startTrackLoop), so a frame has
// the same mediaTime either way.
async function trackOrigin(track, video) {
  if (typeof MediaStreamTrackProcessor !== 'function' || !video.requestVideoFrameCallback) return null;
  const own = track.clone();
  // A page in a background tab presents no frame: null after a while rather than no camera.
  const late = new Promise((resolve) => { setTimeout(resolve, ORIGIN_WAIT_MS, null); });
  try {
    return await Promise.race([originOf(own, video).catch(() => null), late]);
  } finally {
    own.stop();
  }
}
const ORIGIN_WAIT_MS = 3000;

// The <video>'s first frame callback gives that time on the page's clock (captureTime − mediaTime);
// frames read off the track at once give the offset between the two clocks (a frame's timestamp
// less when it was read: the smallest of two, which is off by their delivery, a millisecond or two).
async function originOf(track, video) {
  const shown = new Promise((resolve) => { video.requestVideoFrameCallback((_now, meta) => resolve(meta)); });
  const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
  let ahead = Infinity; // a frame's timestamp (ms) less when this page read it (ms)
  for (let i = 0; i < 2; i += 1) {
    const { value: frame } = await reader.read();
    ahead = Math.min(ahead, frame.timestamp / 1000 - performance.now());
    frame.close();
  }
  const { captureTime, mediaTime } = await shown;
  return captureTime === undefined ? null : Math.round((captureTime - mediaTime * 1000 + ahead) * 1000);
}

export async function openFile(file, { video, image }) {
  const url = URL.createObjectURL(file);
  if (file.type.startsWith('image/')) {
    // The detector reads a detached copy whose width/height are its natural size: the displayed
    // <img> is scaled by CSS, and TF.js would read the scaled size.
    const still = new Image();
    still.src = url;
    try { await still.decode(); } catch { throw new SourceError(`"${file.name}" is not an image this browser can decode.`); }
    still.width = still.naturalWidth;
    still.height = still.naturalHeight;
    image.src = url;
    return { kind: 'image', name: file.name, element: still, width: still.width, height: still.height,
      stop: () => { image.removeAttribute('src'); URL.revokeObjectURL(url); } };
  }
  if (!file.type.startsWith('video/')) throw new SourceError(`"${file.name}" is neither a video nor an image.`);
  video.srcObject = null;
  video.src = url;
  video.loop = true;
  try { await playing(video); } catch { throw new SourceError(`"${file.name}" is not a video this browser can play.`); }
  return { kind: 'video', name: file.name, element: video, ...sizeOf(video),
    stop: () => { stopVideo(video); URL.revokeObjectURL(url); } };
}

async function playing(video) {
  video.muted = true;
  video.playsInline = true;
  if (video.readyState < HTMLMediaElement.HAVE_METADATA) {
    await new Promise((resolve, reject) => {
      video.addEventListener('loadedmetadata', resolve, { once: true });
      video.addEventListener('error', () => reject(video.error), { once: true });
    });
  }
  // TF.js and ml5 read element.width/height as the frame size: make them the intrinsic size.
  video.width = video.videoWidth;
  video.height = video.videoHeight;
  await video.play();
}

function sizeOf(video) {
  return { width: video.videoWidth, height: video.videoHeight };
}

function stopVideo(video) {
  video.pause();
  video.srcObject?.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
  video.removeAttribute('src');
  video.load();
}

"""The live page shows each skeleton on the very frame it was estimated on: the overlay draws that
frame (live/view.js) and the <video>, which a browser would composite at the camera's rate, is
not displayed. Checked against the fake camera's own frames, pixel by pixel."""
from pathlib import Path

import numpy as np

from tests.helpers import browser as hb

BLOCK = 8  # frames are compared as 8 x 8 px block means of their luma
FPS = 30
NOISE = 0.0005  # a frame matches its own picture to 0.0014-0.0015 (mean |diff| of standardised luma)

# The frame on the overlay and the one the state says it is, read in one task (both change in the
# same drawing), as block means of the luma (BT.601 weights).
SHOWN_JS = """(block) => {
  const c = document.querySelector('#overlay');
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const bw = Math.floor(c.width / block); const bh = Math.floor(c.height / block);
  const luma = new Array(bw * bh).fill(0);
  for (let y = 0; y < bh * block; y += 1) {
    for (let x = 0; x < bw * block; x += 1) {
      const i = 4 * (y * c.width + x);
      luma[Math.floor(y / block) * bw + Math.floor(x / block)] += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
    }
  }
  return { shown: posecast.shown, size: [bw, bh], luma: luma.map((v) => v / (block * block)) };
}"""


def y4m_luma_blocks(path: Path) -> list[np.ndarray]:
    """Every frame of a 4:2:0 .y4m as block means of its Y plane."""
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    fields = {f[:1]: f[1:] for f in header.split()[1:]}
    w, h = int(fields[b"W"]), int(fields[b"H"])
    frame_bytes = w * h * 3 // 2
    frames, pos = [], 0
    while pos < len(rest):
        pos = rest.index(b"\n", pos) + 1  # past "FRAME...\n"
        y = np.frombuffer(rest, np.uint8, w * h, pos).reshape(h, w).astype(np.float64)
        bh, bw = h // BLOCK, w // BLOCK
        frames.append(y[:bh * BLOCK, :bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).mean(axis=(1, 3)))
        pos += frame_bytes
    return frames


def standardised(a: np.ndarray) -> np.ndarray:
    """Mean 0, spread 1: the camera's limited-range Y and the canvas's RGB luma compare alike."""
    return (a - a.mean()) / a.std()


def test_overlay_shows_the_frame_each_skeleton_was_estimated_on(playwright_session, live_server, y4m, shared_data):
    clip = shared_data / "videos" / "tfjs-pose_1.mp4"
    # The clip's own frames (no frame rate change): a video file's mediaTime names its frame exactly
    # (a fake camera's drifts from the file's frame count when the machine is busy).
    frames = [standardised(f) for f in y4m_luma_blocks(Path(y4m("videos/tfjs-pose_1.mp4")))]
    with hb.chromium(playwright_session) as browser:
        # threshold=1: no keypoint is drawn, so the overlay holds the frame alone
        page = hb.open_page(browser, f"{live_server.url}/?source=none&backbone=movenet-lightning&threshold=1")
        page.wait_for("posecast.status === 'ready'")
        page.page.set_input_files("#file", str(clip))
        page.wait_for("posecast.source === 'video' && posecast.estimates >= 20 && posecast.shown", 90)
        assert page.page.evaluate("() => getComputedStyle(document.querySelector('#video')).display") == "none"
        misses, exact = [], 0
        for _ in range(8):
            page.page.wait_for_timeout(150)
            sample = page.page.evaluate(SHOWN_JS, BLOCK)
            bw, bh = sample["size"]
            drawn = standardised(np.array(sample["luma"]).reshape(bh, bw))
            expected = round(sample["shown"]["mediaTime"] * FPS) % len(frames)
            diffs = [float(np.abs(drawn - f).mean()) for f in frames]
            best = int(np.argmin(diffs))
            print(f"frame {expected}: best match {best}, mean |diff| {diffs[expected]:.4f} "
                  f"(the next best {sorted(diffs)[1]:.4f})")
            exact += best == expected
            # Some neighbouring frames of the clip differ less than the colour conversion does: a
            # miss is a frame that another frame clearly matches better.
            if diffs[expected] - diffs[best] > NOISE:
                misses.append((expected, best, diffs[expected], diffs[best]))
        assert not misses, misses
        assert exact >= 4, f"{exact} of 8 overlays were exactly their frame"
        assert page.errors == []

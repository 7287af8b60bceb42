"""Live-page benchmark: per backbone, the model's raw rate, the whole page loop's rate and the
time to first pose, measured in headless Chromium with a fake webcam, all in one run.

    make bench            # or: .venv/bin/python -m bench.live_page --backbones posenet

Raw rate: a page with no loop running shows the webcam in its <video>, loads the backbone and calls
its estimate() back to back on that video (the model alone: no tracking, smoothing, drawing or
yielding).
Loop rate: the live page as a user sees it, estimates per second over a window.
The fake camera plays tfjs-pose_1.mp4 at 30 fps, as a webcam does (--fps to change).
Page weight: the bytes a cold load of the live page transfers, pose weights apart.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.helpers import browser as hb
from tests.helpers.paths import ROOT, shared
from tests.helpers.server import LiveServer

BACKBONES = ["posenet", "movenet-lightning", "movenet-thunder", "movenet-multipose", "blazepose-lite", "blazepose-full",
             "blazepose-heavy"]

RAW_RATE_JS = """async ([backbone, seconds]) => {
  const { loadBackbone } = await import('/js/common/backbones.js');
  const { useBackend } = await import('/js/common/backend.js');
  await useBackend('wasm');
  // The page's own <video>, shown as the live page shows it, so both rates pay for its display.
  const video = document.querySelector('#video');
  document.querySelector('#stage').dataset.kind = 'webcam';
  video.muted = true;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
  await video.play();
  video.width = video.videoWidth; video.height = video.videoHeight;
  const detector = await loadBackbone(backbone);
  for (let i = 0; i < 5; i++) await detector.estimate(video);  // warm-up
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { await detector.estimate(video); n++; }
  return n / ((performance.now() - t0) / 1000);
}"""


def loop_rate(page, seconds: float) -> float:
    page.wait_for("posecast.status === 'ready' && posecast.estimates >= 20", 120)
    n0, t0 = page.page.evaluate("() => [posecast.estimates, performance.now()]")
    time.sleep(seconds)
    n1, t1 = page.page.evaluate("() => [posecast.estimates, performance.now()]")
    return (n1 - n0) / ((t1 - t0) / 1000)


def page_weight(pw, server, camera: Path) -> dict:
    """Bytes on the wire for a cold load of the live page (empty cache), pose weights apart."""
    sizes: list[tuple[str, int, str]] = []
    with hb.chromium(pw, camera=camera) as browser:
        context = browser.new_context(permissions=["camera"])
        page = context.new_page()

        def finished(request):
            try:
                response = request.response()
                body = request.sizes()["responseBodySize"]
            except Exception:  # noqa: BLE001 - a request still finishing as the page closes
                return
            encoding = response.headers.get("content-encoding", "") if response else ""
            sizes.append((request.url.removeprefix(server.url), body, encoding))

        page.on("requestfinished", finished)
        page.goto(f"{server.url}/?source=none&backbone=posenet")
        page.wait_for_function("window.posecast && posecast.status === 'ready'", timeout=120_000)
        context.close()
    weights = sum(n for url, n, _ in sizes if url.startswith("/assets/pose/"))
    rest = sum(n for url, n, _ in sizes if not url.startswith("/assets/pose/"))
    return {"page_bytes": rest, "weights_bytes": weights, "files": sorted(sizes, key=lambda s: -s[1])}


def measure(pw, server, camera: Path, backbone: str, seconds: float, rounds: int) -> dict:
    """Loop and raw windows alternate, `rounds` times each; medians are reported."""
    with hb.chromium(pw, camera=camera) as browser:
        context = browser.new_context(permissions=["camera"])
        page = hb.RecordedPage(context.new_page())
        url = f"{server.url}/?backbone={backbone}"
        page.page.goto(url)  # cold: nothing cached yet
        page.wait_for("posecast.firstPoseMs !== null", 120)
        cold = page.state("posecast.firstPoseMs")
        loops, raws, warms, latencies = [], [], [], []
        for _ in range(rounds):
            page.page.goto(url)  # warm: libraries and weights come from the HTTP cache
            page.wait_for("posecast.firstPoseMs !== null", 120)
            warms.append(page.state("posecast.firstPoseMs"))
            loops.append(loop_rate(page, seconds))
            latencies.append(page.state("posecast.latencyMs"))
            page.page.goto(f"{server.url}/?source=none&backbone=posenet")  # no loop on this page
            page.wait_for("posecast.status === 'ready'", 120)
            raws.append(page.page.evaluate(RAW_RATE_JS, [backbone, seconds]))
        outside = page.outside_loopback()
        context.close()
    loop, raw = statistics.median(loops), statistics.median(raws)
    return {"backbone": backbone, "raw_per_s": raw, "loop_per_s": loop, "ratio": loop / raw,
            "latency_ms": statistics.median(latencies), "first_pose_cold_ms": cold,
            "first_pose_warm_ms": statistics.median(warms), "loops": loops, "raws": raws,
            "requests_outside_loopback": outside}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=BACKBONES, choices=BACKBONES)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each rate window")
    parser.add_argument("--rounds", type=int, default=3, help="alternating loop/raw windows per backbone")
    parser.add_argument("--fps", type=int, default=30, help="fake camera frame rate (webcams deliver 30)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "live_page.json")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        camera = hb.make_y4m(shared("videos", "tfjs-pose_1.mp4"), Path(tmp) / f"pose_1-{args.fps}fps.y4m", fps=args.fps)
        server = LiveServer(Path(tmp)).start()
        try:
            with sync_playwright() as pw:
                weight = page_weight(pw, server, camera)
                results = [measure(pw, server, camera, b, args.seconds, args.rounds) for b in args.backbones]
        finally:
            server.stop()

    print(f"{'backbone':<20}{'raw/s':>8}{'loop/s':>8}{'loop/raw':>10}{'model ms':>10}{'1st pose cold':>15}{'warm':>8}")
    for r in results:
        print(f"{r['backbone']:<20}{r['raw_per_s']:>8.1f}{r['loop_per_s']:>8.1f}{r['ratio']:>10.2f}"
              f"{r['latency_ms']:>10.1f}{r['first_pose_cold_ms'] / 1000:>14.2f}s{r['first_pose_warm_ms'] / 1000:>7.2f}s")
        if r["requests_outside_loopback"]:
            print("  requests outside loopback:", r["requests_outside_loopback"])
    print(f"cold load of the live page: {weight['page_bytes'] / 1e6:.2f} MB on the wire besides the pose weights "
          f"({weight['weights_bytes'] / 1e6:.2f} MB of PoseNet weights); largest:")
    for url, n, encoding in weight["files"][:6]:
        print(f"  {n / 1e3:>8.0f} kB  {encoding or 'identity':<8} {url}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"backbones": results, "page_weight": weight}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

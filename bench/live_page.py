"""Live-page benchmark: per backbone, the bare model rate, the raw rate, the page loop's rate (pose
model in the Web Worker, and on the page's thread), the page's responsiveness while it estimates
and the time to first pose, in headless Chromium with a fake webcam, all in one run.

    make bench            # or: .venv/bin/python -m bench.live_page --backbones posenet --fps 30

Bare rate: the backbone's estimate() back to back on one prepared input tensor (a camera frame
read once, as the loop reads it: shrunk to at most 320 px on its long side, 288 x 288 here), in the pose worker as
the page runs it: the model with its pre- and post-processing, no capture, no video, no drawing.
Raw rate: on the page's thread, estimate() back to back on the page's <video> showing the webcam
(the model plus reading each frame; what the page's loop did before the worker).
Loop rate: the live page as a user sees it (estimate, tracking, smoothing, drawing), estimates per
second over a window; `worker` is the default page (the camera's frames straight from its track to
the pose worker, which estimates the newest whenever its model is free, reading it from its I420
planes; each estimated frame drawn on the overlay, the <video> not displayed), `drawn` the page
with ?pixels=canvas (each frame from the track drawn on a canvas to be read, as before the planes
were read), `frames off the <video>` the page with
?capture=video (each frame read on the page's thread in its video frame callback, two in the worker: one
estimating, the next waiting), `worker, one in flight` the page with ?capture=video&inflight=1,
`<video> shown` the page with ?display=video (the <video> composited at the camera's rate under a
transparent overlay, frames read off it), `main` the page with ?worker=0 (one frame in flight,
read whole).
CPU: during the worker's loop windows (default, ?capture=video and ?display=video), the share
of a core each group of Chromium's threads ran (Linux schedstat, bench/chromium_threads.py): the pose worker, the page's
thread, its other threads, the GPU process.
Spans: where each estimate's time goes in the worker's loop (window.posecast.timing, ms per
estimate): the model in the worker, the worker idle between two frames, reading the frame there
(the default) or on the page's thread (?capture=video), wrapping the pixels in a tensor; on the
page's thread handling the result and drawing it; with frames from the track, the frame's age at its
estimate (from its capture).
A/B: every loop window that ran side by side (rate, spans, lateness, CPU), e.g. for
`--windows worker canvas --no-rates`.
Responsiveness: during each loop window a 50 ms setTimeout chain runs on the page's thread; how
late each timer fires is how long input would wait (the worst and the 99th percentile).
Targets (issue 14): loop >= 0.9 x min(bare, camera fps); first pose warm <= 1 s; delay <= 100 ms.
The fake camera plays tfjs-pose_1.mp4 (576x576) at each --fps in turn.
Page weight: the bytes a cold load of the live page transfers, pose weights apart.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench import chromium_threads
from tests.helpers import browser as hb
from tests.helpers.paths import ROOT, shared
from tests.helpers.server import LiveServer

BACKBONES = ["posenet", "movenet-lightning", "movenet-thunder", "movenet-multipose", "blazepose-lite", "blazepose-full",
             "blazepose-heavy"]
TARGETED = {"posenet", "movenet-lightning", "blazepose-lite"}  # the issue's loop target applies to these

# The page's own <video> showing the webcam, as the live page shows it, so every rate pays for its display.
WEBCAM_JS = """async () => {
  const video = document.querySelector('#video');
  document.querySelector('#stage').dataset.kind = 'webcam';
  video.muted = true;
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
  await video.play();
  video.width = video.videoWidth; video.height = video.videoHeight;
  return video;
}"""

RAW_RATE_JS = """async ([backbone, seconds]) => {
  const { loadBackbone } = await import('/js/common/backbones.js');
  const { useBackend } = await import('/js/common/backend.js');
  await useBackend('wasm');
  const video = await (%s)();
  const detector = await loadBackbone(backbone);
  for (let i = 0; i < 5; i++) await detector.estimate(video);  // warm-up
  let n = 0; const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { await detector.estimate(video); n++; }
  detector.dispose();
  return n / ((performance.now() - t0) / 1000);
}""" % WEBCAM_JS

BARE_RATE_JS = """async ([backbone, seconds]) => {
  const { startPoseWorker } = await import('/js/common/pose-worker-client.js');
  const video = await (%s)();
  const worker = await startPoseWorker();
  const detector = await worker.load(backbone);
  try { return await detector.bareRate(video, seconds); } finally { worker.terminate(); }
}""" % WEBCAM_JS

# Estimates per second over a window and, meanwhile, how late a 50 ms timer chain fires.
LOOP_WINDOW_JS = """async (seconds) => {
  const late = [];
  const s0 = posecast.timing;
  const n0 = posecast.estimates; const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    late.push(performance.now() - t - 50);
  }
  const rate = (posecast.estimates - n0) / ((performance.now() - t0) / 1000);
  const s1 = posecast.timing;
  const spans = Object.fromEntries(Object.entries(s1).map(([name, { ms, n }]) => {
    const before = s0[name] ?? { ms: 0, n: 0 };
    return [name, n > before.n ? (ms - before.ms) / (n - before.n) : null];
  }));
  late.sort((a, b) => a - b);
  return { rate, worst: late[late.length - 1], p99: late[Math.min(late.length - 1, Math.floor(0.99 * late.length))],
           latency: posecast.latencyMs, thread: posecast.thread, spans };
}"""


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


def loop_window(page, url: str, seconds: float) -> dict:
    page.page.goto(url)
    page.wait_for("posecast.firstPoseMs !== null", 120)
    first = page.state("posecast.firstPoseMs")
    page.wait_for("posecast.status === 'ready' && posecast.estimates >= 20", 120)
    before, t0 = chromium_threads.sample(), time.monotonic()
    window = page.page.evaluate(LOOP_WINDOW_JS, seconds)
    cpu = chromium_threads.busy(before, chromium_threads.sample(), time.monotonic() - t0)
    return {**window, "first_pose_ms": first, "cpu": cpu}


# Loop windows: kind -> the address's query beside the backbone.
LOOP_WINDOWS = {"worker": "", "canvas": "&pixels=canvas", "videocap": "&capture=video",
                "worker1": "&capture=video&inflight=1", "video": "&display=video", "main": "&worker=0"}
# What each window's page is, for the A/B table.
WINDOW_LABELS = {"worker": "from the track, planes read", "canvas": "from the track, drawn (?pixels=canvas)",
                 "videocap": "off the <video> (?capture=video)", "worker1": "off the <video>, one in flight",
                 "video": "<video> shown (?display=video)", "main": "page's thread (?worker=0)"}
CPU_WINDOWS = (("worker", "frame drawn, frames from the track"), ("videocap", "frame drawn, frames off the <video>"), ("video", "<video> shown"))


def measure(pw, server, camera: Path, backbone: str, fps: int, seconds: float, rounds: int, *, rates: bool,
            kinds=tuple(LOOP_WINDOWS)) -> dict:
    """Loop windows (`kinds` of LOOP_WINDOWS in turn) and, with `rates`, the raw and bare windows
    alternate `rounds` times; medians are reported."""
    with hb.chromium(pw, camera=camera) as browser:
        context = browser.new_context(permissions=["camera"])
        page = hb.RecordedPage(context.new_page())
        url = f"{server.url}/?backbone={backbone}"
        page.page.goto(url)  # cold: nothing cached yet
        page.wait_for("posecast.firstPoseMs !== null", 120)
        cold = page.state("posecast.firstPoseMs")
        windows: dict[str, list] = {kind: [] for kind in (*LOOP_WINDOWS, "raw", "bare")}
        for _ in range(rounds):
            # warm: libraries and weights come from the HTTP cache
            for kind in kinds:
                windows[kind].append(loop_window(page, url + LOOP_WINDOWS[kind], seconds))
            if rates:
                page.page.goto(f"{server.url}/?source=none&backbone=posenet&worker=0")  # no loop on this page
                page.wait_for("posecast.status === 'ready'", 120)
                windows["raw"].append(page.page.evaluate(RAW_RATE_JS, [backbone, seconds]))
                windows["bare"].append(page.page.evaluate(BARE_RATE_JS, [backbone, seconds]))
        outside = page.outside_loopback()
        errors = page.errors
        context.close()

    def med(kind: str, key: str):
        return statistics.median(w[key] for w in windows[kind]) if windows[kind] else None

    def worst(kind: str):
        return max(w["worst"] for w in windows[kind]) if windows[kind] else None

    def spans_of(kind: str) -> dict:
        names = {name for w in windows[kind] for name in w["spans"]}
        return {name: statistics.median(v) if (v := [w["spans"][name] for w in windows[kind]
                                                     if w["spans"].get(name) is not None]) else None
                for name in sorted(names)}

    threads = {kind: sorted({w["thread"] for w in windows[kind]}) for kind in kinds}
    # every window that ran: rate, responsiveness, spans and CPU (the A/B table)
    ab = {kind: {"rate": med(kind, "rate"), "p99": med(kind, "p99"), "spans": spans_of(kind),
                 "cpu": {group: statistics.median(w["cpu"][group] for w in windows[kind]) for group in windows[kind][0]["cpu"]}}
          for kind in kinds if windows[kind] and kind != "main"}
    cpu = {kind: {group: statistics.median(w["cpu"][group] for w in windows[kind]) for group in windows[kind][0]["cpu"]}
           for kind, _ in CPU_WINDOWS if windows[kind]}
    return {
        "backbone": backbone, "fps": fps,
        "loop_worker_per_s": med("worker", "rate"), "loop_video_capture_per_s": med("videocap", "rate"),
        "loop_worker_one_in_flight_per_s": med("worker1", "rate"),
        "loop_video_shown_per_s": med("video", "rate"), "cpu_percent": cpu,
        "loop_main_per_s": med("main", "rate"),
        "latency_worker_ms": med("worker", "latency"), "latency_main_ms": med("main", "latency"),
        "late_worst_worker_ms": worst("worker"), "late_p99_worker_ms": med("worker", "p99"),
        "late_worst_main_ms": worst("main"), "late_p99_main_ms": med("main", "p99"),
        "first_pose_cold_ms": cold, "first_pose_warm_ms": med("worker", "first_pose_ms"),
        "first_pose_warm_main_ms": med("main", "first_pose_ms"),
        "raw_per_s": statistics.median(windows["raw"]) if rates else None,
        "bare_per_s": statistics.median(windows["bare"]) if rates else None,
        "spans_worker_ms": spans_of("worker"), "spans_video_capture_ms": spans_of("videocap"), "ab": ab, "threads": threads, "windows": windows, "requests_outside_loopback": outside, "page_errors": errors,
    }


def _f(value, fmt: str = ".1f") -> str:
    """A figure, or "-" for a window the run left out."""
    return "-" if value is None else format(value, fmt)


def table(results: list[dict], load: str) -> str:
    """A Markdown table for the README: ratios per backbone and camera rate."""
    rates = {r["backbone"]: r for r in results if r["bare_per_s"] is not None}
    lines = [
        f"| backbone | camera | bare /s | raw /s | loop /s | loop / bare | loop / raw | target "
        f"| loop, frames off the <video> /s "
        f"| loop, one in flight /s | loop, <video> shown /s | loop, page's thread /s | late worst / p99 ms "
        f"| page's thread: late worst / p99 ms | first pose cold / warm |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        base = rates.get(r["backbone"], {})
        bare, raw, loop = base.get("bare_per_s"), base.get("raw_per_s"), r["loop_worker_per_s"]
        goal = 0.9 * min(bare, r["fps"]) if bare else None
        met = ("met" if loop >= goal else "missed") if r["backbone"] in TARGETED and goal and loop else "-"
        warm = r["first_pose_warm_ms"] and r["first_pose_warm_ms"] / 1000
        lines.append(
            f"| {r['backbone']} | {r['fps']} fps | {_f(bare)} | {_f(raw)} | {_f(loop)} | "
            f"{_f(loop and bare and loop / bare, '.2f')} | {_f(loop and raw and loop / raw, '.2f')} | {met} (≥ {_f(goal)}) | "
            f"{_f(r['loop_video_capture_per_s'])} | {_f(r['loop_worker_one_in_flight_per_s'])} | "
            f"{_f(r['loop_video_shown_per_s'])} | {_f(r['loop_main_per_s'])} | "
            f"{_f(r['late_worst_worker_ms'], '.0f')} / {_f(r['late_p99_worker_ms'], '.0f')} | "
            f"{_f(r['late_worst_main_ms'], '.0f')} / {_f(r['late_p99_main_ms'], '.0f')} | "
            f"{r['first_pose_cold_ms'] / 1000:.2f} s / {_f(warm, '.2f')} s |")
    lines.append(f"\nLoad average during the run: {load}.")
    return "\n".join(lines)


SPAN_COLUMNS = (("worker model", "model"), ("worker idle", "worker idle"), ("worker read", "worker: read the frame"),
                ("worker tensor", "worker: pixels → tensor"), ("read", "page: read the frame"),
                ("handle", "page: track, smooth, classify"), ("draw", "page: draw"),
                ("worker age", "the frame's age at its estimate"))


def spans_table(results: list[dict]) -> str:
    """Where each estimate's time goes in the worker's loop (medians of the windows, ms per estimate),
    beside the bare model's time per estimate: frames from the track (the default), then off the
    <video> (?capture=video)."""
    rates = {r["backbone"]: r for r in results if r["bare_per_s"] is not None}
    lines = ["| backbone | camera | frames | bare ms | loop ms | " + " | ".join(label for _, label in SPAN_COLUMNS) + " |",
             "| --- | --- | --- | --- | --- |" + " --- |" * len(SPAN_COLUMNS)]
    for r in results:
        bare = rates.get(r["backbone"], {}).get("bare_per_s")
        for key, frames, rate in (("spans_worker_ms", "from the track", r["loop_worker_per_s"]),
                                  ("spans_video_capture_ms", "off the <video>", r["loop_video_capture_per_s"])):
            if not rate:
                continue
            cells = [_f(r[key].get(name)) for name, _ in SPAN_COLUMNS]
            lines.append(f"| {r['backbone']} | {r['fps']} fps | {frames} | {_f(bare and 1000 / bare)} | "
                         f"{1000 / rate:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_table(results: list[dict]) -> str:
    """The share of a core each group of Chromium's threads ran during the worker's loop windows
    (medians): the page as it is, with frames read off the <video>, and with the <video> shown."""
    groups = [name for *_, name in chromium_threads.GROUPS]
    lines = ["| backbone | camera | page | loop /s | " + " | ".join(groups) + " | all but the pose worker |",
             "| --- | --- | --- | --- |" + " --- |" * (len(groups) + 1)]
    rate_of = {"worker": "loop_worker_per_s", "videocap": "loop_video_capture_per_s", "video": "loop_video_shown_per_s"}
    for r in results:
        for kind, label in CPU_WINDOWS:
            shares = r["cpu_percent"].get(kind)
            if not shares:
                continue
            rest = sum(v for k, v in shares.items() if k != "pose worker")
            lines.append(f"| {r['backbone']} | {r['fps']} fps | {label} | {r[rate_of[kind]]:.1f} | "
                         + " | ".join(f"{shares[g]:.0f}" for g in groups) + f" | {rest:.0f} |")
    return "\n".join(lines)


AB_SPANS = (("worker model", "model ms"), ("worker idle", "worker idle ms"), ("worker read", "worker: read ms"),
            ("read", "page: read ms"), ("worker age", "frame's age at estimate ms"))


def ab_table(results: list[dict]) -> str:
    """Every loop window of the run side by side (medians): estimates per second, where each
    estimate's time goes (ms per estimate, and the frame's age from its capture to its model run:
    frames from the track only), the page's p99 lateness and the CPU of the pose worker and the
    rest."""
    lines = ["| backbone | camera | frames | loop /s | " + " | ".join(label for _, label in AB_SPANS)
             + " | late p99 ms | pose worker % | all but the pose worker % |",
             "| --- | --- | --- | --- |" + " --- |" * (len(AB_SPANS) + 3)]
    for r in results:
        for kind, w in r["ab"].items():
            cpu = w["cpu"]
            rest = sum(v for k, v in cpu.items() if k != "pose worker")
            lines.append(f"| {r['backbone']} | {r['fps']} fps | {WINDOW_LABELS[kind]} | {_f(w['rate'])} | "
                         + " | ".join(_f(w["spans"].get(name)) for name, _ in AB_SPANS)
                         + f" | {_f(w['p99'], '.0f')} | {_f(cpu.get('pose worker'), '.0f')} | {rest:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=BACKBONES, choices=BACKBONES)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=2, help="alternating windows per backbone and camera rate")
    parser.add_argument("--fps", type=int, nargs="+", default=[30, 60],
                        help="fake camera frame rates, each in turn (webcams deliver 30; bare and raw rates "
                             "are measured with the first)")
    parser.add_argument("--windows", nargs="+", default=list(LOOP_WINDOWS), choices=list(LOOP_WINDOWS),
                        help="the loop windows to run, alternating (an A/B of two pages: --windows worker videocap)")
    parser.add_argument("--no-rates", action="store_true", help="leave out the bare and raw windows")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "live_page.json")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    loads = [os.getloadavg()[0]]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        cameras = {fps: hb.make_y4m(shared("videos", "tfjs-pose_1.mp4"), Path(tmp) / f"pose_1-{fps}fps.y4m", fps=fps)
                   for fps in args.fps}
        server = LiveServer(Path(tmp)).start()
        try:
            with sync_playwright() as pw:
                weight = page_weight(pw, server, cameras[args.fps[0]])
                for backbone in args.backbones:
                    for i, fps in enumerate(args.fps):
                        results.append(measure(pw, server, cameras[fps], backbone, fps, args.seconds, args.rounds,
                                               rates=i == 0 and not args.no_rates, kinds=args.windows))
                        loads.append(os.getloadavg()[0])
                        r = results[-1]
                        print(f"{backbone} @ {fps} fps: loop {_f(r['loop_worker_per_s'])}/s in the worker "
                              f"({_f(r['loop_video_capture_per_s'])}/s with frames off the <video>, "
                              f"{_f(r['loop_worker_one_in_flight_per_s'])}/s with one frame in flight, "
                              f"{_f(r['loop_video_shown_per_s'])}/s with the <video> shown), "
                              f"{_f(r['loop_main_per_s'])}/s on the page's thread; threads {r['threads']}; "
                              f"load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            server.stop()

    load = f"{min(loads):.1f}-{max(loads):.1f} (1-minute averages, {os.cpu_count()} cores)"
    print()
    print(table(results, load))
    print("\nWhere each estimate's time goes in the worker's loop (ms per estimate, median of the windows):\n")
    print(spans_table(results))
    print("\nChromium's threads during the worker's loop (% of one core, median of the windows):\n")
    print(cpu_table(results))
    print("\nEvery loop window side by side (medians):\n")
    print(ab_table(results))
    for r in results:
        if r["requests_outside_loopback"] or r["page_errors"]:
            print(f"  {r['backbone']}: requests outside loopback {r['requests_outside_loopback']}, "
                  f"page errors {r['page_errors']}")
    print(f"\ncold load of the live page: {weight['page_bytes'] / 1e6:.2f} MB on the wire besides the pose weights "
          f"({weight['weights_bytes'] / 1e6:.2f} MB of PoseNet weights); largest:")
    for url, n, encoding in weight["files"][:6]:
        print(f"  {n / 1e3:>8.0f} kB  {encoding or 'identity':<8} {url}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"backbones": results, "page_weight": weight, "load": load}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

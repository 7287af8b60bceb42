"""Edge benchmark: per backbone, on the same video, in one run: estimates/s on OpenVINO (f32),
TensorFlow (CPU) and the browser's wasm backend (headless Chromium, the live-page bench's raw
rate), the keypoint agreement between OpenVINO and TensorFlow, and the whole edge loop's rate
(`posecast edge` against a live server: decode, pose, tracking, smoothing, classifier, outbox,
streaming) against the bare OpenVINO model's.

    .venv/bin/python -m bench.edge [--backbones movenet-lightning ...] [--frames 120] [--ov-threads 1] [--no-wasm] [--no-bf16]

Rates: frames of tfjs-pose_1.mp4 (576x576) decoded once, then `track()` back to back (a warm-up
pass first); "model" is the OpenVINO executor alone on one preprocessed input. Agreement: per
frame, keypoints both executors score >= 0.3, distance in pixels. The machine's load average is
printed with every row: on a shared machine it moves the rates more than anything else.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import runtime  # noqa: E402
from edge.source import Source  # noqa: E402
from tests.helpers.paths import ROOT, shared  # noqa: E402
from tests.helpers.server import LiveServer  # noqa: E402

VIDEO = "videos/tfjs-pose_1.mp4"
MIN_SCORE = 0.3


def frames_of(path: Path, n: int) -> list:
    source, frames = Source(str(path), loop=True), []
    while len(frames) < n:
        frames.append(source.read().rgb)
    source.close()
    return frames


def track_all(est, frames) -> tuple[float, list]:
    """(estimates per second, poses per frame): one warm-up pass, then a timed one."""
    est.reset()
    for f in frames[:10]:
        est.track(f)
    est.reset()
    out, t0 = [], time.perf_counter()
    for f in frames:
        out.append(est.track(f))
    return len(frames) / (time.perf_counter() - t0), out


def model_rate(est, seconds: float = 3.0) -> float:
    """The executor alone, back to back on one input of the backbone's size: the network a
    tracked video frame runs (BlazePose: its landmark network; the detector runs on a first
    frame only)."""
    import numpy as np

    run = est.run_landmarks if hasattr(est, "run_landmarks") else est.run_model
    if est.backbone.startswith("blazepose"):
        from runtime.blazepose_ops import LANDMARK_SIZE as size
    else:
        size = getattr(est, "size", 257 if est.backbone == "posenet" else 256)
    x = np.zeros((1, size, size, 3), dtype=run.input_dtype)
    run(x)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        run(x)
        n += 1
    return n / (time.perf_counter() - t0)


def agreement(a: list, b: list) -> dict:
    """Distances (px) between two runs' first-pose keypoints per frame, both scores >= 0.3."""
    dists = [math.dist(p[:2], q[:2]) for ka, kb in zip(a, b) for p, q in zip(ka, kb)
             if p[2] >= MIN_SCORE and q[2] >= MIN_SCORE]
    return {"median_px": statistics.median(dists) if dists else None, "max_px": max(dists) if dists else None,
            "keypoints": len(dists), "frames_with_pose_in_both": sum(bool(x) and bool(y) for x, y in zip(a, b)),
            "frames": len(a)}


def loop_rate(server: LiveServer, backbone: str, frames: int, workdir: Path, threads: int | None) -> float:
    """`posecast edge` on the video (looped), its own "N frames in T s" line."""
    r = subprocess.run([sys.executable, "-m", "server", "edge", "--source", str(shared(VIDEO)), "--loop",
                        "--server", server.url, "--name", f"bench-{backbone}", "--backbone", backbone,
                        "--state-dir", str(workdir / backbone), "--max-frames", str(frames),
                        *(["--threads", str(threads)] if threads else [])],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    m = re.search(r"(\d+) frames in ([\d.]+) s", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"posecast edge failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return int(m.group(1)) / float(m.group(2))


def wasm_rates(server: LiveServer, backbones: list[str], seconds: float, workdir: Path) -> dict:
    """The live-page bench's raw rate: the page's backbone on wasm, on the same video as a webcam."""
    from playwright.sync_api import sync_playwright

    from bench.live_page import RAW_RATE_JS
    from tests.helpers import browser as hb

    camera = hb.make_y4m(shared(VIDEO), workdir / "pose_1.y4m", fps=30)
    out = {}
    with sync_playwright() as pw, hb.chromium(pw, camera=camera) as browser:
        page = browser.new_context(permissions=["camera"]).new_page()
        for backbone in backbones:
            page.goto(f"{server.url}/?source=none&backbone=posenet")
            page.wait_for_function("() => window.posecast && posecast.status === 'ready'", timeout=120_000)
            out[backbone] = page.evaluate(RAW_RATE_JS, [backbone, seconds])
    return out


def worker(executor: str, backbone: str, n: int, threads: int | None = None) -> dict:
    """One executor in a process of its own (TensorFlow's spinning thread pool slowed OpenVINO by
    a quarter in a shared process): its rate, and first-pose keypoints for the agreement.
    "openvino-bf16" is OpenVINO with `--precision bf16`."""
    frames = frames_of(shared(VIDEO), n)
    executor, _, precision = executor.partition("-")
    options = {"threads": threads} if threads and executor == "openvino" else {}
    if precision:
        options["precision"] = precision
    est = runtime.load(backbone, executor, **options)
    rate, poses = track_all(est, frames)
    stills = frames[:: max(1, len(frames) // 20)]  # the same pixels, no crop carried between frames
    first = (lambda ps: [[k["x"], k["y"], k["score"]] for k in ps[0].keypoints] if ps else [])
    return {"rate": rate, "model_rate": model_rate(est),
            "track": [first(p) for p in poses], "still": [first(est.estimate(f)) for f in stills]}


def run_worker(executor: str, backbone: str, n: int, threads: int | None) -> dict:
    threads_arg = ["--ov-threads", str(threads)] if threads else []
    r = subprocess.run([sys.executable, "-m", "bench.edge", "--worker", executor, backbone, "--frames", str(n),
                        *threads_arg],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"{executor} {backbone} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(server, backbone: str, args, wasm: float | None, workdir: Path) -> dict:
    """OpenVINO, TensorFlow and the loop alternate `rounds` times (medians): the machine's other
    load then falls on all three alike."""
    load_before = os.getloadavg()[0]
    ov, tf, loops, bf16 = [], [], [], []
    for i in range(args.rounds):
        ov.append(run_worker("openvino", backbone, args.frames, args.ov_threads))
        if args.bf16 and backbone != "posenet":  # the edge node refuses bf16 for PoseNet
            bf16.append(run_worker("openvino-bf16", backbone, args.frames, args.ov_threads))
        tf.append(run_worker("tensorflow", backbone, args.frames, None))
        loops.append(loop_rate(server, backbone, args.loop_frames, workdir / str(i), args.ov_threads))
    return {"backbone": backbone, "openvino_per_s": statistics.median(w["rate"] for w in ov),
            "tensorflow_per_s": statistics.median(w["rate"] for w in tf), "wasm_per_s": wasm,
            "model_per_s": statistics.median(w["model_rate"] for w in ov),
            "tf_model_per_s": statistics.median(w["model_rate"] for w in tf), "loop_per_s": statistics.median(loops),
            "rounds": {"openvino": [w["rate"] for w in ov], "tensorflow": [w["rate"] for w in tf], "loop": loops},
            "agreement_track": agreement(ov[0]["track"], tf[0]["track"]),
            "agreement_still": agreement(ov[0]["still"], tf[0]["still"]),
            "bf16": bf16 and {"per_s": statistics.median(w["rate"] for w in bf16),
                              "model_per_s": statistics.median(w["model_rate"] for w in bf16),
                              "agreement_still_vs_f32": agreement(ov[0]["still"], bf16[0]["still"])},
            "load": (load_before, os.getloadavg()[0])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=list(runtime.BACKBONES), choices=runtime.BACKBONES)
    parser.add_argument("--frames", type=int, default=120, help="frames per rate measurement")
    parser.add_argument("--loop-frames", type=int, default=400, help="frames of the whole edge loop")
    parser.add_argument("--rounds", type=int, default=3, help="alternating OpenVINO/TensorFlow/loop rounds")
    parser.add_argument("--ov-threads", type=int, help="OpenVINO inference threads (default: OpenVINO's choice)")
    parser.add_argument("--no-wasm", action="store_true", help="skip the browser (needs chromium)")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false",
                        help="skip OpenVINO in bf16 (`posecast edge --precision bf16`) and its keypoints vs f32")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "edge.json")
    parser.add_argument("--worker", nargs=2, metavar=("EXECUTOR", "BACKBONE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker, args.frames, args.ov_threads)))
        return 0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp)).start()
        try:
            wasm = {} if args.no_wasm else wasm_rates(server, args.backbones, 5.0, Path(tmp))
            for backbone in args.backbones:
                results.append(measure(server, backbone, args, wasm.get(backbone), Path(tmp)))
                print_row(results[-1], header=len(results) == 1)
        finally:
            server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cpus": os.cpu_count(), "frames": args.frames, "ov_threads": args.ov_threads,
                                    "results": results}, indent=2))
    return 0


def print_row(r: dict, header: bool) -> None:
    if header:
        print(f"{os.cpu_count()} CPUs; {VIDEO}; estimates/s, medians; keypoints OpenVINO vs TensorFlow in px "
              "(track: video, crops carried; still: same pixels)")
        print(f"{'backbone':<19}{'OV':>7}{'TF':>7}{'OV/TF':>7}{'wasm':>7}{'OV model':>9}{'loop':>7}{'loop/OV':>8}"
              f"{'loop/model':>11}{'TF model':>9}{'OV/TF model':>12}{'track med/max':>15}{'still med/max':>15}{'load':>12}")
    t, s = r["agreement_track"], r["agreement_still"]
    wasm = f"{r['wasm_per_s']:>7.1f}" if r["wasm_per_s"] else f"{'-':>7}"
    print(f"{r['backbone']:<19}{r['openvino_per_s']:>7.1f}{r['tensorflow_per_s']:>7.1f}"
          f"{r['openvino_per_s'] / r['tensorflow_per_s']:>6.2f}x{wasm}{r['model_per_s']:>9.1f}{r['loop_per_s']:>7.1f}"
          f"{r['loop_per_s'] / r['openvino_per_s']:>8.2f}{r['loop_per_s'] / r['model_per_s']:>11.2f}"
          f"{r['tf_model_per_s']:>9.1f}{r['model_per_s'] / r['tf_model_per_s']:>11.2f}x"
          f"{t['median_px'] or 0:>8.3f}/{t['max_px'] or 0:<6.2f}{s['median_px'] or 0:>8.3f}/{s['max_px'] or 0:<6.2f}"
          f"{r['load'][0]:>6.1f}/{r['load'][1]:<5.1f}", flush=True)
    if r.get("bf16"):
        b, a = r["bf16"], r["bf16"]["agreement_still_vs_f32"]
        print(f"{'':<19}bf16: {b['per_s']:.1f}/s ({b['per_s'] / r['openvino_per_s']:.2f}x f32, "
              f"{b['per_s'] / r['tensorflow_per_s']:.2f}x TF), model {b['model_per_s']:.1f}/s "
              f"({b['model_per_s'] / r['tf_model_per_s']:.2f}x TF's); keypoints vs f32 "
              f"median {a['median_px'] or 0:.2f} / max {a['max_px'] or 0:.2f} px", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""Pose runtime benchmark: per backbone, milliseconds per estimate on TensorFlow and on OpenVINO
(f32) on this machine's CPU, same photos, same pre- and post-processing.

`track` is one pass per video frame (the crop carried from the last frame), `estimate` a still
image (first frame + the refined second pass, so about twice the model time). Medians of the wall
time; with --threads 1 (one inference thread, as training's extraction workers run: runtime/
parallel.py) also the CPU time per still image, which other jobs on the machine change much less.

    .venv/bin/python -m bench.runtime [--repeat 20] [--backbone NAME ...] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import runtime  # noqa: E402
from tests.helpers.paths import shared  # noqa: E402

IMAGES = ["images/pose.jpg", "images/tennis_standing.jpg", "images/three_people.jpg"]


def load_image(name: str):
    import tensorflow as tf

    return tf.io.decode_image(tf.io.read_file(str(shared(name))), channels=3, expand_animations=False).numpy()


def median_ms(fn, images, repeat: int) -> tuple[float, float]:
    """(median wall ms, mean CPU ms of this process) per call."""
    for img in images:  # warm-up (first OpenVINO inference, TF tracing)
        fn(img)
    times = []
    cpu0 = time.process_time()
    for _ in range(repeat):
        for img in images:
            t0 = time.perf_counter()
            fn(img)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), (time.process_time() - cpu0) * 1000 / len(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--backbone", nargs="*", default=list(runtime.BACKBONES))
    parser.add_argument("--threads", type=int, help="inference threads (default: each executor's own choice)")
    args = parser.parse_args(argv)
    if args.threads:  # TensorFlow reads these when it starts (the photos' decoding below starts it)
        os.environ.update(TF_NUM_INTRAOP_THREADS=str(args.threads), TF_NUM_INTEROP_THREADS="1")
    options = {"openvino": {"threads": args.threads} if args.threads else {}, "tensorflow": {}}
    images = [load_image(name) for name in IMAGES]
    print(f"{os.cpu_count()} CPUs, {args.threads or 'default'} inference threads; median ms over {args.repeat} x "
          f"{len(images)} photos (CPU: mean ms of CPU time per still image); load {os.getloadavg()[0]:.1f}")
    print(f"{'backbone':<20}{'TF track':>10}{'OV track':>10}{'speed-up':>10}{'TF still':>10}{'OV still':>10}"
          f"{'TF CPU':>10}{'OV CPU':>10}")
    for backbone in args.backbone:
        row = {}
        for executor in runtime.EXECUTORS:
            est = runtime.load(backbone, executor, **options[executor])
            row[executor, "track"] = median_ms(est.track, images, args.repeat)[0]
            row[executor, "still"], row[executor, "cpu"] = median_ms(est.estimate, images, args.repeat)
        print(f"{backbone:<20}{row['tensorflow', 'track']:>10.1f}{row['openvino', 'track']:>10.1f}"
              f"{row['tensorflow', 'track'] / row['openvino', 'track']:>9.2f}x"
              f"{row['tensorflow', 'still']:>10.1f}{row['openvino', 'still']:>10.1f}"
              f"{row['tensorflow', 'cpu']:>10.1f}{row['openvino', 'cpu']:>10.1f}", flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

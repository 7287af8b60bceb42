"""Pose runtime benchmark: per backbone, milliseconds per estimate on TensorFlow and on OpenVINO
(f32) on this machine's CPU, same photos, same pre- and post-processing.

`track` is one pass per video frame (the crop carried from the last frame), `estimate` a still
image (first frame + the refined second pass, so about twice the model time). Medians.

    .venv/bin/python -m bench.runtime [--repeat 20] [--backbone NAME ...]
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


def median_ms(fn, images, repeat: int) -> float:
    for img in images:  # warm-up (first OpenVINO inference, TF tracing)
        fn(img)
    times = []
    for _ in range(repeat):
        for img in images:
            t0 = time.perf_counter()
            fn(img)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--backbone", nargs="*", default=list(runtime.BACKBONES))
    args = parser.parse_args(argv)
    images = [load_image(name) for name in IMAGES]
    print(f"{os.cpu_count()} CPUs; median ms over {args.repeat} x {len(images)} photos")
    print(f"{'backbone':<20}{'TF track':>10}{'OV track':>10}{'speed-up':>10}{'TF still':>10}{'OV still':>10}")
    for backbone in args.backbone:
        row = {}
        for executor in runtime.EXECUTORS:
            est = runtime.load(backbone, executor)
            row[executor, "track"] = median_ms(est.track, images, args.repeat)
            row[executor, "still"] = median_ms(est.estimate, images, args.repeat)
        print(f"{backbone:<20}{row['tensorflow', 'track']:>10.1f}{row['openvino', 'track']:>10.1f}"
              f"{row['tensorflow', 'track'] / row['openvino', 'track']:>9.2f}x"
              f"{row['tensorflow', 'still']:>10.1f}{row['openvino', 'still']:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

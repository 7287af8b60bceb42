"""Training benchmark: Python feature extraction rate, train + export time for 1,000 samples for
both feature types, and their accuracy on yoga5 with whole subjects held out, side by side.

    .venv/bin/python -m bench.training            # needs ../shared/data/yoga5
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import training  # noqa: F401  (tf_keras environment first)
from tests.helpers.paths import ROOT, shared
from training import data, export, features, train
from training.posenet import PoseNet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args(argv)

    samples = data.from_folder(shared("yoga5", "train"))
    net = PoseNet(ROOT / "assets" / "pose" / "posenet.json")
    net.run(__import__("training.posenet", fromlist=["load_image"]).load_image(samples[0].path))  # warm-up
    labels, groups = [s.label for s in samples], [s.group for s in samples]
    rows = []
    for kind in features.KINDS:
        t0 = time.perf_counter()
        x = features.extract(samples, kind, net)
        extract_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        model, classes, report = train.train(x, labels, groups, kind, epochs=args.epochs)
        with tempfile.TemporaryDirectory() as tmp:
            export.export(model, classes, kind, Path(tmp) / "m", name="bench", report=report)
        train_s = time.perf_counter() - t0
        rows.append((kind, len(samples), extract_s, train_s, report))

    print(f"{'features':<10}{'images':>7}{'extract s':>11}{'img/s':>8}{'train+export s':>16}{'held-out acc':>14}  per class")
    for kind, n, extract_s, train_s, report in rows:
        val = report["validation"]
        per_class = " ".join(f"{k} {v:.2f}" for k, v in val["per_class"].items())
        print(f"{kind:<10}{n:>7}{extract_s:>11.1f}{n / extract_s:>8.1f}{train_s:>16.1f}{val['accuracy']:>14.3f}  {per_class}")
    print(f"held out: {', '.join(rows[0][4]['validation_groups'])}; targets: 1,000 images -> features <= 30 s, "
          f"keypoint train + export <= 20 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training benchmark on yoga5 (1,000 images, 6 subjects): per feature set and augmentation, the
extraction rate, leave-one-subject-out accuracy (mean, worst subject, per class), the rejection
threshold, and train + export time of the final model (trained on all images); the Teachable-
Machine-style model (`tm`) on the same folds beside it.

    .venv/bin/python -m bench.training                 # needs ../shared/data/yoga5
    .venv/bin/python -m bench.training --ablations     # also: each feature block / augmentation off

PoseNet's keypoints and TM features are cached in .cache/bench-training/ (reruns skip extraction;
--fresh extracts again).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import training  # noqa: F401  (tf_keras environment first)
from core import features as core_features
from tests.helpers.paths import ROOT, shared
from training import data, export, features, train
from training.augment import NONE, Augment
from training.posenet import PoseNet, load_image

CACHE = ROOT / ".cache" / "bench-training"
DEFAULT = Augment()
# (label, kind, augmentation, pose blocks zeroed): the default first, then what each part buys.
RUNS = [("pose + aug (default)", "pose", DEFAULT, ()),
        ("pose, no aug", "pose", NONE, ()),
        ("keypoints + aug", "keypoints", DEFAULT, ()),
        ("keypoints, no aug (v1)", "keypoints", NONE, ()),
        ("tm (Teachable Machine)", "tm", NONE, ())]
ABLATIONS = [("pose + aug, no angles", "pose", DEFAULT, ("angles",)),
             ("pose + aug, no distances", "pose", DEFAULT, ("distances",)),
             ("pose + aug, no angles/dist", "pose", DEFAULT, ("angles", "distances")),
             ("pose + aug, no mirror", "pose", dataclasses.replace(DEFAULT, mirror=False), ()),
             ("pose + aug, no rotate/stretch", "pose", dataclasses.replace(DEFAULT, rotate_deg=0, stretch=0), ()),
             ("pose + aug, no drop", "pose", dataclasses.replace(DEFAULT, drop=0), ()),
             ("pose + aug, no jitter", "pose", dataclasses.replace(DEFAULT, jitter=0), ())]


def extracted(samples, fresh: bool) -> dict:
    """{"keypoints": (N, 17, 3), "tm": (N, 14739), "posenet_s": seconds}, cached on disk."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = CACHE / "yoga5-posenet.npz"
    names = [str(s.path.relative_to(s.path.parents[1])) for s in samples]
    if cache.exists() and not fresh:
        got = np.load(cache)
        if list(got["names"]) == names:
            return {"keypoints": got["keypoints"], "tm": got["tm"], "posenet_s": float(got["posenet_s"])}
    net = PoseNet(ROOT / "assets" / "pose" / "posenet.json")
    net.run(load_image(samples[0].path))  # warm-up
    t0 = time.perf_counter()
    out = features.extract_all(samples, net, kinds=("keypoints", "tm"))
    posenet_s = time.perf_counter() - t0
    np.savez(cache, names=np.array(names), keypoints=out["keypoints"], tm=out["tm"], posenet_s=posenet_s)
    return {**out, "posenet_s": posenet_s}


def zeroing(blocks):
    """core.features.matrix with some `pose` blocks zeroed (a constant column carries nothing)."""
    def matrix(kind, kps):
        rows = core_features.matrix(kind, kps)
        for block in blocks:
            rows[:, core_features.POSE_BLOCKS[block]] = 0
        return rows
    return matrix


def run_one(kind, aug, blocks, x, labels, groups, epochs):
    train.matrix = zeroing(blocks)  # the bench's ablation hook; the library itself never zeroes
    try:
        model, classes, report = train.train(x, labels, groups, kind, epochs=epochs, aug=aug, final=False)
        t0 = time.perf_counter()
        model = train.fit(kind, x, np.array([classes.index(label) for label in labels]), len(classes), aug=aug,
                          epochs=epochs, batch_size=report["batch_size"], seed=0)[0]
        with tempfile.TemporaryDirectory() as tmp:
            export.export(model, classes, kind, Path(tmp) / "m", name="bench", report=report)
        return report, time.perf_counter() - t0
    finally:
        train.matrix = core_features.matrix


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--ablations", action="store_true", help="also each feature block / augmentation off")
    parser.add_argument("--only", help="comma-separated kinds to run (e.g. pose,keypoints)")
    parser.add_argument("--fresh", action="store_true", help="extract again instead of using the cache")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)

    samples = data.from_folder(shared("yoga5", "train"))
    labels, groups = [s.label for s in samples], [s.group for s in samples]
    got = extracted(samples, args.fresh)
    n = len(samples)
    runs = RUNS + (ABLATIONS if args.ablations else [])
    if args.only:
        runs = [r for r in runs if r[1] in args.only.split(",")]
    rows = []
    print(f"{n} images, subjects {sorted(set(groups))}; PoseNet {got['posenet_s']:.1f} s ({n / got['posenet_s']:.1f} img/s)")
    print(f"{'features':<30}{'feat s':>7}{'img/s':>7}{'CV s':>7}{'train+exp s':>12}{'LOSO mean':>10}{'worst':>16}"
          f"{'reject <':>9}  per class")
    for label, kind, aug, blocks in runs:
        x = got["tm"] if kind == "tm" else got["keypoints"]
        t0 = time.perf_counter()
        if kind != "tm":
            core_features.matrix(kind, x)
        feat_s = got["posenet_s"] + time.perf_counter() - t0
        report, final_s = run_one(kind, aug, blocks, x, labels, groups, args.epochs)
        val = report["validation"]
        rows.append({"run": label, "kind": kind, "augmentation": aug.as_dict(), "zeroed": list(blocks),
                     "features_s": feat_s, "cross_validation_s": report["cross_validation_s"],
                     "train_export_s": final_s, **{k: val[k] for k in ("accuracy", "worst_fold", "worst_accuracy",
                                                                         "per_fold", "per_class", "confusion", "rejection")}})
        per_class = " ".join(f"{k} {v:.3f}" for k, v in val["per_class"].items())
        print(f"{label:<30}{feat_s:>7.1f}{n / feat_s:>7.1f}{report['cross_validation_s']:>7.1f}{final_s:>12.1f}"
              f"{val['accuracy']:>10.3f}{val['worst_accuracy']:>8.3f} {val['worst_fold']:<7}"
              f"{val['rejection']['threshold']:>9.2f}  {per_class}", flush=True)
    print("targets: mean LOSO >= 0.97 with the default, no class < 0.93, >= 5 points above tm; train + export <= 30 s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

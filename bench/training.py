"""Training benchmark on yoga5 (1,000 images, 6 subjects), per backbone x feature set: the
extraction rate, leave-one-subject-out accuracy (mean, worst subject, per class), the rejection
threshold, and train + export time of the final model (trained on all images); the Teachable-
Machine-style model (`tm`, PoseNet only) on the same folds beside them. Every fold's model is also
run on the other backbones' keypoints of its held-out images (the cross-backbone figure: may a
model trained on Thunder run on Lightning?).

    .venv/bin/python -m bench.training                          # needs ../shared/data/yoga5
    .venv/bin/python -m bench.training --backbones movenet-thunder,posenet --only pose
    .venv/bin/python -m bench.training --ablations              # also: each feature block / augmentation off
    .venv/bin/python -m bench.training --backbones blazepose-heavy --only keypoints --epochs 120 --ensemble 3
    .venv/bin/python -m bench.training --backbones blazepose-heavy --only keypoints,world --epochs 120 --ensemble 3

`world` (BlazePose's 3-D view besides the keypoints) runs on the BlazePose backbones only, its
members in threes (one per view: with --ensemble not a multiple of 3 it trains 3).

Each backbone's keypoints (and PoseNet's TM features) are cached in .cache/bench-training/
(reruns skip extraction; --fresh extracts again).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import training  # noqa: F401  (tf_keras environment first)
from core import features as core_features
from tests.helpers.paths import ROOT, shared
from training import data, evaluate, export, features, train
from training.augment import NONE, Augment

CACHE = ROOT / ".cache" / "bench-training"
BACKBONES = ("blazepose-heavy", "movenet-thunder", "movenet-lightning", "movenet-multipose", "posenet",
             "blazepose-lite", "blazepose-full")
DEFAULT = Augment()
# (label, kind, augmentation, pose blocks zeroed), run on every backbone: the default first.
RUNS = [("keypoints + aug", "keypoints", DEFAULT, ()),
        ("pose + aug", "pose", DEFAULT, ()),
        ("world + aug", "world", train.default_augment("world"), ())]  # its members K and B see the camera turned
NO_AUG = [("keypoints, no aug", "keypoints", NONE, ()),
          ("pose, no aug", "pose", NONE, ())]
ABLATIONS = [("pose + aug, no angles", "pose", DEFAULT, ("angles",)),
             ("pose + aug, no distances", "pose", DEFAULT, ("distances",)),
             ("pose + aug, no angles/dist", "pose", DEFAULT, ("angles", "distances")),
             ("pose + aug, no mirror", "pose", dataclasses.replace(DEFAULT, mirror=False), ()),
             ("pose + aug, no rotate/stretch", "pose", dataclasses.replace(DEFAULT, rotate_deg=0, stretch=0), ()),
             ("pose + aug, no drop", "pose", dataclasses.replace(DEFAULT, drop=0), ()),
             ("pose + aug, no jitter", "pose", dataclasses.replace(DEFAULT, jitter=0), ())]
TM_RUN = ("tm (Teachable Machine)", "tm", NONE, ())


def extracted(backbone: str, samples, fresh: bool, workers: int | None = None) -> dict | None:
    """{"keypoints": (N, 17, 3), "world"?: (N, 17, 6), "tm"?: (N, 14739), "extract_s", "extract_cpu_s", "executor",
    "workers", "load" (the load average as it ended), "no_pose"}, cached on disk; None when the
    runtime has no such backbone (yet). Extraction runs as `posecast train` runs it:
    features.extractor(), worker processes of one inference thread; extract_cpu_s is the CPU time
    of this process and the workers (what other jobs on the machine change much less than the
    wall time)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = CACHE / f"yoga5-{backbone}.npz"
    names = [str(s.path.relative_to(s.path.parents[1])) for s in samples]
    world = not core_features.backbone_problem("world", backbone)
    if cache.exists() and not fresh:
        got = np.load(cache)
        if list(got["names"]) == names and (not world or "world" in got.files):  # older caches lack it
            return {k: (got[k] if got[k].ndim else got[k].item()) for k in got.files if k != "names"}
    try:
        pool = features.extractor(backbone, workers=workers)
    except ValueError:
        return None
    kinds = ("keypoints", "tm") if backbone == "posenet" else ("keypoints", "world") if world else ("keypoints",)
    with pool:
        # warm-up: every worker loads its models (and OpenVINO converts once) before the clock starts
        features.extract_all(samples[:2 * pool.workers], pool, kinds=kinds)
        cpu0, t0 = cpu_seconds(pool), time.perf_counter()
        out = features.extract_all(samples, pool, kinds=kinds)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pool) - cpu0
    got = {**out, "extract_s": wall, "extract_cpu_s": cpu, "executor": pool.executor, "workers": pool.workers,
           "load": os.getloadavg()[0],
           "no_pose": int((out["keypoints"][:, :, 2].max(1) == 0).sum())}
    np.savez(cache, names=np.array(names), **got)
    return got


def cpu_seconds(pool) -> float:
    """User + system CPU seconds of this process and the pool's workers so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(os.times()[:2])
    for pid in pool.pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def zeroing(blocks):
    """core.features.matrix with some `pose` blocks zeroed (a constant column carries nothing)."""
    def matrix(kind, kps):
        rows = core_features.matrix(kind, kps)
        for block in blocks:
            rows[:, core_features.POSE_BLOCKS[block]] = 0
        return rows
    return matrix


def run_one(kind, aug, blocks, xs: dict, source: str, labels, groups, epochs, ensemble=1):
    """Leave-one-subject-out with models trained on `source`'s inputs, each fold's model also run on
    every other backbone's inputs of its held-out subject: ({backbone: summary}, cv s, train+export s)."""
    train.matrix = zeroing(blocks)  # the bench's ablation hook; the library itself never zeroes
    try:
        classes = sorted(set(labels))
        y = np.array([classes.index(label) for label in labels])
        members = members_of(kind, ensemble)
        opts = dict(aug=aug, chiral=np.zeros(len(classes), bool), epochs=epochs, batch_size=16, seed=0, members=members)
        fold_list = evaluate.folds(labels, groups, seed=0)
        probs = {b: np.zeros((len(y), len(classes))) for b in xs}
        t0 = time.perf_counter()
        for _, val in fold_list:
            tr = np.setdiff1d(np.arange(len(y)), val)
            model = train.fit(kind, xs[source][tr], y[tr], len(classes), **opts)[0]
            for b, x in xs.items():
                probs[b][val] = train.predict(model, kind, x[val])
        cv_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = train.fit(kind, xs[source], y, len(classes), **opts)[0]
        summaries = {b: evaluate.summary(y, p, fold_list, classes, groups, evaluate.found_rows(xs[b]))
                     for b, p in probs.items()}
        report = {"validation": summaries[source], "augmentation": aug.as_dict(), "chiral": []}
        with tempfile.TemporaryDirectory() as tmp:
            export.export(model, classes, kind, Path(tmp) / "m", name="bench", report=report, backbone=source)
        return summaries, cv_s, time.perf_counter() - t0
    finally:
        train.matrix = core_features.matrix


def members_of(kind: str, ensemble: int) -> int:
    """How many models a run merges: --ensemble for keypoint kinds (world: in threes), tm one."""
    if kind not in features.KEYPOINT_KINDS:
        return 1
    return ensemble if not core_features.ensemble_problem(kind, ensemble) else len(core_features.VIEWS.get(kind, ((),)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--ensemble", type=int, default=1, help="keypoint kinds: N models merged (train --ensemble)")
    parser.add_argument("--backbones", default=",".join(BACKBONES), help="comma-separated (default: all)")
    parser.add_argument("--no-aug", action="store_true", help="also each feature set without augmentation")
    parser.add_argument("--ablations", action="store_true", help="also each feature block / augmentation off")
    parser.add_argument("--only", help="comma-separated kinds to run (e.g. pose,tm)")
    parser.add_argument("--fresh", action="store_true", help="extract again instead of using the cache")
    parser.add_argument("--workers", type=int, help="extraction worker processes (default: one per core)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)

    samples = data.from_folder(shared("yoga5", "train"))
    labels, groups = [s.label for s in samples], [s.group for s in samples]
    n = len(samples)
    got = {}
    print(f"{n} images, subjects {sorted(set(groups))}")
    for b in args.backbones.split(","):
        out = extracted(b, samples, args.fresh, args.workers)
        if out is None:
            print(f"{b}: not in runtime/ yet, skipped")
            continue
        got[b] = out
        how = f"{out['executor']}" + (f" x{out['workers']}, {out['extract_cpu_s'] * 1000 / n:.0f} ms CPU/image, "
                                      f"load {out['load']:.1f}" if "load" in out else "")
        print(f"{b}: {out['extract_s']:.1f} s ({n / out['extract_s']:.1f} img/s, {how}), "
              f"no pose in {out['no_pose']} images, keypoints scoring >= 0.2: "
              f"{(out['keypoints'][:, :, 2] >= 0.2).mean():.2f}", flush=True)
    keypoints = {b: g["keypoints"] for b, g in got.items()}
    worlds = {b: g["world"] for b, g in got.items() if "world" in g}
    runs = [(b, *r) for b in got for r in RUNS + (NO_AUG if args.no_aug else []) + (ABLATIONS if args.ablations else [])
            if r[1] != "world" or b in worlds]
    if "posenet" in got:
        runs.append(("posenet", *TM_RUN))
    if args.only:
        runs = [r for r in runs if r[2] in args.only.split(",")]
    rows = []
    print(f"{'backbone':<19}{'features':<28}{'img/s':>7}{'CV s':>7}{'train+exp s':>12}{'LOSO mean':>10}{'worst':>16}"
          f"{'reject <':>9}  per class")
    for backbone, label, kind, aug, blocks in runs:
        xs = {"posenet": got["posenet"]["tm"]} if kind == "tm" else worlds if kind == "world" else keypoints
        summaries, cv_s, final_s = run_one(kind, aug, blocks, xs, backbone, labels, groups, args.epochs, args.ensemble)
        val = summaries[backbone]
        cross = {b: round(s["accuracy"], 4) for b, s in summaries.items() if b != backbone}
        rows.append({"backbone": backbone, "run": label, "kind": kind, "augmentation": aug.as_dict(),
                     "epochs": args.epochs, "ensemble": members_of(kind, args.ensemble),
                     "zeroed": list(blocks), "extract_s": got[backbone]["extract_s"], "cross_validation_s": cv_s,
                     "train_export_s": final_s, "run_on_other_backbones": cross,
                     **{k: val[k] for k in ("accuracy", "worst_fold", "worst_accuracy", "per_fold", "per_class",
                                            "confusion", "rejection")}})
        per_class = " ".join(f"{k} {v:.3f}" for k, v in val["per_class"].items())
        print(f"{backbone:<19}{label:<28}{n / got[backbone]['extract_s']:>7.1f}{cv_s:>7.1f}{final_s:>12.1f}"
              f"{val['accuracy']:>10.3f}{val['worst_accuracy']:>8.3f} {val['worst_fold']:<7}"
              f"{val['rejection']['threshold']:>9.2f}  {per_class}", flush=True)
        if cross:
            print(f"{'':<19}  run on: " + ", ".join(f"{b} {a:.3f}" for b, a in cross.items()), flush=True)
        if args.json:  # after every row: a long run keeps what it measured
            args.json.write_text(json.dumps(rows, indent=1))
    print("targets: mean LOSO >= 0.97 with the default, no class < 0.93, >= 5 points above tm; train + export <= 30 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`posecast train`: a folder of class sub-folders -> features -> model -> TF.js export."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from server.config import PROJECT_ROOT


def _bar(done: int, total: int, text: str = "", width: int = 30) -> None:
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {text}".ljust(100) + end)
    sys.stderr.flush()


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a pose classifier and export it to TF.js")
    p.add_argument("data", type=Path, help="folder with one sub-folder of images per class")
    p.add_argument("--features", choices=("keypoints", "tm"), default="keypoints",
                   help="keypoints (any backbone, default) or tm (Teachable Machine's PoseNet features)")
    p.add_argument("--name", help="model name (default: the data folder's name)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--per-class", type=int, help="use only this many images per class")
    p.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / "tfjs_models")
    p.add_argument("--weights", type=Path, default=PROJECT_ROOT / "assets" / "pose" / "posenet.json",
                   help="PoseNet graph model used for feature extraction")
    p.set_defaults(func=run)


def run(args) -> int:
    import training  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    from training import data, export, features, train
    from server.registry import next_version
    from training.posenet import PoseNet

    name = args.name or args.data.resolve().name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        print(f"posecast train: invalid model name {name!r}", file=sys.stderr)
        return 2
    try:
        samples = data.from_folder(args.data)
        if args.per_class:
            samples = data.take_per_class(samples, args.per_class)
    except data.DatasetError as exc:
        print(f"posecast train: {exc}", file=sys.stderr)
        return 2
    if not args.weights.exists():
        print(f"posecast train: {args.weights} not found (run `make setup`)", file=sys.stderr)
        return 2
    print(f"{len(samples)} images, {len({s.label for s in samples})} classes, {len({s.group for s in samples})} groups")
    net = PoseNet(args.weights)
    print(f"extracting {args.features} features")
    x = features.extract(samples, args.features, net, progress=_bar)
    print(f"training ({args.epochs} epochs)")
    model, classes, report = train.train(
        x, [s.label for s in samples], [s.group for s in samples], args.features, epochs=args.epochs,
        on_epoch=lambda e, n, logs: _bar(e, n, f"loss {logs['loss']:.3f} acc {logs['accuracy']:.2f} "
                                               f"val_acc {logs.get('val_accuracy', 0):.2f}"))
    folder = args.models_dir / name
    out = export.export(model, classes, args.features, folder / str(next_version(folder)), name=name, report=report)
    val = report["validation"]
    print(f"validation accuracy {val['accuracy']:.3f} (held out: {', '.join(report['validation_groups']) or 'random'})")
    print(json.dumps(val["per_class"]))
    print(f"exported to {out}")
    return 0

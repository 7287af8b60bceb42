"""`posecast poses INPUT... [--backbone] [--format openpose|coco|csv|jsonl] [--out DIR] [--annotate]`:
per-frame keypoints of images, folders and videos in the formats pose tools read (formats.py),
with a progress bar on stderr. Runs the pose runtime in this process (no server needed)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.tables import BACKBONES, DEFAULT_BACKBONE

from .formats import FORMATS, Frame, Writer, stem
from .video import VIDEO_SUFFIXES

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_PIXELS = 100_000_000  # local files, but still no 50k x 50k bomb


def add_parser(sub) -> None:
    p = sub.add_parser("poses", help="keypoints of images, folders and videos as OpenPose, COCO, CSV or JSONL")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image, video or folder (its images and videos)")
    p.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=tuple(BACKBONES), help=f"default {DEFAULT_BACKBONE}")
    p.add_argument("--format", default="jsonl", choices=FORMATS, help="default jsonl")
    p.add_argument("--out", default="poses", type=Path, help="output folder (default ./poses)")
    p.add_argument("--annotate", action="store_true", help="also write <name>.annotated.png / .mp4 with skeletons")
    p.add_argument("--max-people", type=int, default=None, help="default 1 (6 for movenet-multipose)")
    p.add_argument("--threshold", type=float, default=0.0, help="leave out people scoring under it")
    p.add_argument("--model", type=Path, help="an export folder (tfjs_models/NAME/VERSION): label each person")
    p.add_argument("--executor", default="openvino", choices=("openvino", "tensorflow"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)


def collect(inputs: list[str]) -> list[Path]:
    out = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES)
        elif path.is_file():
            out.append(path)
        else:
            raise SystemExit(f"posecast poses: {raw}: no such file or folder")
    if not out:
        raise SystemExit("posecast poses: no images or videos in the inputs")
    return out


class Progress:
    """A one-line bar on stderr: done/total, rate and the file at hand."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.done, self.quiet, self.t0, self.shown = max(total, 1), 0, quiet, time.monotonic(), 0.0

    def step(self, name: str, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.quiet or (now - self.shown < 0.2 and self.done < self.total):
            return
        self.shown = now
        frac = min(1.0, self.done / self.total)
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        rate = self.done / max(now - self.t0, 1e-9)
        sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} {rate:5.1f}/s {name[-30:]:30}")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")


def _classifier(folder: Path | None):
    if folder is None:
        return None
    from .classifier import Classifier

    meta = json.loads((folder / "posecast.json").read_text())
    return Classifier({"name": meta.get("name", folder.parent.name), "version": folder.name, "dir": str(folder),
                       "features": meta["features"], "labels": meta["labels"],
                       "threshold": (meta.get("rejection") or {}).get("threshold"),
                       "normalisation": meta.get("normalisation")})


def main(args: argparse.Namespace) -> int:
    import runtime

    from . import draw, video
    from .classifier import backbone_problem
    from .images import BadImage, decode
    from .infer import run

    if args.backbone not in runtime.BACKBONES:
        print(f"posecast poses: {args.backbone} does not run in Python yet ({', '.join(runtime.BACKBONES)})", file=sys.stderr)
        return 2
    paths = collect(args.inputs)
    max_people = args.max_people or (6 if BACKBONES[args.backbone].get("multi") == "always" else 1)
    classifier = _classifier(args.model)
    problem = classifier and backbone_problem(classifier.name, classifier.kind, args.backbone)
    if problem:
        print(f"posecast poses: {problem}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    estimator = runtime.load(args.backbone, executor=args.executor)
    writer = Writer(args.format, lambda name: open(args.out / name, "w", newline=""), args.backbone)
    total = sum(video.info(p)[0] if p.suffix.lower() in VIDEO_SUFFIXES else 1 for p in paths)
    progress, failed = Progress(total, args.quiet), 0
    for index, path in enumerate(paths):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            estimator.reset()
            mp4 = video.Mp4Writer(args.out / f"{stem(path.name)}.annotated.mp4", video.info(path)[1]) if args.annotate else None
            for i, t, rgb in video.frames(path, MAX_PIXELS):
                people, _ = run(estimator, rgb, max_people, args.threshold, classifier, video=True)
                writer.add(Frame(i, path.name, rgb.shape[1], rgb.shape[0], people, time_s=t, video=True))
                if mp4:
                    mp4.write(draw.annotate(rgb, people))
                progress.step(path.name)
            if mp4:
                mp4.close()
            continue
        try:
            rgb = decode(path.read_bytes(), MAX_PIXELS)
        except BadImage as exc:
            print(f"\nposecast poses: {path}: {exc}", file=sys.stderr)
            failed += 1
            progress.step(path.name)
            continue
        people, _ = run(estimator, rgb, max_people, args.threshold, classifier)
        writer.add(Frame(index, path.name, rgb.shape[1], rgb.shape[0], people))
        if args.annotate:
            draw.write_png(args.out / f"{stem(path.name)}.annotated.png", draw.annotate(rgb, people))
        progress.step(path.name)
    writer.close()
    progress.close()
    print(f"wrote {len(writer.files)} {args.format} file(s) to {args.out}" + (f"; {failed} input(s) failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0

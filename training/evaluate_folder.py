"""An exported classifier end to end from pixels, on a folder of class sub-folders of images: the
model's backbone finds the pose (runtime/, as the page does for a still image; Teachable Machine
models get PoseNet's features from training/posenet.py), the export classifies it (numpy,
training/exported.py) and its rejection threshold applies. An image whose pose is not found, or
whose label is rejected, counts as wrong. `posecast evaluate` (server/models/evaluate_command.py)
prints the summary and writes the mistakes (write_csv here, training/contact_sheet.py)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.features import pose_inputs
from core.samples import IMAGE_SUFFIXES

from .data import DatasetError, Sample, subject_of
from .exported import Exported

NO_POSE = "no pose"  # a confusion-matrix column: the backbone found nobody
REJECTED = "unknown"  # the page's label for a rejected pose (training/train.py REJECTED_LABEL)


@dataclass
class Result:
    path: Path
    true: str
    said: str  # a class, REJECTED or NO_POSE
    best: str | None  # the top class even when rejected (None: no pose)
    confidence: float  # the top probability (0 without a pose)
    keypoints: list[dict] | None  # the pose classified, in image pixels
    width: int
    height: int

    @property
    def right(self) -> bool:
        return self.said == self.true


def images(root: Path) -> list[Sample]:
    """Every image of every class sub-folder (one class is enough to evaluate)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    found = [Sample(p, d.name, subject_of(p)) for d in sorted(x for x in root.iterdir() if x.is_dir())
             for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if not found:
        raise DatasetError(f"{root} has no class sub-folders with images")
    return found


class Poses:
    """What the model's pipeline sees of an image: (keypoints or None, the model's input row or None)."""

    def __init__(self, model: Exported, executor: str = "tensorflow"):
        self.model = model
        if model.kind == "tm":
            from core.paths import PROJECT_ROOT

            from .posenet import PoseNet

            self._posenet = PoseNet(PROJECT_ROOT / "assets" / "pose" / "posenet.json")
        else:
            import runtime

            if model.backbone not in runtime.BACKBONES:
                raise DatasetError(f"{model.name} runs on {model.backbone}, which has no Python runtime yet "
                                   f"({', '.join(runtime.BACKBONES)})")
            self._estimator = runtime.load(model.backbone, executor)

    def __call__(self, rgb: np.ndarray):
        if self.model.kind == "tm":  # Teachable Machine: the whole frame, padded square, one pass
            out = self._posenet.run(rgb)
            return out.keypoints(), out.tm_features()
        poses = self._estimator.estimate(rgb)
        if not poses:
            return None, None
        main = max(poses, key=lambda p: p.score)  # the page's mostConfident
        return main.keypoints, self.model.rows(pose_inputs(self.model.kind, main)[None])[0]


def evaluate(model: Exported, samples: list[Sample], poses: Poses | None = None, progress=None) -> list[Result]:
    from .posenet import load_image

    poses = poses or Poses(model)
    results = []
    for i, sample in enumerate(samples):
        rgb = load_image(sample.path)
        keypoints, row = poses(rgb)
        h, w = rgb.shape[:2]
        if row is None:
            results.append(Result(sample.path, sample.label, NO_POSE, None, 0.0, None, w, h))
        else:
            probs = model.predict(row[None])[0]
            best = int(probs.argmax())
            rejected = model.threshold is not None and probs[best] < model.threshold
            results.append(Result(sample.path, sample.label, REJECTED if rejected else model.labels[best],
                                  model.labels[best], float(probs[best]), keypoints, w, h))
        if progress:
            progress(i + 1, len(samples))
    return results


def summary(results: list[Result], labels: list[str]) -> dict:
    """Accuracy over every image, per true class, and the confusion matrix: rows the true classes
    (the model's, then any folder the model does not know), columns what was said (the model's
    classes, then `unknown` for a rejected pose and `no pose`)."""
    rows = list(labels) + sorted({r.true for r in results} - set(labels))
    columns = list(labels) + [REJECTED, NO_POSE]
    conf = np.zeros((len(rows), len(columns)), dtype=int)
    for r in results:
        conf[rows.index(r.true), columns.index(r.said)] += 1
    per_class = {c: {"images": int(conf[i].sum()), "right": int(conf[i, columns.index(c)]) if c in columns else 0}
                 for i, c in enumerate(rows) if conf[i].sum()}
    for v in per_class.values():
        v["accuracy"] = v["right"] / v["images"]
    right = sum(r.right for r in results)
    return {"images": len(results), "right": right, "accuracy": right / len(results) if results else 0.0,
            "no_pose": sum(r.said == NO_POSE for r in results), "rejected": sum(r.said == REJECTED for r in results),
            "per_class": per_class, "rows": rows, "columns": columns, "confusion": conf.tolist(),
            "unknown_classes": rows[len(labels):]}


def format_summary(s: dict) -> str:
    """The summary as text: accuracy, per class, the confusion matrix (rows true, columns said)."""
    lines = [f"accuracy {s['accuracy']:.3f} ({s['right']}/{s['images']} images; no pose found in {s['no_pose']}, "
             f"rejected {s['rejected']}: both count as wrong)", "", "per class:"]
    for c, v in s["per_class"].items():
        lines.append(f"  {c:<16} {v['accuracy']:.3f}  ({v['right']}/{v['images']})")
    if s["unknown_classes"]:
        lines.append(f"  (not classes of the model: {', '.join(s['unknown_classes'])}; always wrong)")
    width = max(6, *(len(c) for c in s["columns"] + s["rows"])) + 1
    lines += ["", "confusion matrix (rows: true class, columns: what the model said):",
              " " * width + "".join(c.rjust(width) for c in s["columns"])]
    for name, row in zip(s["rows"], s["confusion"]):
        lines.append(name.ljust(width) + "".join(str(n).rjust(width) for n in row))
    return "\n".join(lines)


def write_csv(results: list[Result], path: Path) -> int:
    """The mistakes, one row per image: path, true, said, best guess, confidence. Returns the count."""
    mistakes = [r for r in results if not r.right]
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["path", "true", "said", "best_guess", "confidence"])
        for r in mistakes:
            out.writerow([_cell(str(r.path)), _cell(r.true), r.said, _cell(r.best or ""), f"{r.confidence:.4f}"])
    return len(mistakes)


def _cell(text: str) -> str:
    """A cell a spreadsheet would read as a formula gets a leading ' (as the label export does)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

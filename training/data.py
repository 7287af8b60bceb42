"""Datasets: a folder of class sub-folders of images (e.g. ../shared/data/yoga5/train)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.samples import IMAGE_SUFFIXES


class DatasetError(ValueError):
    """The data cannot train a classifier; the message says why."""


@dataclass(frozen=True)
class Sample:
    path: Path
    label: str
    group: str  # samples of one group (a subject) are kept on one side of the validation split


def subject_of(path: Path) -> str:
    """yoga5 names start with the subject (girl1_..., guy2_...); other names are their own group."""
    stem = path.stem
    return stem.split("_", 1)[0] if "_" in stem else stem


def from_folder(root: Path) -> list[Sample]:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    samples = [
        Sample(path, folder.name, subject_of(path))
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    check(samples)
    return samples


def check(samples: list[Sample]) -> None:
    counts = Counter(s.label for s in samples)
    if len(counts) < 2:
        raise DatasetError(f"need at least 2 classes with samples, found {len(counts)}")
    empty = [label for label, n in counts.items() if n < 2]
    if empty:
        raise DatasetError(f"class(es) with fewer than 2 samples: {', '.join(sorted(empty))}")


def take_per_class(samples: list[Sample], n: int) -> list[Sample]:
    """The first n of each class, spread over groups (round-robin), for quick runs and tests."""
    out = []
    for label in sorted({s.label for s in samples}):
        by_group: dict[str, list[Sample]] = {}
        for s in samples:
            if s.label == label:
                by_group.setdefault(s.group, []).append(s)
        queues = [list(v) for _, v in sorted(by_group.items())]
        picked = []
        while len(picked) < n and any(queues):
            for q in queues:
                if q and len(picked) < n:
                    picked.append(q.pop(0))
        out += picked
    return out

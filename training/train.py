"""Training and evaluation: a validation split that holds out whole groups (subjects), per-class
accuracy and a confusion matrix."""
from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .data import DatasetError
from .model import build


@dataclass
class Split:
    train: np.ndarray
    val: np.ndarray
    val_groups: list[str] = field(default_factory=list)


def group_split(labels: list[str], groups: list[str], val_fraction: float = 0.2, seed: int = 0) -> Split:
    """Hold out whole groups when there are at least 3; otherwise a stratified random split."""
    idx = np.arange(len(labels))
    unique = sorted(set(groups))
    rng = random.Random(seed)
    if len(unique) >= 3:
        held = sorted(rng.sample(unique, max(1, math.ceil(val_fraction * len(unique)))))
        val = np.array([i for i in idx if groups[i] in held])
        train = np.array([i for i in idx if groups[i] not in held])
        if set(labels[i] for i in train) == set(labels):
            return Split(train, val, held)
    val = []
    for label in sorted(set(labels)):
        members = [i for i in idx if labels[i] == label]
        rng.shuffle(members)
        val += members[:max(1, round(val_fraction * len(members)))]
    val_set = set(val)
    return Split(np.array([i for i in idx if i not in val_set]), np.array(sorted(val_set)), [])


def evaluate(model, x: np.ndarray, y: np.ndarray, labels: list[str]) -> dict:
    pred = model.predict(x, verbose=0).argmax(axis=1)
    n = len(labels)
    confusion = np.zeros((n, n), dtype=int)
    for t, p in zip(y, pred):
        confusion[t, p] += 1
    per_class = {labels[i]: (float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else None)
                 for i in range(n)}
    return {"accuracy": float((pred == y).mean()) if len(y) else 0.0,
            "per_class": per_class, "confusion": confusion.tolist()}


def train(features: np.ndarray, labels: list[str], groups: list[str], kind: str, *,
          epochs: int = 60, batch_size: int = 16, seed: int = 0, on_epoch=None):
    """Train on the split's training side; returns (model, class names, report)."""
    if not np.isfinite(features).all():
        raise DatasetError("features contain NaN or infinity")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DatasetError("need at least 2 classes")
    import tf_keras as keras

    y = np.array([classes.index(label) for label in labels])
    split = group_split(labels, groups, seed=seed)
    model = build(kind, features.shape[1], len(classes), seed=seed)

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

    start = time.perf_counter()
    onehot = keras.utils.to_categorical(y, len(classes))
    history = model.fit(features[split.train], onehot[split.train], epochs=epochs, batch_size=batch_size,
                        validation_data=(features[split.val], onehot[split.val]), shuffle=True,
                        verbose=0, callbacks=[Progress()])
    duration = time.perf_counter() - start
    report = {
        "kind": kind, "classes": classes, "epochs": epochs, "batch_size": batch_size, "seed": seed,
        "duration_s": round(duration, 2),
        "counts": {"train": dict(Counter(labels[i] for i in split.train)),
                   "validation": dict(Counter(labels[i] for i in split.val))},
        "validation_groups": split.val_groups,
        "validation": evaluate(model, features[split.val], y[split.val], classes),
        "history": {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()},
    }
    return model, classes, report

"""Training: cross-validation on folds of whole subjects (training/evaluate.py), then the model that
is exported, trained on ALL samples. Keypoint kinds are augmented (training/augment.py) before
their vectors are computed (core/features.py)."""
from __future__ import annotations

import time
from collections import Counter

import numpy as np

from core.features import KEYPOINT_KINDS, ensemble_problem, matrix

from . import evaluate
from .augment import NONE, Augment, augment
from .data import DatasetError
from .model import build, merge

DEFAULT_AUGMENT = Augment()
REJECTED_LABEL = "unknown"  # web/js/live/classifier.js REJECTED_LABEL, web/contract.json


def _rows(kind: str, x: np.ndarray, y: np.ndarray, aug: Augment, chiral, seed: int):
    """Inputs -> feature rows (augmented first for keypoint kinds)."""
    if kind not in KEYPOINT_KINDS:
        return x, y
    kps, y = augment(x, y, aug, chiral, seed=seed)
    return matrix(kind, kps), y


def fit(kind: str, x: np.ndarray, y: np.ndarray, n_classes: int, *, aug: Augment, chiral=None, epochs: int,
        batch_size: int, seed: int, validation=None, on_epoch=None, members: int = 1):
    """One model on (x, y); validation=(x, y) of unaugmented inputs, for the curves;
    on_epoch(epoch, epochs, logs) after every epoch. members > 1 (keypoint kinds): that many models
    trained with seeds seed, seed + 1, ... (their own augmentation too), merged into one
    (model.merge); on_epoch counts on through the members' epochs, the history is the first's."""
    if members > 1 and kind in KEYPOINT_KINDS:
        def counting(i):  # the epochs run on over the members: member 2 of 3 at 60 epochs is epoch 61-120 of 180
            return on_epoch and (lambda e, n, logs: on_epoch(i * n + e, members * n, logs))

        fitted = [fit(kind, x, y, n_classes, aug=aug, chiral=chiral, epochs=epochs, batch_size=batch_size,
                      seed=seed + i, validation=validation, on_epoch=counting(i)) for i in range(members)]
        rows = fitted[0][0].input_shape[1]
        return merge([m for m, _ in fitted], kind, rows, n_classes), fitted[0][1]
    import tf_keras as keras

    rows, ys = _rows(kind, x, y, aug, chiral, seed)
    model = build(kind, rows.shape[1], n_classes, seed=seed)
    val = None
    if validation is not None:
        vx, vy = validation
        val = (_rows(kind, vx, vy, NONE, None, seed)[0], keras.utils.to_categorical(vy, n_classes))

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

    # Augmented copies multiply the rows: a larger batch keeps the steps per epoch (and the time) alike.
    batch = batch_size * (1 + aug.copies) if kind in KEYPOINT_KINDS else batch_size
    history = model.fit(rows, keras.utils.to_categorical(ys, n_classes), epochs=epochs, batch_size=batch,
                        validation_data=val, shuffle=True, verbose=0, callbacks=[Progress()])
    return model, history


def predict(model, kind: str, x: np.ndarray) -> np.ndarray:
    rows = matrix(kind, x) if kind in KEYPOINT_KINDS else x
    return model.predict(rows, verbose=0, batch_size=256)


def check_ensemble(kind: str, ensemble: int, name: str = "ensemble") -> None:
    """Merged models exist for keypoint kinds only (model.merge); `name` is what the caller calls it."""
    problem = ensemble_problem(kind, ensemble, name)
    if problem:
        raise DatasetError(problem)


def train(inputs: np.ndarray, labels: list[str], groups: list[str], kind: str, *, epochs: int = 60,
          batch_size: int = 16, seed: int = 0, aug: Augment | None = None, chiral=(), on_epoch=None,
          final: bool = True, ensemble: int = 1):
    """Cross-validate, then train the model to export on every sample: returns (model, classes, report).
    inputs: (N, 17, 3) keypoints for keypoint kinds, (N, 14739) for tm. on_epoch(epoch, epochs, logs,
    fold, folds) reports every epoch: of fold 1..folds (their logs have the held-out subject's
    val_loss and val_accuracy), then of the final model (fold None, no validation); final=False skips
    the last model (bench). ensemble > 1 (keypoint kinds): every model (each fold's and the final
    one) is that many trained with seeds seed, seed + 1, ... and merged (fit's members)."""
    if not np.isfinite(inputs).all():
        raise DatasetError("features contain NaN or infinity")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DatasetError("need at least 2 classes")
    if REJECTED_LABEL in classes:
        raise DatasetError(f"'{REJECTED_LABEL}' is what the page labels a rejected pose: rename that class")
    unknown = sorted(set(chiral) - set(classes))
    if unknown:
        raise DatasetError(f"chiral class(es) not in the data: {', '.join(unknown)}")
    aug = (DEFAULT_AUGMENT if aug is None else aug) if kind in KEYPOINT_KINDS else NONE
    chiral_mask = np.array([c in chiral for c in classes])
    y = np.array([classes.index(label) for label in labels])
    check_ensemble(kind, ensemble)
    opts = dict(aug=aug, chiral=chiral_mask, epochs=epochs, batch_size=batch_size, seed=seed, members=ensemble)

    found = evaluate.found_rows(inputs)  # rows with nobody found count wrong, whatever the model says
    start = time.perf_counter()
    fold_list = evaluate.folds(labels, groups, seed=seed)
    probs = np.zeros((len(y), len(classes)), dtype=np.float64)
    first_history = None
    def reporting(fold):
        return on_epoch and (lambda e, n, logs: on_epoch(e, n, logs, fold, len(fold_list)))

    for k, (_, val) in enumerate(fold_list):
        train_idx = np.setdiff1d(np.arange(len(y)), val)
        model, history = fit(kind, inputs[train_idx], y[train_idx], len(classes), validation=(inputs[val], y[val]),
                             on_epoch=reporting(k + 1), **opts)
        probs[val] = predict(model, kind, inputs[val])
        first_history = first_history or history
    cv_s = time.perf_counter() - start
    start = time.perf_counter()
    model = fit(kind, inputs, y, len(classes), on_epoch=reporting(None), **opts)[0] if final else None
    duration = time.perf_counter() - start
    report = {
        "kind": kind, "classes": classes, "epochs": epochs, "batch_size": batch_size, "seed": seed, "ensemble": ensemble,
        "augmentation": aug.as_dict(), "chiral": sorted(chiral),
        "duration_s": round(duration, 2), "cross_validation_s": round(cv_s, 2),
        "counts": {"train": dict(Counter(labels)), "validation": dict(Counter(labels))},
        "validation_groups": [name for name, _ in fold_list],
        "validation": evaluate.summary(y, probs, fold_list, classes, groups, found),
        "mistakes": evaluate.mistakes(y, probs, classes, found),  # out of fold, most confident first (by row)
        "history": {k: [round(float(v), 4) for v in vals] for k, vals in first_history.history.items()},
    }
    return model, classes, report

"""Evaluation on people the model never saw: cross-validation folds that keep whole groups
(subjects) on one side, leave-one-subject-out when there are few subjects; metrics from the
out-of-fold predictions (every sample predicted once, by a model that never saw its subject); and
the rejection threshold calibrated on them."""
from __future__ import annotations

import random

import numpy as np

MAX_LOSO_GROUPS = 12  # more groups than this (e.g. every recorded sample its own): grouped k-fold
K_FOLDS = 5
KEEP_CORRECT = 0.95  # the rejection threshold keeps this share of the correct out-of-fold labels
MAX_MISTAKES = 200  # the most confident out-of-fold mistakes kept in a report
NO_POSE = -1  # the prediction for a sample where no person was found: wrong whatever the model says


def found_rows(inputs: np.ndarray) -> np.ndarray | None:
    """For keypoint inputs (N, K, 3): whether a person was found in each row (some keypoint scored);
    None for feature rows (tm), which have no such thing."""
    return (inputs[:, :, 2] > 0).any(axis=1) if inputs.ndim == 3 else None


def predictions(probs: np.ndarray, found: np.ndarray | None = None) -> np.ndarray:
    """The predicted class per row; NO_POSE where nobody was found (an all-unseen row's class would
    be a guess, right by luck for some: `posecast evaluate` counts such an image wrong, so do folds)."""
    pred = probs.argmax(axis=1)
    return pred if found is None else np.where(found, pred, NO_POSE)


def folds(labels: list[str], groups: list[str], seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """[(name, validation indices)]: one fold per group (leave-one-subject-out) for 3 to
    MAX_LOSO_GROUPS groups, else K_FOLDS folds of whole groups, spread over the classes."""
    idx = np.arange(len(labels))
    unique = sorted(set(groups))
    if 3 <= len(unique) <= MAX_LOSO_GROUPS:
        return [(g, idx[[x == g for x in groups]]) for g in unique]
    rng = random.Random(seed)
    first_label = {}
    for label, g in zip(labels, groups):
        first_label.setdefault(g, label)
    order = sorted(unique, key=lambda g: (first_label[g], rng.random()))  # round-robin per class
    fold_of = {g: i % K_FOLDS for i, g in enumerate(order)}
    n = min(K_FOLDS, len(unique))
    return [(f"fold {k + 1}", idx[[fold_of[g] == k for g in groups]]) for k in range(n)]


def confusion(y: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, n), dtype=int)
    np.add.at(out, (y, pred), 1)
    return out


def metrics(y: np.ndarray, probs: np.ndarray, classes: list[str], found: np.ndarray | None = None) -> dict:
    """Accuracy, per class and the confusion matrix (rows: true class, columns: predicted); samples
    where nobody was found count wrong and per class under no_pose, outside the matrix."""
    pred = predictions(probs, found)
    seen = pred != NO_POSE
    conf = confusion(y[seen], pred[seen], len(classes))
    totals = np.bincount(y, minlength=len(classes))
    per_class = {c: (float(conf[i, i] / totals[i]) if totals[i] else None) for i, c in enumerate(classes)}
    no_pose = {c: int(n) for c, n in zip(classes, np.bincount(y[~seen], minlength=len(classes))) if n}
    return {"accuracy": float((pred == y).mean()) if len(y) else 0.0, "per_class": per_class,
            "confusion": conf.tolist(), "no_pose": no_pose}


def rejection(y: np.ndarray, probs: np.ndarray, found: np.ndarray | None = None) -> dict:
    """The top probability under which the page says "no known pose": it keeps KEEP_CORRECT of the
    correct out-of-fold labels. What it costs and buys on those folds is recorded beside it."""
    pred = predictions(probs, found)
    top, right = np.where(pred == NO_POSE, 0.0, probs.max(axis=1)), pred == y
    if not right.any():
        threshold = 0.0
    else:
        threshold = float(np.quantile(top[right], 1 - KEEP_CORRECT))
    threshold = round(min(max(threshold, 1.0 / probs.shape[1]), 0.99), 4)
    kept = top >= threshold
    return {"threshold": threshold, "keep_correct": KEEP_CORRECT,
            "correct_kept": float(kept[right].mean()) if right.any() else None,
            "wrong_rejected": float((~kept[~right]).mean()) if (~right).any() else None,
            "accuracy_of_kept": float(right[kept].mean()) if kept.any() else None,
            "rejected": float((~kept).mean())}


def mistakes(y: np.ndarray, probs: np.ndarray, classes: list[str], found: np.ndarray | None = None) -> list[dict]:
    """The out-of-fold mistakes, most confident first (a confident mistake is often a mislabelled
    sample): [{index, true, said, confidence}], at most MAX_MISTAKES; index is the sample's row;
    said is "no pose" (confidence 0) where nobody was found."""
    pred = predictions(probs, found)
    top = np.where(pred == NO_POSE, 0.0, probs.max(1))
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-top[wrong], kind="stable")][:MAX_MISTAKES]
    return [{"index": int(i), "true": classes[y[i]], "said": "no pose" if pred[i] == NO_POSE else classes[pred[i]],
             "confidence": round(float(top[i]), 4)} for i in wrong]


def summary(y: np.ndarray, probs: np.ndarray, fold_list, classes: list[str], groups: list[str],
            found: np.ndarray | None = None) -> dict:
    """Out-of-fold metrics: mean over folds (the leave-one-subject-out figure), the worst fold, every
    fold's accuracy, per class and the confusion over all samples, and the rejection threshold."""
    pred = predictions(probs, found)
    per_fold = {}
    for name, val in fold_list:
        if len(val):
            per_fold[name] = float((pred[val] == y[val]).mean())
    pooled = metrics(y, probs, classes, found)
    worst = min(per_fold, key=per_fold.get)
    return {
        "method": "leave-one-subject-out" if all(name in groups for name in per_fold) else f"{len(per_fold)}-fold grouped",
        "accuracy": float(np.mean(list(per_fold.values()))),
        "pooled_accuracy": pooled["accuracy"],
        "worst_fold": worst, "worst_accuracy": per_fold[worst],
        "per_fold": per_fold, "per_class": pooled["per_class"], "confusion": pooled["confusion"],
        "no_pose": pooled["no_pose"], "rejection": rejection(y, probs, found), "labels": list(classes),
    }

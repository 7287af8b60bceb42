"""Training: cross-validation on folds of whole subjects (training/evaluate.py), then the model that
is exported, trained on ALL samples. Keypoint kinds are augmented (training/augment.py) before
their vectors are computed (core/features.py)."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

import numpy as np

from core.features import (KEYPOINT_KINDS, VIEWS, WORLD_KINDS, ensemble_problem, input_columns, matrix, size_of,
                           view_columns)

from . import evaluate
from .augment import NONE, Augment, augment, mirror_columns
from .data import DatasetError
from .model import build, merge, mirrored, widened
from .recipe import PLAIN, Recipe, mixed_batches, weight_averaging

DEFAULT_AUGMENT = Augment()
# World landmarks give each pose's depth, so training also sees it from cameras moved higher or lower
# (+-35 deg) and around the person (+-40 deg): on yoga5 (3 x 120, seeds 0-4) it lifted the mean on
# every seed and cobra from 0.913 to 0.943 on average (README, the seventh study). 2-D inputs have
# no depth: they are not turned.
WORLD_AUGMENT = replace(DEFAULT_AUGMENT, view_pitch_deg=35.0, view_yaw_deg=40.0)
# Which views' members see the camera turned (core/features.py VIEWS order): the 2-D keypoints' and
# the body frame's. The angles' member keeps its camera: with it turned too the merged model was
# below on two seeds of three (cobra -3.5, chair -1; README, the seventh study).
TURNED_VIEWS = {"world": (True, False, True)}
# Feature noise 0.05 for one model (the trainer page's Quick runs, `--ensemble 1`): on yoga5 over
# five seeds it lifted one model of 60 epochs from 0.954 to 0.963 (worst subject 0.82 -> 0.86),
# level with 3 x 120 merged at a sixth of the time; merged models get none, as noise cost them
# 2 points (girl2's cobras back to tree). README, the fifth study.
SINGLE_RECIPE = Recipe(noise=0.05)


REJECTED_LABEL = "unknown"  # web/js/live/classifier.js REJECTED_LABEL, web/contract.json


def default_augment(kind: str) -> Augment:
    """The augmentation a keypoint kind trains with unless told: the camera turned too for world kinds."""
    return WORLD_AUGMENT if kind in WORLD_KINDS else DEFAULT_AUGMENT


def member_augment(kind: str, aug: Augment, member: int) -> Augment:
    """What member `member` of a merged `kind` model trains with: aug, without the camera turned for
    the views that do not take it (TURNED_VIEWS)."""
    turns = TURNED_VIEWS.get(kind)
    if turns is None or turns[member % len(turns)]:
        return aug
    return replace(aug, view_pitch_deg=0.0, view_yaw_deg=0.0)


def turned_views(kind: str, aug: Augment) -> dict:
    """For the report: the views whose members see the camera turned, if aug turns it."""
    turns = TURNED_VIEWS.get(kind)
    if turns is None or not (aug.view_pitch_deg or aug.view_yaw_deg):
        return {}
    return {"turned_views": [list(v) for v, t in zip(VIEWS[kind], turns) if t]}


def default_recipe(members: int) -> Recipe:
    """The regularisers a model gets unless told: noise for one model, none for merged ones."""
    return SINGLE_RECIPE if members == 1 else PLAIN


def _recipe(kind: str, members: int, recipe: Recipe | None) -> Recipe:
    """The recipe a model of `kind` trains with: regularisers exist for the keypoint MLP only."""
    if kind not in KEYPOINT_KINDS:
        return PLAIN
    return default_recipe(members) if recipe is None else recipe


def _rows(kind: str, x: np.ndarray, y: np.ndarray, aug: Augment, chiral, seed: int):
    """Inputs -> feature rows (augmented first for keypoint kinds)."""
    if kind not in KEYPOINT_KINDS:
        return x, y
    kps, y = augment(x, y, aug, chiral, seed=seed)
    return matrix(kind, kps), y


def fit(kind: str, x: np.ndarray, y: np.ndarray, n_classes: int, *, aug: Augment, chiral=None, epochs: int,
        batch_size: int, seed: int, validation=None, on_epoch=None, members: int = 1, recipe: Recipe | None = None):
    """One model on (x, y); validation=(x, y) of unaugmented inputs, for the curves;
    on_epoch(epoch, epochs, logs) after every epoch. members > 1 (keypoint kinds): that many models
    trained with seeds seed, seed + 1, ... (their own augmentation too), merged into one
    (model.merge); on_epoch counts on through the members' epochs, the history is the first's.
    recipe (default default_recipe(members); keypoint kinds only): the regularisers; recipe.mirror (no
    chiral class): each member merged with its mirror image too."""
    recipe = _recipe(kind, members, recipe)
    if kind not in KEYPOINT_KINDS:
        return _fit_one(kind, x, y, n_classes, aug=aug, chiral=chiral, epochs=epochs, batch_size=batch_size,
                        seed=seed, validation=validation, on_epoch=on_epoch, recipe=recipe)

    def counting(i):  # the epochs run on over the members: member 2 of 3 at 60 epochs is epoch 61-120 of 180
        return on_epoch and (lambda e, n, logs: on_epoch(i * n + e, members * n, logs))

    views = view_columns(kind)  # member i looks at view i % len(views) (core/features.py VIEWS)
    fitted = [_fit_one(kind, x, y, n_classes, aug=member_augment(kind, aug, i), chiral=chiral, epochs=epochs,
                       batch_size=batch_size, seed=seed + i, validation=validation, on_epoch=counting(i),
                       recipe=recipe, columns=views[i % len(views)]) for i in range(members)]
    models = [m for m, _ in fitted]
    if mirror_averaged(recipe, chiral):
        models += [mirrored(m, kind, mirror_columns(kind), n_classes) for m in models]
    return merge(models, kind, size_of(kind), n_classes), fitted[0][1]


def mirror_averaged(recipe: Recipe, chiral) -> bool:
    """Whether fit folds mirror averaging in: never with a chiral class (its mirror image is
    another pose)."""
    return recipe.mirror and not np.any(chiral if chiral is not None else False)


def _fit_one(kind: str, x: np.ndarray, y: np.ndarray, n_classes: int, *, aug: Augment, chiral, epochs: int,
             batch_size: int, seed: int, validation, on_epoch, recipe: Recipe, columns: np.ndarray | None = None):
    """One model; keypoint kinds are returned in the plain build (the recipe's training-only layers
    and penalties left out, weights the same). columns (keypoint kinds): the feature columns it
    looks at; it is trained on those and returned taking every column (zero weights on the others)."""
    import tf_keras as keras

    rows, ys = _rows(kind, x, y, aug, chiral, seed)
    keypoint = kind in KEYPOINT_KINDS
    width = rows.shape[1]
    if columns is not None:
        rows = rows[:, columns]
    model = build(kind, rows.shape[1], n_classes, seed=seed, recipe=recipe)
    val = None
    if validation is not None:
        vx, vy = validation
        vrows = _rows(kind, vx, vy, NONE, None, seed)[0]
        val = (vrows if columns is None else vrows[:, columns], keras.utils.to_categorical(vy, n_classes))

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(epoch + 1, epochs, {k: float(v) for k, v in (logs or {}).items()})

    callbacks = [Progress()] + ([weight_averaging(epochs, recipe.average_last)] if recipe.average_last else [])
    # Augmented copies multiply the rows: a larger batch keeps the steps per epoch (and the time) alike.
    batch = batch_size * (1 + aug.copies) if keypoint else batch_size
    targets = keras.utils.to_categorical(ys, n_classes)
    data = dict(x=mixed_batches(rows, targets, batch, recipe, seed)) if recipe.mixup else \
        dict(x=rows, y=targets, batch_size=batch, shuffle=True)
    history = model.fit(**data, epochs=epochs, validation_data=val, verbose=0, callbacks=callbacks)
    if recipe != PLAIN:
        plain = build(kind, rows.shape[1], n_classes)
        plain.set_weights(model.get_weights())
        model = plain
    if columns is not None and rows.shape[1] != width:
        model = widened(model, kind, columns, width, n_classes)
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
          final: bool = True, ensemble: int = 1, recipe: Recipe | None = None):
    """Cross-validate, then train the model to export on every sample: returns (model, classes, report).
    inputs: (N, 17, 3) keypoints for keypoint kinds, (N, 14739) for tm. on_epoch(epoch, epochs, logs,
    fold, folds) reports every epoch: of fold 1..folds (their logs have the held-out subject's
    val_loss and val_accuracy), then of the final model (fold None, no validation); final=False skips
    the last model (bench). ensemble > 1 (keypoint kinds): every model (each fold's and the final
    one) is that many trained with seeds seed, seed + 1, ... and merged (fit's members)."""
    if not np.isfinite(inputs).all():
        raise DatasetError("features contain NaN or infinity")
    if kind in KEYPOINT_KINDS and (inputs.ndim != 3 or inputs.shape[2] != input_columns(kind)):
        raise DatasetError(f"{kind} features take {input_columns(kind)} numbers per keypoint, the inputs have "
                           f"shape {inputs.shape}" + (": extract them with a BlazePose backbone (its world landmarks)"
                                                      if input_columns(kind) > 3 else ""))
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise DatasetError("need at least 2 classes")
    if REJECTED_LABEL in classes:
        raise DatasetError(f"'{REJECTED_LABEL}' is what the page labels a rejected pose: rename that class")
    unknown = sorted(set(chiral) - set(classes))
    if unknown:
        raise DatasetError(f"chiral class(es) not in the data: {', '.join(unknown)}")
    aug = (default_augment(kind) if aug is None else aug) if kind in KEYPOINT_KINDS else NONE
    chiral_mask = np.array([c in chiral for c in classes])
    y = np.array([classes.index(label) for label in labels])
    check_ensemble(kind, ensemble)
    recipe = _recipe(kind, ensemble, recipe)
    opts = dict(aug=aug, chiral=chiral_mask, epochs=epochs, batch_size=batch_size, seed=seed, members=ensemble,
                recipe=recipe)

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
        "augmentation": {**aug.as_dict(), **turned_views(kind, aug)}, "chiral": sorted(chiral),
        "recipe": {**recipe.as_dict(), "mirror": mirror_averaged(recipe, chiral_mask)},
        "duration_s": round(duration, 2), "cross_validation_s": round(cv_s, 2),
        "counts": {"train": dict(Counter(labels)), "validation": dict(Counter(labels))},
        "validation_groups": [name for name, _ in fold_list],
        "validation": evaluate.summary(y, probs, fold_list, classes, groups, found),
        "mistakes": evaluate.mistakes(y, probs, classes, found),  # out of fold, most confident first (by row)
        "history": {k: [round(float(v), 4) for v in vals] for k, vals in first_history.history.items()},
    }
    return model, classes, report

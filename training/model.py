"""Classifier architectures (tf_keras, so TF.js 4.22 loads the exports)."""
from __future__ import annotations

import numpy as np

from .recipe import PLAIN, Recipe

HIDDEN = (128, 64)  # the keypoint MLP's hidden layers (see build)
DROPOUT = 0.3


def build(kind: str, n_inputs: int, n_classes: int, seed: int = 0, members: int = 1, recipe: Recipe = PLAIN):
    """A compiled model; members > 1: the keypoint MLP `members` times wider, the shape of
    merge()'s result (never trained as such: merge() fills it from members trained apart).
    recipe (keypoint MLP): its noise layer, L2 penalty and label smoothing; the same weights fit
    the plain build (export that: training/train.py fit)."""
    import tf_keras as keras

    keras.utils.set_random_seed(seed)
    layers = keras.layers
    if kind == "tm":
        # Teachable Machine's pose head, layer for layer (names included, so exports read alike).
        model = keras.Sequential([
            layers.Dense(100, activation="relu", input_shape=(n_inputs,), name="dense_Dense1"),
            layers.Dropout(0.5, name="dropout_Dropout1"),
            layers.Dense(n_classes, activation="softmax", use_bias=False, name="dense_Dense2"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
        return model
    # Keypoints: an MLP chosen by measurement on yoga5 with subjects held out (3 seeds each):
    # 128-64 with dropout 0.3 scored 0.776 on average, 64-32 0.731, 32 0.674, 256-128 with
    # dropout 0.5 0.779 but with twice the spread, a linear model 0.492.
    l2 = {"kernel_regularizer": keras.regularizers.L2(recipe.l2)} if recipe.l2 else {}
    # input_shape on the first layer, as before: the plain build's model.json stays as it was
    noise = [layers.GaussianNoise(recipe.noise, input_shape=(n_inputs,), name="noise")] if recipe.noise else []
    first = {} if noise else {"input_shape": (n_inputs,)}
    model = keras.Sequential([
        *noise,
        layers.Dense(HIDDEN[0] * members, activation="relu", name="dense_1", **first, **l2),
        layers.Dropout(DROPOUT, name="dropout_1"),
        layers.Dense(HIDDEN[1] * members, activation="relu", name="dense_2", **l2),
        layers.Dense(n_classes, activation="softmax", name="dense_out", **l2),
    ])
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, metrics=["accuracy"])
    return model


def mirrored(model, kind: str, columns: tuple[np.ndarray, np.ndarray], n_classes: int):
    """The keypoint MLP that gives for x what `model` gives for x mirrored: the mirrored feature
    vector is a signed permutation of x's (columns = (source, sign), training/augment.py
    mirror_columns), so only the first layer's kernel rows move."""
    source, sign = columns
    weights = model.get_weights()
    k1 = np.zeros_like(weights[0])
    k1[source] = sign[:, None] * weights[0]
    out = build(kind, weights[0].shape[0], n_classes)
    out.set_weights([k1, *weights[1:]])
    return out


def widened(model, kind: str, columns: np.ndarray, n_inputs: int, n_classes: int):
    """A keypoint MLP trained on some feature columns -> the same MLP taking all n_inputs columns,
    with zero weights on those it never saw: what it computes is unchanged, and merge() can put it
    beside members that look at other columns (core/features.py VIEWS)."""
    weights = model.get_weights()
    k1 = np.zeros((n_inputs, weights[0].shape[1]), np.float32)
    k1[columns] = weights[0]
    out = build(kind, n_inputs, n_classes)
    out.set_weights([k1, *weights[1:]])
    return out


def merge(models: list, kind: str, n_inputs: int, n_classes: int):
    """Keypoint MLPs trained apart (other seeds) -> one Sequential of the same layer types whose
    output is the softmax of their mean logits: an ensemble that exports, loads in TF.js and ml5
    and runs in core/dense_model.py exactly as one model does. Its first layer puts the members'
    units side by side, the second is block-diagonal (each member's units see only its own), the
    last sums the members' logits over their count."""
    if len(models) == 1:
        return models[0]
    weights = [m.get_weights() for m in models]  # per member: k1, b1, k2, b2, k3, b3
    k2 = np.zeros((sum(w[2].shape[0] for w in weights), sum(w[2].shape[1] for w in weights)), np.float32)
    r = c = 0
    for w in weights:
        k2[r:r + w[2].shape[0], c:c + w[2].shape[1]] = w[2]
        r, c = r + w[2].shape[0], c + w[2].shape[1]
    merged = build(kind, n_inputs, n_classes, members=len(models))
    merged.set_weights([
        np.concatenate([w[0] for w in weights], axis=1), np.concatenate([w[1] for w in weights]),
        k2, np.concatenate([w[3] for w in weights]),
        np.concatenate([w[4] for w in weights], axis=0) / len(weights), np.mean([w[5] for w in weights], axis=0),
    ])
    return merged

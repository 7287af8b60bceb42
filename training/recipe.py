"""Regularisers of the keypoint MLP's training (training/model.py build, training/train.py fit),
each off by default: label smoothing, mixup between samples, L2 weight decay, Gaussian noise on the
feature vector, averaged weights of the last epochs and mirror test-time averaging folded into the
exported model. None of them changes what the page runs: the exported model has the same layer
types (training-only layers and regularisers are left out of it)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Recipe:
    label_smoothing: float = 0.0  # targets (1 - s) on the class, s spread over all classes
    mixup: float = 0.0            # Beta(a, a) weights of pairs of samples mixed, inputs and targets (0: off)
    mixup_within: bool = False    # mix only samples of the same class (else any two)
    l2: float = 0.0               # L2 penalty on the dense layers' kernels
    noise: float = 0.0            # std of Gaussian noise added to the feature vector in training
    average_last: float = 0.0     # weights averaged over this last share of the epochs (SWA-style)
    mirror: bool = False          # mean logits of x and x mirrored, folded into the model (no chiral class)

    def __post_init__(self):
        bounds = {"label_smoothing": (0, 1), "mixup": (0, None), "l2": (0, None), "noise": (0, None),
                  "average_last": (0, 1)}
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value) \
                    or value < low or (high is not None and value > high):
                raise ValueError(f"recipe {name} must be a number from {low} to {high if high is not None else 'any'}, not {value!r}")

    def as_dict(self) -> dict:
        return asdict(self)


PLAIN = Recipe()


def mixed_batches(x: np.ndarray, y: np.ndarray, batch: int, recipe: Recipe, seed: int):
    """A tf_keras Sequence of shuffled batches of (x, one-hot y), each sample mixed with a partner
    (another sample of its class if recipe.mixup_within, else any) by a Beta(a, a) weight; a new
    shuffle and new partners every epoch."""
    import tf_keras as keras

    classes = y.argmax(1)
    by_class = [np.flatnonzero(classes == c) for c in range(y.shape[1])]

    class Mixed(keras.utils.Sequence):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(x))
            if recipe.mixup_within:
                self.partner = np.empty(len(x), int)
                for members in by_class:
                    self.partner[members] = self.rng.choice(members, len(members))
            else:
                self.partner = self.rng.permutation(len(x))
            self.weight = self.rng.beta(recipe.mixup, recipe.mixup, len(x)).astype(np.float32)

        def __len__(self):
            return -(-len(x) // batch)

        def __getitem__(self, i):
            rows = self.order[i * batch:(i + 1) * batch]
            other, w = self.partner[rows], self.weight[rows][:, None]
            return w * x[rows] + (1 - w) * x[other], w * y[rows] + (1 - w) * y[other]

    return Mixed()


def weight_averaging(epochs: int, share: float):
    """A callback that, from epoch (1 - share) * epochs on, keeps the running mean of the weights at
    each epoch's end and puts it into the model when training ends."""
    import tf_keras as keras

    start = max(0, min(epochs - 1, int(round(epochs * (1 - share)))))

    class Average(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.mean, self.count = None, 0

        def on_epoch_end(self, epoch, logs=None):
            if epoch < start:
                return
            self.count += 1
            w = self.model.get_weights()
            self.mean = w if self.mean is None else [m + (v - m) / self.count for m, v in zip(self.mean, w)]

        def on_train_end(self, logs=None):
            if self.mean is not None:
                self.model.set_weights(self.mean)

    return Average()

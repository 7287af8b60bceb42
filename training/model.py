"""Classifier architectures (tf_keras, so TF.js 4.22 loads the exports)."""
from __future__ import annotations


def build(kind: str, n_inputs: int, n_classes: int, seed: int = 0):
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
    model = keras.Sequential([
        layers.Dense(128, activation="relu", input_shape=(n_inputs,), name="dense_1"),
        layers.Dropout(0.3, name="dropout_1"),
        layers.Dense(64, activation="relu", name="dense_2"),
        layers.Dense(n_classes, activation="softmax", name="dense_out"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    return model

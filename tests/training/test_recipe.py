"""The training recipe's regularisers (training/recipe.py): mirror averaging folded into the
exported model, mixup batches, averaged weights, and a plain model exported whatever the recipe."""
import numpy as np
import pytest

from core.features import matrix
from tests.training.test_pose_features import poses_for_agreement
from training import model as model_lib, train
from training.augment import NONE, mirror, mirror_columns
from training.recipe import PLAIN, Recipe, mixed_batches, weight_averaging


def three_poses(n=60, seed=1):
    """n noisy copies of 3 random poses (one per class), seen by 3 subjects."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(50, 250, (3, 17, 2))
    y = np.repeat(np.arange(3), n // 3)
    kps = np.concatenate([centres[y] + rng.normal(0, 4, (n, 17, 2)), rng.uniform(0.3, 1, (n, 17, 1))], axis=2)
    return kps, y


@pytest.mark.parametrize("kind", ["keypoints", "pose"])
def test_a_mirrored_pose_vector_is_a_signed_permutation_of_its_own(kind):
    kps = poses_for_agreement()  # edge cases too: nothing seen, no hips, every point in one place
    source, sign = mirror_columns(kind)
    assert sorted(source) == list(range(len(source)))  # a permutation: nothing lost, nothing doubled
    assert np.abs(matrix(kind, mirror(kps)) - matrix(kind, kps)[:, source] * sign).max() < 1e-5


def fit(recipe, chiral=None, epochs=3, kind="keypoints"):
    kps, y = three_poses()
    return train.fit(kind, kps, y, 3, aug=NONE, chiral=chiral, epochs=epochs, batch_size=16, seed=0, recipe=recipe)[0]


@pytest.mark.parametrize("kind", ["keypoints", "pose"])
def test_mirror_averaging_makes_the_model_give_a_pose_and_its_mirror_image_alike(kind):
    kps = three_poses(seed=5)[0]
    plain = fit(PLAIN, kind=kind)
    averaged = fit(Recipe(mirror=True), kind=kind)
    x, xm = matrix(kind, kps), matrix(kind, mirror(kps))
    assert np.abs(plain.predict(x, verbose=0) - plain.predict(xm, verbose=0)).max() > 1e-2
    assert np.abs(averaged.predict(x, verbose=0) - averaged.predict(xm, verbose=0)).max() < 1e-5
    # the softmax of the mean logits of the plain model on x and on x mirrored, as one Sequential
    logit = lambda p: np.log(p)  # noqa: E731 (log-probabilities differ from logits by a per-row constant)
    mean = (logit(plain.predict(x, verbose=0)) + logit(plain.predict(xm, verbose=0))) / 2
    want = np.exp(mean - mean.max(1, keepdims=True))
    assert np.abs(averaged.predict(x, verbose=0) - want / want.sum(1, keepdims=True)).max() < 1e-4
    assert [layer.units for layer in averaged.layers if hasattr(layer, "units")] == [256, 128, 3]


def test_a_chiral_class_turns_mirror_averaging_off():
    kps = three_poses(seed=5)[0]
    model = fit(Recipe(mirror=True), chiral=np.array([False, True, False]))
    x, xm = matrix("keypoints", kps), matrix("keypoints", mirror(kps))
    assert np.abs(model.predict(x, verbose=0) - model.predict(xm, verbose=0)).max() > 1e-2
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == [128, 64, 3]


def test_the_model_returned_is_the_plain_build_whatever_the_recipe():
    model = fit(Recipe(label_smoothing=0.1, l2=1e-3, noise=0.1, average_last=0.5, mixup=0.2))
    plain = model_lib.build("keypoints", 51, 3)
    assert model.get_config()["layers"] == plain.get_config()["layers"]  # no noise layer, no penalties


@pytest.mark.parametrize("within", [False, True])
def test_mixup_batches_mix_inputs_and_targets_alike(within):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[np.arange(40) % 4]
    batches = mixed_batches(x, y, 16, Recipe(mixup=0.4, mixup_within=within), seed=0)
    assert len(batches) == 3
    bx, by = map(np.concatenate, zip(*(batches[i] for i in range(len(batches)))))
    assert bx.shape == (40, 5) and np.allclose(by.sum(1), 1)
    # each row is w * (a sample) + (1 - w) * (its partner), the same w for the target
    own = np.array([np.flatnonzero(np.isclose(by[i], by[i].max()))[0] for i in range(40)])
    assert not np.allclose(bx, x[batches.order])  # mixed, not just shuffled
    one_hot = np.isclose(by.max(1), 1)
    assert one_hot.all() if within else not one_hot.all()
    assert set(own) == {0, 1, 2, 3}


def test_weight_averaging_puts_the_mean_of_the_last_epochs_weights_into_the_model():
    import tf_keras as keras

    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model.get_weights())

    kps, y = three_poses()
    x, t = matrix("keypoints", kps), np.eye(3)[y]
    m = model_lib.build("keypoints", 51, 3)
    m.fit(x, t, epochs=4, verbose=0, callbacks=[Record(), weight_averaging(4, 0.5)])
    want = [np.mean([w[i] for w in seen[2:]], axis=0) for i in range(len(seen[0]))]
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(m.get_weights(), want))
    assert not np.allclose(m.get_weights()[0], seen[-1][0])


def test_train_records_the_recipe_and_whether_it_averaged_mirror_images():
    kps, y = three_poses(n=45)
    labels, groups = [f"c{i}" for i in y], [f"s{i % 3}" for i in range(45)]
    _, _, report = train.train(kps, labels, groups, "keypoints", epochs=1, recipe=Recipe(mirror=True, l2=1e-4),
                               chiral=["c1"], final=False)
    assert report["recipe"]["l2"] == 1e-4 and report["recipe"]["mirror"] is False  # chiral: not averaged


def test_one_model_trains_with_feature_noise_and_merged_models_without():
    kps, y = three_poses(n=45)
    labels, groups = [f"c{i}" for i in y], [f"s{i % 3}" for i in range(45)]
    recipes = {n: train.train(kps, labels, groups, "keypoints", epochs=1, ensemble=n, final=False)[2]["recipe"]
               for n in (1, 2)}
    assert recipes[1]["noise"] == 0.05 and recipes[2]["noise"] == 0  # the fifth study: noise helps one model only
    # and the noise is applied: one default model is the noise recipe's, not the plain one's
    assert np.array_equal(fit(None, epochs=2).get_weights()[0], fit(Recipe(noise=0.05), epochs=2).get_weights()[0])
    assert not np.array_equal(fit(None, epochs=2).get_weights()[0], fit(PLAIN, epochs=2).get_weights()[0])


@pytest.mark.parametrize("recipe", [Recipe(label_smoothing=0.1), Recipe(l2=1e-3), Recipe(noise=0.05), Recipe(mixup=0.4),
                                    Recipe(average_last=1.0)], ids=lambda r: next(k for k, v in r.as_dict().items() if v))
def test_each_regulariser_changes_what_is_learned(recipe):
    plain = fit(PLAIN, epochs=2).get_weights()[0]
    assert np.array_equal(plain, fit(PLAIN, epochs=2).get_weights()[0])  # training is repeatable: the change is the recipe's
    assert not np.allclose(plain, fit(recipe, epochs=2).get_weights()[0], atol=1e-6)


@pytest.mark.parametrize("bad", [dict(noise=-0.1), dict(label_smoothing=1.5), dict(l2=float("nan")), dict(mixup="0.2"),
                                 dict(average_last=2)])
def test_a_recipe_out_of_range_is_refused_with_its_name(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        Recipe(**bad)

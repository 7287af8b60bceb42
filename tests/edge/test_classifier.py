"""The edge node's numpy classifier gives the probabilities Keras gives for the same TF.js export
(the page's own equal Keras to 1e-4: tests/training/test_live_classifier.py), and refuses what it
cannot run with a message that says why."""
import json

import numpy as np
import pytest

from core import features
from edge import classifier
from edge.pipeline import Person
from tests.helpers.paths import ROOT

DEFAULT = ROOT / "tfjs_models" / "yoga5" / "1"


def spec_of(folder, **extra):
    meta = json.loads((folder / "posecast.json").read_text())
    return {"id": 1, "name": meta["name"], "version": 1, "features": meta["features"], "labels": meta["labels"],
            "url": "/models/yoga5/1/model.json", "normalisation": meta.get("normalisation"),
            "threshold": (meta.get("rejection") or {}).get("threshold"), **extra}


def load_default(**extra):
    model_json = json.loads((DEFAULT / "model.json").read_text())
    shards = [(DEFAULT / p).read_bytes() for g in model_json["weightsManifest"] for p in g["paths"]]
    return classifier.Classifier(spec_of(DEFAULT, **extra), model_json, shards), model_json, shards


def random_keypoints(n, seed=0):
    rng = np.random.default_rng(seed)
    kps = rng.uniform(0, 500, size=(n, 17, 3))
    kps[..., 2] = rng.uniform(0, 1, size=(n, 17))
    return kps


def test_numpy_forward_pass_equals_keras():
    import runtime.graph  # noqa: F401  (TensorFlow's environment: legacy Keras, no tfdf banner)

    tfjs = pytest.importorskip("tensorflowjs", reason="the train extra brings Keras for the reference")
    model, _, _ = load_default()
    rows = features.matrix(model.kind, random_keypoints(64))
    keras_model = tfjs.converters.load_keras_model(str(DEFAULT / "model.json"))
    expected = keras_model.predict(rows, verbose=0)
    got = model.predict(rows)
    assert np.abs(got - expected).max() <= 1e-5
    assert (got.argmax(1) == expected.argmax(1)).all()


def test_classify_orders_people_as_the_page_and_rejects_under_the_threshold():
    model, _, _ = load_default(threshold=0.999)
    names = features.COCO17
    people = [Person(pid, score, [{"name": n, "x": float(x), "y": float(y), "score": float(s)}
                                  for n, (x, y, s) in zip(names, kps)])
              for pid, score, kps in zip((4, 7), (0.3, 0.8), random_keypoints(2, seed=3))]
    out = model.classify(people)
    assert [r["person"] for r in out] == [7, 4]  # the most confident pose first
    assert all(r["label"] == "unknown" and 0 < r["confidence"] < 0.999 for r in out)


def test_teachable_machine_models_are_refused_with_a_reason():
    _, model_json, shards = load_default()
    with pytest.raises(classifier.Unsupported, match="Teachable Machine"):
        classifier.Classifier(spec_of(DEFAULT, features="tm"), model_json, shards)


def test_damaged_exports_are_refused():
    _, model_json, shards = load_default()
    with pytest.raises(classifier.Unsupported, match="shorter"):
        classifier.Classifier(spec_of(DEFAULT), model_json, [shards[0][:-4]])
    with pytest.raises(classifier.Unsupported, match="labels"):
        classifier.Classifier(spec_of(DEFAULT, labels=["a", "b"]), model_json, shards)
    conv = json.loads(json.dumps(model_json))
    conv["modelTopology"]["model_config"]["config"]["layers"][1]["class_name"] = "Conv2D"
    with pytest.raises(classifier.Unsupported, match="Conv2D"):
        classifier.Classifier(spec_of(DEFAULT), conv, shards)
    with pytest.raises(classifier.Unsupported, match="url"):
        classifier.load({**spec_of(DEFAULT), "url": "/models/../secret"}, lambda p: b"")


def world_classifier(folder, backbone=None):
    model_json = json.loads((folder / "model.json").read_text())
    shards = [(folder / p).read_bytes() for g in model_json["weightsManifest"] for p in g["paths"]]
    return classifier.Classifier(spec_of(folder), model_json, shards, backbone)


def test_world_models_classify_blazepose_people_with_their_world_landmarks(world_model, video):
    """Real BlazePose (OpenVINO) on the test video: the tracked person carries the pose's world
    landmarks and the edge's probabilities are the model's on core/features.py's world row."""
    import runtime
    from core import dense_model
    from edge.pipeline import Pipeline
    from edge.source import Source

    folder = world_model[1]
    model = world_classifier(folder)
    source = Source(str(video))
    frame = source.read()
    source.close()
    pipeline = Pipeline(runtime.load("blazepose-lite", executor="openvino"))
    [raw] = pipeline.estimate(frame.rgb)
    [person] = pipeline.follow([raw], frame.t, frame.rgb.shape)
    assert person.world == raw.extra["world"] and len(person.world) == len(person.keypoints) == 33
    [result] = model.classify([person])
    model_json = json.loads((folder / "model.json").read_text())
    layers = dense_model.load_layers(model_json, dense_model.read_shards(folder, model_json))
    row = features.matrix("world", features.world_array(person.keypoints, person.world)[None])
    expected = dense_model.forward(layers, row)[0]
    assert model.threshold == 0  # no rejection recorded: the label is the top class
    assert (result["person"], result["label"]) == (1, model.labels[int(expected.argmax())])
    assert abs(result["confidence"] - expected.max()) <= 1e-6
    flat = row.copy()
    flat[:, features.WORLD_BLOCKS["keypoints"].stop:] = 0
    assert np.abs(dense_model.forward(layers, flat)[0] - expected).max() > 0.02  # the 3-D part counts
    # without world landmarks (a backbone that gives none) a world model labels nothing, as the page
    assert model.classify([Person(1, 0.9, person.keypoints)]) == []


def test_world_models_are_refused_on_a_backbone_without_world_landmarks(world_model):
    with pytest.raises(classifier.Unsupported, match="world landmarks.*--backbone movenet-lightning"):
        world_classifier(world_model[1], backbone="movenet-lightning")
    assert world_classifier(world_model[1], backbone="blazepose-full").kind == "world"


def test_a_node_kept_on_a_backbone_without_world_landmarks_says_its_world_model_labels_nothing(world_model, edge_ready,
                                                                                               tmp_path):
    """The model's backbone cannot load here (a newer server's, unknown to this node): the node goes
    on with the pose model it runs and says that the world model classifies nothing on it."""
    import argparse

    import runtime
    from edge.node import Node
    from edge.pipeline import Pipeline

    args = argparse.Namespace(backbone=None, executor="openvino", precision="f32", threads=None, max_people=None,
                              model=None, state_dir=tmp_path)
    logged = []
    node = Node(args, log=logged.append)
    node.classifier = world_classifier(world_model[1])
    node.classifier.spec["backbone"] = "blazepose-ultra"
    current = Pipeline(runtime.load("movenet-lightning", executor="openvino"))
    assert node._pipeline_for(current) is current
    assert "going on with movenet-lightning, on which w3d classifies nothing: world features need" in logged[-1]

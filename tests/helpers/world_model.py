"""A `world` export (keypoints + BlazePose's world landmarks) for the tests of the places that run
models (edge node, poseio, the inference API): random weights, as a trained one is not needed to
check that two pipelines agree, with the first layer scaled so the probabilities move with every
input. Building it imports TensorFlow (the test process only, never a server)."""
from pathlib import Path

LABELS = ["chair", "cobra", "dog", "tree", "warrior"]
NAME = "w3d"


def export_world_model(root: Path, backbone: str = "blazepose-lite") -> Path:
    """root/NAME/1/, a merged world model (one member per view) trained on `backbone`'s poses."""
    from core import features
    from training import export, model as model_lib

    members = len(features.VIEWS["world"])
    model = model_lib.build("world", features.WORLD_FEATURES_N, len(LABELS), members=members)
    weights = model.get_weights()
    weights[0] *= 3
    model.set_weights(weights)
    return export.export(model, LABELS, "world", Path(root) / NAME / "1", name=NAME,
                         report={"ensemble": members}, backbone=backbone)

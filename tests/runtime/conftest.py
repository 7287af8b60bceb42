import pytest

pytest.importorskip("tensorflow", reason="the TensorFlow executor needs the train extra (make test installs it)")

from tests.helpers.paths import ROOT, shared  # noqa: E402

# (backbone, max_people): PoseNet in both of the page's modes.
CASES = [("posenet", 1), ("posenet", 6), ("movenet-lightning", 1), ("movenet-thunder", 1), ("movenet-multipose", 6),
         ("blazepose-lite", 1), ("blazepose-full", 1), ("blazepose-heavy", 1)]
IDS = [f"{b}-x{n}" for b, n in CASES]
SINGLE_IMAGES = ["images/pose.jpg", "images/tennis_standing.jpg", "images/yoga.jpg", "coco/000000000785.jpg"]
MULTI_IMAGES = ["images/three_people.jpg", "images/tennis_in_crowd.jpg", "coco/000000196141.jpg"]
# girl3 filmed from above, upside down: BlazePose's detector finds nobody, so a still image takes
# its fallback (MoveNet Thunder seeds the ROI: runtime/blazepose.py _fallback)
FROM_ABOVE = "yoga5/train/dog/girl3_dog046.jpg"
# here the detector finds her, but the refined second pass loses her: the fallback too
LOST_ON_REFINE = "yoga5/train/chair/girl3_chair085.jpg"


def images_for(max_people: int, backbone: str = "") -> list[str]:
    if max_people > 1:
        return MULTI_IMAGES
    return SINGLE_IMAGES + ([FROM_ABOVE, LOST_ON_REFINE] if backbone.startswith("blazepose") else [])


@pytest.fixture(scope="session")
def weights_ready():
    if not (ROOT / "assets" / "pose" / "posenet.json").exists():
        pytest.skip("assets/ not built (make test builds it)")


@pytest.fixture(scope="session")
def estimator(weights_ready):
    """estimator(backbone, executor): loaded once per session."""
    import runtime

    cache = {}

    def get(backbone: str, executor: str):
        if executor == "openvino":
            pytest.importorskip("openvino", reason="the edge extra installs openvino (make setup)")
        if (backbone, executor) not in cache:
            cache[backbone, executor] = runtime.load(backbone, executor)
        return cache[backbone, executor]

    return get


@pytest.fixture(scope="session")
def image(shared_data):
    """image(relative path under ../shared/data) -> HxWx3 uint8 RGB, decoded once."""
    import tensorflow as tf

    cache = {}

    def get(name: str):
        if name not in cache:
            data = tf.io.read_file(str(shared(name)))
            cache[name] = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
        return cache[name]

    return get

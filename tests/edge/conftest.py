import pytest

from tests.helpers.paths import ROOT, shared

VIDEO = "videos/tfjs-pose_1.mp4"  # 120 frames, 576x576, one person


@pytest.fixture(scope="session")
def edge_ready():
    pytest.importorskip("cv2", reason="the edge extra installs opencv-python-headless (make setup)")
    pytest.importorskip("openvino", reason="the edge extra installs openvino (make setup)")
    if not (ROOT / "assets" / "pose" / "movenet-lightning.json").exists():
        pytest.skip("assets/ not built (make setup runs tools/assets.py)")


@pytest.fixture(scope="session")
def video(edge_ready):
    path = shared(VIDEO)
    if not path.exists():
        pytest.skip(f"real test video not found at {path} (CI has ../shared/data)")
    return path


@pytest.fixture(autouse=True)
def no_node_left_running():
    from tests.edge.node import EdgeNode

    yield
    while EdgeNode.started:
        EdgeNode.started.pop().kill()

"""Inputs other than the webcam, failures the user must be told about, and run-time controls."""
import json
import os
import shutil

import pytest

from tests.helpers import browser as hb
from tests.helpers.metrics import golden_agreement
from tests.helpers.paths import ROOT, shared
from tests.helpers.server import LiveServer

CANVAS_INK = """() => {
  const c = document.querySelector('#overlay');
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < px.length; i += 4) ink += px[i] > 0;
  return ink;
}"""


def test_video_file_picked_by_the_user(playwright_session, live_server, shared_data):
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none&backbone=movenet-lightning")
        page.wait_for("posecast.status === 'ready'")
        page.page.set_input_files("#file", str(shared("videos", "tfjs-pose_1.mp4")))
        page.wait_for("posecast.sourceName === 'tfjs-pose_1.mp4' && posecast.estimates >= 40")
        state = page.state()
        assert state["source"] == "video"
        golden = json.loads(shared("keypoints", "pose_1.json").read_text())
        agreement = golden_agreement(state["history"], golden, fps=30, tolerance=28)
        assert agreement.ratio >= 0.9, agreement
        assert page.outside_loopback() == []


def test_camera_denied_explains_and_offers_files(playwright_session, live_server, y4m):
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_1.mp4"), camera_allowed=False) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?backbone=movenet-lightning")
        # (the message also says the default model was trained on another backbone than this page's)
        page.wait_for("posecast.status === 'ready' && posecast.message.includes('denied')")
        assert page.page.locator("#message").is_visible()
        assert page.page.locator("#file").is_enabled()
        assert page.state("posecast.source") == "none"
    assert "Camera permission was denied" in live_server.log()


@pytest.fixture
def server_missing_thunder(browser_ready, tmp_path):
    """A server whose assets lack one weight file, as after a broken or partial install."""
    assets = tmp_path / "assets"
    shutil.copytree(ROOT / "assets", assets, copy_function=os.symlink)
    (assets / "pose" / "movenet-thunder.bin").unlink()
    server = LiveServer(tmp_path, env={"POSECAST_ASSETS_DIR": str(assets)}).start()
    yield server
    server.stop()


def test_model_that_fails_to_load_is_reported_on_page_and_in_log(playwright_session, server_missing_thunder):
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{server_missing_thunder.url}/?source=none&backbone=movenet-thunder")
        page.wait_for("posecast.status === 'error'")
        assert "Could not load the MoveNet Thunder model" in page.state("posecast.message")
        assert page.page.locator("#message").is_visible()
        # The page stays usable: another backbone loads.
        page.page.select_option("select[name=backbone]", "posenet")
        page.wait_for("posecast.status === 'ready' && posecast.backbone === 'posenet'")
    assert "Could not load the MoveNet Thunder model" in server_missing_thunder.log()


def test_switch_backbone_and_threshold_at_run_time(playwright_session, live_server, y4m):
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_1.mp4")) as browser:
        # display=video: the overlay is transparent over the <video>, so its ink is the skeleton's
        # (by default it also holds the frame: test_frame_display.py)
        page = hb.open_page(browser, f"{live_server.url}/?backbone=posenet&display=video")
        page.wait_for("posecast.status === 'ready' && posecast.estimates >= 10")
        assert page.page.evaluate(CANVAS_INK) > 100, "the skeleton was not drawn"

        page.page.select_option("select[name=backbone]", "blazepose-lite")
        page.wait_for("posecast.backbone === 'blazepose-lite' && posecast.estimates >= 10")
        assert len(page.state("posecast.poses")[0]["keypoints"]) == 33
        assert "backbone=blazepose-lite" in page.page.url

        # No keypoint scores 1.0 or more, so a threshold of 1 leaves the overlay empty.
        page.page.locator("#threshold").fill("1")
        page.page.wait_for_function(f"() => ({CANVAS_INK})() === 0", timeout=10000)
        assert page.errors == []

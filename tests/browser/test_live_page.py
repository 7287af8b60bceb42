"""The live page in a real headless Chromium with a fake webcam playing real videos."""
import json

import pytest

from tests.helpers import browser as hb
from tests.helpers.metrics import golden_agreement, named_frames
from tests.helpers.paths import shared

# Upstream's tolerance for pose_1.mp4 (tfjs-models pose-detection tests): 28 px at 576 px.
GOLDEN_TOLERANCE_PX = 28
RELATIVE_TOLERANCE = GOLDEN_TOLERANCE_PX / 576


def run_page(playwright_session, live_server, query, *, camera=None, min_estimates=60, camera_allowed=True):
    """Open the live page, wait for `min_estimates` estimates, return (state, recorded page, browser)."""
    with hb.chromium(playwright_session, camera=camera, camera_allowed=camera_allowed) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?{query}")
        page.wait_for(f"posecast.status === 'ready' && posecast.estimates >= {min_estimates}", 90)
        yield page


# The pose model runs in a Web Worker by default; worker=0 runs it on the page's thread (the fallback).
@pytest.mark.parametrize(("backbone", "thread"), [("posenet", "worker"), ("movenet-lightning", "worker"), ("posenet", "main")])
def test_webcam_keypoints_agree_with_golden(playwright_session, live_server, y4m, backbone, thread):
    golden = json.loads(shared("keypoints", "pose_1.json").read_text())
    camera = y4m("videos/tfjs-pose_1.mp4")
    query = f"backbone={backbone}" + ("&worker=0" if thread == "main" else "")
    for page in run_page(playwright_session, live_server, query, camera=camera, min_estimates=90):
        state = page.state()
        assert state["source"] == "webcam" and state["backbone"] == backbone
        assert state["thread"] == thread
        # in the worker, the camera's frames go straight from its track to the worker (live/page.js)
        assert state["capture"] == ("track" if thread == "worker" else "video")
        # The fake camera plays the clip at its own 30 fps; mediaTime says which frame was shown.
        agreement = golden_agreement(state["history"], golden, fps=30, tolerance=GOLDEN_TOLERANCE_PX)
        print(f"{backbone} ({thread}): {agreement.ratio:.1%} of {agreement.total} keypoints within 28 px of golden")
        assert agreement.total >= 60 * 10, agreement
        assert agreement.ratio >= 0.9, f"{backbone}: {agreement.ratio:.1%} of {agreement.total} keypoints within 28 px"
        assert page.outside_loopback() == []
        assert page.errors == []


def test_blazepose_full_body_on_squats(playwright_session, live_server, y4m):
    camera = y4m("videos/tfjs-pose_squats.mp4")
    for page in run_page(playwright_session, live_server, "backbone=blazepose-full", camera=camera, min_estimates=15):
        state = page.state()
        full_body = [
            entry for entry in state["history"] if entry["poses"]
            and len(entry["poses"][0]["keypoints"]) == 33
            and all(kp["score"] >= 0.5 for kp in entry["poses"][0]["keypoints"]
                    if kp["name"].split("_", 1)[-1] in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index"))
        ]
        assert len(full_body) >= 0.8 * len(state["history"]), "BlazePose did not see the whole body"
        # Golden BlazePose-full output, 5 fps like the clip; same relative tolerance as pose_1.
        golden = named_frames(json.loads(shared("keypoints", "pose_squats.full.json").read_text()))
        agreement = golden_agreement(state["history"], golden, fps=5, tolerance=RELATIVE_TOLERANCE * 1280)
        print(f"blazepose-full: {agreement.ratio:.1%} of {agreement.total} keypoints within tolerance of golden")
        assert agreement.ratio >= 0.9, f"{agreement.ratio:.1%} of {agreement.total} keypoints within tolerance"
        assert page.outside_loopback() == []


@pytest.mark.parametrize("query", ["backbone=movenet-multipose", "backbone=posenet&multi=1"])
def test_multi_person_tracked(playwright_session, live_server, y4m, query):
    camera = y4m("images/three_people.jpg", fps=10, still_seconds=3)
    for page in run_page(playwright_session, live_server, query, camera=camera, min_estimates=20):
        history = page.state("posecast.history")
        ids = [sorted(p["id"] for p in entry["poses"]) for entry in history[-10:]]
        assert all(len(frame_ids) >= 2 for frame_ids in ids), ids
        # Stable tracks: the same ids frame after frame on a still scene.
        assert all(frame_ids == ids[0] for frame_ids in ids), ids


def test_libraries_arrive_compressed_and_the_page_still_runs(playwright_session, live_server):
    """tools/assets.py precompresses the libraries and wasm; Chromium must decode them (the wasm
    backend compiles from a compressed response) and the page must get ready on them."""
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none&backbone=posenet")
        page.wait_for("posecast.status === 'ready'", 90)
        sent = {url.split("/assets/lib/")[1]: enc for url, enc in page.encodings.items() if "/assets/lib/" in url}
        assert sent.get("ml5.min.js") in ("br", "gzip"), sent
        assert any(name.endswith(".wasm") and enc in ("br", "gzip") for name, enc in sent.items()), sent
        assert page.errors == []


def test_without_workers_the_page_runs_the_model_itself(playwright_session, live_server, shared_data):
    """A browser without OffscreenCanvas (the worker's pixel reader) gets the page's thread."""
    with hb.chromium(playwright_session) as browser:
        context = browser.new_context()
        context.add_init_script("delete globalThis.OffscreenCanvas;")
        page = hb.RecordedPage(context.new_page())
        page.page.goto(f"{live_server.url}/?source=none&backbone=movenet-lightning")
        page.wait_for("posecast.status === 'ready'", 90)
        page.page.set_input_files("#file", str(shared("images", "three_people.jpg")))
        page.wait_for("posecast.sourceName === 'three_people.jpg' && posecast.estimates >= 1")
        assert page.state("posecast.thread") == "main"
        assert len(page.state("posecast.poses")) == 1
        assert page.errors == []
        context.close()

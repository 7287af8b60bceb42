"""Keypoint accuracy against HUMAN ground truth: COCO val2017 images with labelled keypoints.

Every backbone runs in the live page on each image (picked through the file input, as a user
would) and is scored with PCK@0.2 of torso size over every labelled person, so a person a
single-pose model cannot see scores zero. The floors sit a few points under the figures measured
here (README, "Accuracy"); a regression in decoding, scaling or weights falls through them.
"""
import json

import pytest

from tests.helpers import browser as hb
from tests.helpers.metrics import Pck, pck
from tests.helpers.paths import shared

# backbone query -> PCK floors (over all 12 scorable labelled people; over the people found).
# Single-pose models find one person per image, so most of the three crowd scenes is missed.
FLOORS = {
    "backbone=posenet": (0.22, 0.70),
    "backbone=posenet&multi=1": (0.53, 0.65),
    "backbone=movenet-lightning": (0.26, 0.78),
    "backbone=movenet-thunder": (0.30, 0.88),
    "backbone=movenet-multipose": (0.74, 0.80),
    "backbone=blazepose-lite": (0.17, 0.70),
    "backbone=blazepose-full": (0.17, 0.50),
}


@pytest.fixture(scope="module")
def coco(shared_data):
    data = json.loads(shared("coco", "test_coco.json").read_text())
    by_image = {img["id"]: (img, []) for img in data["images"]}
    for ann in data["annotations"]:
        by_image[ann["image_id"]][1].append(ann)
    return list(by_image.values())


@pytest.fixture(scope="module")
def browser(playwright_session):
    with hb.chromium(playwright_session) as b:
        yield b


@pytest.mark.parametrize("query", list(FLOORS))
def test_pck_against_coco_ground_truth(browser, live_server, coco, query):
    page = hb.open_page(browser, f"{live_server.url}/?source=none&{query}")
    page.wait_for("posecast.status === 'ready'")
    assert page.state("posecast.thread") == "worker"
    total = Pck()
    for image, annotations in coco:
        page.page.set_input_files("#file", str(shared("coco", image["file_name"])))
        page.wait_for(f"posecast.sourceName === {json.dumps(image['file_name'])} && posecast.estimates >= 1")
        pck(page.state("posecast.poses"), annotations, pck_out=total)
    page.page.context.close()
    print(f"COCO PCK@0.2 {query}: all people {total.value:.3f} ({total.correct}/{total.labelled} keypoints), "
          f"people found {total.matched}/{total.people}, on them {total.matched_value:.3f}")
    assert total.people == 12  # the labelled people with a shoulder-hip diagonal
    all_floor, found_floor = FLOORS[query]
    assert total.value >= all_floor
    assert total.matched_value >= found_floor
    assert page.outside_loopback() == []

"""`posecast poses` on real data: COCO keypoint results scored with pycocotools (OKS AP) against
the human ground truth of ../shared/data/coco (README: the AP per backbone), OpenPose JSON read
back against the same keypoints, and a video to CSV with an annotated MP4."""
import contextlib
import csv
import io
import json
import subprocess
import sys

import pytest

from poseio.formats import OPENPOSE_COCO18

from .conftest import needs
from tests.helpers.paths import ROOT
from core.tables import COCO17

# Measured AP on the 4 images (14 people) here; the floors leave room for executor noise only.
# Single-person backbones find one person per image, so their AP is bounded by the crowd scenes.
AP_FLOOR = {"posenet": 0.12, "movenet-thunder": 0.25, "movenet-multipose": 0.45}


def poses(tmp_path, *args):
    done = subprocess.run([sys.executable, "-m", "server", "poses", *map(str, args), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def oks_ap(results_file) -> float:
    pytest.importorskip("pycocotools", reason="pycocotools is in the test extra (pip install -e '.[test]')")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(needs("coco", "test_coco.json")))
        evaluation = COCOeval(gt, gt.loadRes(str(results_file)), "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


@pytest.mark.parametrize("backbone", sorted(AP_FLOOR))
def test_coco_results_score_against_human_ground_truth(tmp_path, backbone):
    folder = needs("coco")
    poses(tmp_path, folder, "--backbone", backbone, "--format", "coco", "--out", tmp_path)
    results = json.loads((tmp_path / "results.coco.json").read_text())
    gt_ids = {img["id"] for img in json.loads((folder / "test_coco.json").read_text())["images"]}
    assert {r["image_id"] for r in results} <= gt_ids and all(len(r["keypoints"]) == 51 for r in results)
    ap = oks_ap(tmp_path / "results.coco.json")
    print(f"{backbone}: COCO keypoint AP (OKS) {ap:.3f}")
    assert ap >= AP_FLOOR[backbone]


def test_openpose_json_reads_back_as_the_same_keypoints(tmp_path):
    folder = needs("coco")
    poses(tmp_path / "op", folder, "--backbone", "movenet-multipose", "--format", "openpose", "--out", tmp_path / "op")
    poses(tmp_path / "js", folder, "--backbone", "movenet-multipose", "--format", "jsonl", "--out", tmp_path / "js")
    frames = [json.loads(line) for line in (tmp_path / "js" / "poses.jsonl").read_text().splitlines()]
    assert len(frames) == 4
    for frame in frames:
        stem = frame["source"].rsplit(".", 1)[0]
        written = json.loads((tmp_path / "op" / f"{stem}_keypoints.json").read_text())
        assert len(written["people"]) == len(frame["people"])
        for person, op in zip(frame["people"], written["people"]):
            flat = op["pose_keypoints_2d"]
            assert len(flat) == 54
            by_name = {k["name"]: k for k in person["keypoints"]}
            for i, name in enumerate(OPENPOSE_COCO18):
                x, y, c = flat[3 * i: 3 * i + 3]
                if name == "neck":
                    ls, rs = by_name["left_shoulder"], by_name["right_shoulder"]
                    assert x == pytest.approx((ls["x"] + rs["x"]) / 2, abs=0.01)
                    assert c == pytest.approx(min(ls["score"], rs["score"]), abs=1e-4)
                else:
                    k = by_name[name]
                    assert (x, y, c) == pytest.approx((k["x"], k["y"], k["score"]), abs=0.01)
    assert set(OPENPOSE_COCO18) - {"neck"} == set(COCO17)


def test_a_video_to_csv_with_an_annotated_mp4(tmp_path):
    pytest.importorskip("cv2", reason="videos need opencv-python-headless (the edge extra)")
    video = needs("videos", "tfjs-pose_1.mp4")
    poses(tmp_path, video, "--backbone", "movenet-lightning", "--format", "csv", "--out", tmp_path, "--annotate")
    rows = list(csv.DictReader((tmp_path / "poses.csv").open()))
    import cv2

    cap = cv2.VideoCapture(str(tmp_path / "tfjs-pose_1.annotated.mp4"))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(rows) >= 100
    assert [int(r["frame"]) for r in rows] == list(range(len(rows)))
    assert float(rows[-1]["time_s"]) > 3.0 and all(r["nose_x"] for r in rows)
    # Upstream's MoveNet Lightning keypoints of this video, frame by frame (its tolerance: 28 px).
    golden = json.loads(needs("keypoints", "pose_1.json").read_text())
    errors = [((float(row[f"{n}_x"]) - ref[n]["x"]) ** 2 + (float(row[f"{n}_y"]) - ref[n]["y"]) ** 2) ** 0.5
              for row, ref in zip(rows, golden) for n in COCO17]
    errors.sort()
    assert errors[len(errors) // 2] < 28, f"median keypoint {errors[len(errors) // 2]:.1f} px from upstream's"

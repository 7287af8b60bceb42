"""Exploring a dataset before training: poses not found or unsure, likely mislabels, near-duplicates
and the 2-D map (core/explore.py), through GET /api/datasets/<id>/explore."""
import numpy as np
import pytest

from tests.samples.test_datasets import NAMES, sample

ARMS = [NAMES.index(n) for n in ("left_elbow", "right_elbow", "left_wrist", "right_wrist")]


def pose(rng, arms_up: bool, score=0.9):
    """A standing person, arms down or up, a few pixels of jitter."""
    kps = np.array([[300 + (i % 2) * 40 - 20, 40 + 25 * i, score] for i in range(17)], dtype=float)
    kps[[NAMES.index("left_hip"), NAMES.index("right_hip")], 1] = 250
    if arms_up:
        kps[ARMS, 1] = [30, 30, -40 + 60, -40 + 60]
    kps[:, :2] += rng.normal(0, 3, (17, 2))
    return kps


def as_keypoints(kps):
    return [{"name": n, "x": float(x), "y": float(y), "score": float(s)} for n, (x, y, s) in zip(NAMES, kps)]


def dataset_rows():
    rng = np.random.default_rng(0)
    rows = [("down", pose(rng, False)) for _ in range(8)] + [("up", pose(rng, True)) for _ in range(8)]
    rows.append(("down", pose(rng, True)))  # 16: arms up, labelled down
    rows.append(("up", rows[8][1].copy()))  # 17: the same keypoints as sample 8
    nobody = pose(rng, False, score=0.05)
    rows.append(("down", nobody))  # 18: no pose
    unsure = pose(rng, False)
    unsure[6:, 2] = 0.1
    rows.append(("up", unsure))  # 19: 6 keypoints seen
    return rows


def flags_of(points, i):
    return {f["kind"]: f for f in points[i]["flags"]}


def test_explore_finds_what_to_review():
    from core.explore import explore

    rows = dataset_rows()
    result = explore(list(range(len(rows))), [r[0] for r in rows], np.stack([r[1] for r in rows]))
    points = result["points"]
    assert flags_of(points, 16)["mislabel"]["suggested"] == "up"
    assert flags_of(points, 17)["duplicate"] == {"kind": "duplicate", "of": 8, "of_label": "up", "distance": 0.0}
    assert "no_pose" in flags_of(points, 18) and points[18]["x"] is None  # not on the map
    assert flags_of(points, 19)["unsure"]["seen"] == 6
    clean = [i for i in range(16) if i != 8]
    assert all(points[i]["flags"] == [] for i in clean), [points[i] for i in clean if points[i]["flags"]]
    # The map separates the classes on its first axis.
    xs = {label: [p["x"] for p in points[:16] if p["label"] == label] for label in ("down", "up")}
    assert max(xs["down"]) < min(xs["up"]) or max(xs["up"]) < min(xs["down"])
    assert result["explained"][0] > 0.5


def test_explore_route(client, user_client):
    ds = client.post("/api/datasets", json={"name": "arms"}).get_json()
    empty = client.get(f"/api/datasets/{ds['id']}/explore")
    assert empty.status_code == 200 and empty.get_json()["points"] == []
    ids = [client.post(f"/api/datasets/{ds['id']}/samples", json=sample(label, keypoints=as_keypoints(kps), tm=None))
           .get_json()["id"] for label, kps in dataset_rows()]
    body = client.get(f"/api/datasets/{ds['id']}/explore").get_json()
    assert [p["id"] for p in body["points"]] == ids
    by_id = {p["id"]: p for p in body["points"]}
    assert {f["kind"] for f in by_id[ids[16]]["flags"]} == {"mislabel"}
    assert by_id[ids[17]]["flags"][0]["of"] == ids[8]
    assert by_id[ids[0]]["thumbnail"] == f"/api/samples/{ids[0]}/thumbnail"
    assert body["per_class"]["down"] == {"samples": 10, "no_pose": 1, "unsure": 0, "mislabel": 1, "duplicate": 0}
    assert client.get("/api/datasets/999/explore").status_code == 404
    assert user_client("operator").get(f"/api/datasets/{ds['id']}/explore").status_code == 403


@pytest.mark.parametrize("path", ["/api/datasets/x/explore", "/api/datasets/-1/explore"])
def test_explore_bad_ids(client, path):
    assert client.get(path).status_code == 404

import base64
import math

import numpy as np
import pytest

NAMES = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
         "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
         "left_knee", "right_knee", "left_ankle", "right_ankle"]
THUMB = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0" + b"0" * 100).decode()


def sample(label="tree", **over):
    body = {"label": label, "backbone": "posenet", "width": 640, "height": 480,
            "keypoints": [{"name": n, "x": 100.0 + 9 * i, "y": 50.0 + 11 * i, "score": 0.9} for i, n in enumerate(NAMES)],
            "tm": base64.b64encode(np.linspace(0, 1, 14739, dtype="<f4").tobytes()).decode(),
            "thumbnail": THUMB}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def dataset(client):
    return client.post("/api/datasets", json={"name": "poses"}).get_json()


def test_record_relabel_and_delete_samples(client, app, dataset):
    ids = [client.post(f"/api/datasets/{dataset['id']}/samples", json=sample(label)).get_json()["id"]
           for label in ("tree", "tree", "chair")]
    ds = client.get(f"/api/datasets/{dataset['id']}").get_json()
    assert ds["counts"] == {"tree": 2, "chair": 1}
    assert [s["label"] for s in ds["samples"]] == ["tree", "tree", "chair"]
    thumb = client.get(ds["samples"][0]["thumbnail"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    folder = app.instance_path + f"/samples/{dataset['id']}"
    stored = np.fromfile(f"{folder}/{ids[0]}.f32", dtype="<f4")
    assert stored.shape == (14739,) and stored[-1] == 1.0

    assert client.patch(f"/api/samples/{ids[1]}", json={"label": "chair"}).status_code == 200
    assert client.get(f"/api/datasets/{dataset['id']}").get_json()["counts"] == {"tree": 1, "chair": 2}
    assert client.delete(f"/api/samples/{ids[0]}").status_code == 204
    assert client.get(f"/api/datasets/{dataset['id']}").get_json()["counts"] == {"chair": 2}
    import os
    assert not os.path.exists(f"{folder}/{ids[0]}.f32") and not os.path.exists(f"{folder}/{ids[0]}.jpg")


def test_normalised_keypoints_are_stored_with_the_raw(client, app, dataset):
    from sqlalchemy import select

    from server import db
    from core.features import keypoint_vector
    from server.samples.datasets import samples

    body = sample()
    client.post(f"/api/datasets/{dataset['id']}/samples", json=body)
    with app.app_context(), db.engine().connect() as conn:
        row = conn.execute(select(samples)).one()
    assert np.allclose(row.normalised, keypoint_vector(body["keypoints"]))
    assert row.keypoints == body["keypoints"]


BAD = [
    ({"label": ""}, "label"),
    ({"label": "a\nb"}, "label"),
    ({"label": "x" * 65}, "label"),
    ({"backbone": "openpose"}, "backbone"),
    ({"width": 0}, "width"),
    ({"width": math.nan}, "width"),
    ({"keypoints": [{"name": "nose", "x": 1, "y": 1, "score": 1}] * 16}, "list of 17"),
    ({"keypoints": [{"name": n, "x": math.nan, "y": 1, "score": 1} for n in NAMES]}, "finite"),
    ({"keypoints": [{"name": n, "x": 1, "y": 1, "score": 2} for n in NAMES]}, "score must be between"),
    ({"keypoints": [{"name": n, "x": 1, "y": 1} for n in NAMES]}, "{name, x, y, score}"),
    ({"keypoints": [{"name": f"p{i}", "x": 1, "y": 1, "score": 1} for i in range(17)]}, "lack"),
    ({"tm": base64.b64encode(np.zeros(100, "<f4").tobytes()).decode()}, "14739"),
    ({"tm": base64.b64encode(np.full(14739, np.nan, "<f4").tobytes()).decode()}, "finite"),
    ({"tm": "!!not base64!!"}, "base64"),
    ({"backbone": "movenet-lightning"}, "posenet backbone only"),
    ({"thumbnail": "data:text/html;base64,PGI+"}, "JPEG"),
    ({"extra": 1}, "unknown field"),
]


@pytest.mark.parametrize("change, error", BAD)
def test_bad_samples_are_refused_and_nothing_is_stored(client, app, dataset, change, error):
    r = client.post(f"/api/datasets/{dataset['id']}/samples", json=sample(**change))
    assert r.status_code == 400
    assert error in r.get_json()["error"]
    assert client.get(f"/api/datasets/{dataset['id']}").get_json()["counts"] == {}
    import os
    folder = app.instance_path + f"/samples/{dataset['id']}"
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_oversize_sample_is_refused(client, dataset):
    r = client.post(f"/api/datasets/{dataset['id']}/samples", data="x" * (300 * 1024), content_type="application/json")
    assert r.status_code == 400 and "larger than" in r.get_json()["error"]


@pytest.mark.parametrize("name, status", [("poses", 409), ("../up", 400), ("", 400), (None, 400)])
def test_dataset_names(client, dataset, name, status):
    assert client.post("/api/datasets", json={"name": name}).status_code == status


@pytest.mark.parametrize("body, status, error", [
    ({}, 400, "at least 2 classes"),
    ({"features": "pixels"}, 400, "features"),
    ({"epochs": 0}, 400, "epochs"),
    ({"epochs": "10"}, 400, "epochs"),
    ({"ensemble": 0}, 400, "ensemble must be a whole number from 1 to 10"),
    ({"ensemble": 11}, 400, "ensemble must be"),
    ({"ensemble": "3"}, 400, "ensemble must be"),
    ({"ensemble": True}, 400, "ensemble must be"),
    ({"ensemble": 2.5}, 400, "ensemble must be"),
    ({"features": "tm", "ensemble": 3}, 400, "ensemble 3: must be 1, or more for pose, keypoints, world features, not tm"),
    ({"name": "../x"}, 400, "name"),
])
def test_training_refuses_bad_requests(client, dataset, body, status, error):
    client.post(f"/api/datasets/{dataset['id']}/samples", json=sample("tree"))
    r = client.post(f"/api/datasets/{dataset['id']}/train", json=body)
    assert r.status_code == status and error in r.get_json()["error"]
    assert client.get("/api/runs").get_json()["runs"] == []


def test_unknown_dataset_and_sample(client):
    assert client.post("/api/datasets/99/samples", json=sample()).status_code == 404
    assert client.post("/api/datasets/99/train", json={}).status_code == 404
    assert client.delete("/api/samples/99").status_code == 404
    assert client.patch("/api/samples/99", json={"label": "x"}).status_code == 404


# BlazePose samples keep the pose's world landmarks (the page's keypoints3D), for `world` models.
def blazepose_sample(label="tree", **over):
    from core.tables import BLAZEPOSE33

    body = {"label": label, "backbone": "blazepose-heavy", "width": 640, "height": 480,
            "keypoints": [{"name": n, "x": 100.0 + 5 * i, "y": 50.0 + 7 * i, "score": 0.9} for i, n in enumerate(BLAZEPOSE33)],
            "keypoints3D": [{"name": n, "x": 0.01 * i - 0.2, "y": 0.5 - 0.03 * i, "z": 0.002 * i * i - 0.1}
                            for i, n in enumerate(BLAZEPOSE33)],
            "thumbnail": THUMB}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def db_client(any_db_app):
    """Logged in as the admin, on SQLite and on the real PostgreSQL server."""
    from tests.helpers.auth import ADMIN, login

    return login(any_db_app.test_client(), *ADMIN)


def stored_world(app) -> list:
    from sqlalchemy import select

    from server import db
    from server.samples.datasets import samples

    with app.app_context(), db.engine().connect() as conn:
        return [r.world for r in conn.execute(select(samples.c.world).order_by(samples.c.id))]


def test_blazepose_samples_keep_their_world_landmarks(db_client, any_db_app):
    ds = db_client.post("/api/datasets", json={"name": "studio"}).get_json()
    body = blazepose_sample()
    assert db_client.post(f"/api/datasets/{ds['id']}/samples", json=body).status_code == 201
    # as runtime/ gives them (an import): [x, y, z] rows, no names
    rows = [[p["x"], p["y"], p["z"]] for p in body["keypoints3D"]]
    assert db_client.post(f"/api/datasets/{ds['id']}/samples", json=blazepose_sample(keypoints3D=rows)).status_code == 201
    assert db_client.post(f"/api/datasets/{ds['id']}/samples", json=blazepose_sample(keypoints3D=None)).status_code == 201
    assert stored_world(any_db_app) == [rows, rows, None]
    listed = db_client.get(f"/api/datasets/{ds['id']}").get_json()["samples"]
    assert [s["world"] for s in listed] == [True, True, False]


WORLD_BAD = [
    ({"backbone": "posenet", "keypoints": sample()["keypoints"]}, "BlazePose backbones only"),
    ({"backbone": "movenet-thunder", "keypoints": sample()["keypoints"]}, "BlazePose backbones only"),
    ({"keypoints3D": blazepose_sample()["keypoints3D"][:17]}, "list of 33"),
    ({"keypoints3D": "0,0,0"}, "list of 33"),
    ({"keypoints3D": [{"x": 0, "y": 0}] * 33}, "{x, y, z}"),
    ({"keypoints3D": [{"x": 0, "y": 0, "z": 0, "w": 1}] * 33}, "{x, y, z}"),
    ({"keypoints3D": [[0, 0]] * 33}, "{x, y, z}"),
    ({"keypoints3D": [{"x": math.nan, "y": 0, "z": 0}] * 33}, "finite"),
    ({"keypoints3D": [{"x": 0, "y": 0, "z": "1"}] * 33}, "finite"),
    ({"keypoints3D": [{"x": 0, "y": 0, "z": 11.0}] * 33}, "keypoints3D[0].z must be between -10.0 and 10.0"),
    ({"keypoints3D": [{"x": 0, "y": 0, "z": 0, "score": 1.5}] * 33}, "score must be between"),
    ({"keypoints3D": blazepose_sample()["keypoints3D"][::-1]}, "same order"),
]


@pytest.mark.parametrize("change, error", WORLD_BAD)
def test_bad_world_landmarks_are_refused_and_nothing_is_stored(client, app, dataset, change, error):
    body = blazepose_sample(**change)
    if "keypoints3D" not in change:
        body["keypoints3D"] = blazepose_sample()["keypoints3D"][:17]
    r = client.post(f"/api/datasets/{dataset['id']}/samples", json=body)
    assert r.status_code == 400 and error in r.get_json()["error"]
    assert client.get(f"/api/datasets/{dataset['id']}").get_json()["counts"] == {}
    assert stored_world(app) == []


def test_a_database_made_before_world_landmarks_gets_the_column(any_db_app):
    """An existing database keeps its samples (without world landmarks) and takes new ones."""
    from sqlalchemy import text

    from server import create_app, db
    from tests.helpers.auth import ADMIN, ADMIN_CONFIG, login

    client = login(any_db_app.test_client(), *ADMIN)
    ds = client.post("/api/datasets", json={"name": "old"}).get_json()
    assert client.post(f"/api/datasets/{ds['id']}/samples", json=sample()).status_code == 201
    with db.engine_of(any_db_app).begin() as conn:
        conn.execute(text("ALTER TABLE samples DROP COLUMN world"))
    db.engine_of(any_db_app).dispose()
    again = create_app({**{k: any_db_app.config[k] for k in
                           ("INSTANCE_PATH", "MODELS_DIR", "DATABASE_URL", "ASYNC_MODE", "TESTING")}, **ADMIN_CONFIG})
    client = login(again.test_client(), *ADMIN)
    assert client.post(f"/api/datasets/{ds['id']}/samples", json=blazepose_sample()).status_code == 201
    assert [s["world"] for s in client.get(f"/api/datasets/{ds['id']}").get_json()["samples"]] == [False, True]


def test_world_training_needs_every_sample_to_keep_world_landmarks(client, dataset):
    """Refused with the reason and, for a BlazePose dataset, how many samples lack them; nothing starts."""
    url = f"/api/datasets/{dataset['id']}"
    for label in ("tree", "tree", "chair", "chair"):
        client.post(f"{url}/samples", json=sample(label))
    r = client.post(f"{url}/train", json={"features": "world", "ensemble": 3})
    assert r.status_code == 400 and "recorded with posenet: world features need BlazePose's world landmarks" \
        in r.get_json()["error"]
    other = client.post("/api/datasets", json={"name": "blaze"}).get_json()
    url = f"/api/datasets/{other['id']}"
    for label in ("tree", "tree", "chair", "chair"):
        client.post(f"{url}/samples", json=blazepose_sample(label))
    r = client.post(f"{url}/train", json={"features": "world", "ensemble": 1})
    assert r.status_code == 400 and "world features merge one model per view (3)" in r.get_json()["error"]
    client.post(f"{url}/samples", json=blazepose_sample("chair", keypoints3D=None))
    r = client.post(f"{url}/train", json={"features": "world", "ensemble": 3})
    assert r.status_code == 400 and "1 of 5 sample(s) have none" in r.get_json()["error"]
    assert client.get("/api/runs").get_json()["runs"] == []

import json
import shutil

import pytest

from server import create_app
from tests.helpers.auth import ADMIN, ADMIN_CONFIG, login
from server.sockets import socketio
from tests.helpers.paths import ROOT

DEFAULT = ROOT / "tfjs_models" / "yoga5" / "1"


@pytest.fixture
def models_dir(tmp_path):
    """Two versions of the committed default model plus a Teachable Machine-style export."""
    root = tmp_path / "models"
    shutil.copytree(DEFAULT, root / "yoga5" / "1")
    shutil.copytree(DEFAULT, root / "yoga5" / "2")
    tm = root / "posture" / "1"
    tm.mkdir(parents=True)
    (tm / "model.json").write_text("{}")
    (tm / "metadata.json").write_text(json.dumps({"packageName": "@teachablemachine/pose", "labels": ["good", "bad"]}))
    (root / "not-a-model" / "1").mkdir(parents=True)
    (root / "bad name!" / "1").mkdir(parents=True)
    return root


@pytest.fixture
def app(tmp_path, models_dir):
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "ASYNC_MODE": "threading",
                       "MODELS_DIR": str(models_dir), **ADMIN_CONFIG})


def by_name(client):
    return {(m["name"], m["version"]): m for m in client.get("/api/models").get_json()["models"]}


def test_scan_registers_exports_and_activates_the_default(client):
    models = by_name(client)
    assert set(models) == {("yoga5", 1), ("yoga5", 2), ("posture", 1)}
    assert models[("posture", 1)]["features"] == "tm" and models[("posture", 1)]["labels"] == ["good", "bad"]
    # the backbone each was trained on (live pages switch to it): TM models run on PoseNet
    assert {k: m["backbone"] for k, m in models.items()} == {k: "posenet" for k in models}
    active = client.get("/api/models/active").get_json()
    assert (active["name"], active["version"]) == ("yoga5", 2)  # newest version of POSECAST_DEFAULT_MODEL
    assert active["url"] == "/models/yoga5/2/model.json"
    assert client.get(active["url"]).status_code == 200


def test_the_default_model_may_name_a_version(tmp_path, models_dir):
    from server.config import ConfigError

    config = {"INSTANCE_PATH": str(tmp_path / "pinned"), "ASYNC_MODE": "threading", "MODELS_DIR": str(models_dir),
              **ADMIN_CONFIG}
    pinned = login(create_app({**config, "DEFAULT_MODEL": "yoga5/1"}).test_client(), *ADMIN)
    active = pinned.get("/api/models/active").get_json()
    assert (active["name"], active["version"]) == ("yoga5", 1)  # not the newest
    for bad in ("yoga5/0", "yoga5/x", "yoga5/1/2", "../yoga5"):
        with pytest.raises(ConfigError, match="POSECAST_DEFAULT_MODEL"):
            create_app({**config, "DEFAULT_MODEL": bad})


def test_live_page_gets_the_active_model_on_connect_and_on_every_change(app, client):
    page = socketio.test_client(app, namespace="/live")
    received = page.get_received("/live")
    assert [e["name"] for e in received] == ["model_activated"]
    assert received[0]["args"][0]["version"] == 2

    posture = by_name(client)[("posture", 1)]
    r = client.post(f"/api/models/{posture['id']}/activate")
    assert r.status_code == 200 and r.get_json()["name"] == "posture"
    pushed = page.get_received("/live")
    assert pushed[-1]["name"] == "model_activated" and pushed[-1]["args"][0]["labels"] == ["good", "bad"]

    r = client.post("/api/models/rollback")
    assert (r.get_json()["name"], r.get_json()["version"]) == ("yoga5", 2)
    assert page.get_received("/live")[-1]["args"][0]["name"] == "yoga5"
    page.disconnect(namespace="/live")


def test_delete(client, models_dir):
    models = by_name(client)
    active_id = models[("yoga5", 2)]["id"]
    r = client.delete(f"/api/models/{active_id}")
    assert r.status_code == 409 and "active" in r.get_json()["error"]
    old = models[("yoga5", 1)]["id"]
    assert client.delete(f"/api/models/{old}").status_code == 204
    assert not (models_dir / "yoga5" / "1").exists()
    assert ("yoga5", 1) not in by_name(client)
    assert (models_dir / "yoga5").is_dir()  # version 2 is still there


def test_deleting_the_last_version_leaves_no_empty_folder(client, models_dir):
    posture = by_name(client)[("posture", 1)]["id"]
    assert client.delete(f"/api/models/{posture}").status_code == 204
    assert not (models_dir / "posture").exists()


@pytest.mark.parametrize("method, path, status", [
    ("post", "/api/models/999/activate", 404),
    ("delete", "/api/models/999", 404),
    ("post", "/api/models/rollback", 409),
    ("post", "/api/models/abc/activate", 404),
])
def test_bad_registry_requests(client, method, path, status):
    r = getattr(client, method)(path)
    assert r.status_code == status

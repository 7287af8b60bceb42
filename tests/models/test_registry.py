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
    # the code's default, yoga5/9, is not in this folder: the newest of its name
    assert (active["name"], active["version"]) == ("yoga5", 2)
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


def active_after_restart(config, **changes):
    """A server process started anew on the same database and models folder: its active model."""
    active = login(create_app({**config, **changes}).test_client(), *ADMIN).get("/api/models/active").get_json()
    return active["name"], active["version"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_config(request, tmp_path, models_dir):
    """An app's configuration on SQLite, then on a fresh database of the real PostgreSQL server."""
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "ASYNC_MODE": "threading",
              "MODELS_DIR": str(models_dir), **ADMIN_CONFIG}
    if request.param == "postgresql":
        pg = request.getfixturevalue("postgres")
        config["DATABASE_URL"] = pg.fresh_database(f"r{abs(hash(request.node.nodeid)) % 10**12}")
    return config


def test_a_changed_default_is_activated_until_someone_chooses(db_config, models_dir):
    """POSECAST_DEFAULT_MODEL changed (a release shipping a newer default, an operator naming
    another) reaches an install where nobody chose a model; a version trained under the default's
    name is only registered; an activation or a rollback is a choice start-up keeps."""
    # the code's default (yoga5/9) is not in this folder: its newest yoga5, said in the log
    assert active_after_restart(db_config) == ("yoga5", 2)
    shutil.copytree(DEFAULT, models_dir / "yoga5" / "3")  # as `posecast train --name yoga5` makes one
    assert active_after_restart(db_config) == ("yoga5", 2)
    assert active_after_restart(db_config, DEFAULT_MODEL="yoga5/1") == ("yoga5", 1)
    assert active_after_restart(db_config, DEFAULT_MODEL="yoga5") == ("yoga5", 3)

    client = login(create_app(db_config).test_client(), *ADMIN)
    r = client.post("/api/models/rollback")
    assert r.status_code == 200 and r.get_json()["version"] == 1
    assert active_after_restart(db_config, DEFAULT_MODEL="yoga5/2") == ("yoga5", 1)
    posture = by_name(client)[("posture", 1)]["id"]
    assert client.post(f"/api/models/{posture}/activate").status_code == 200
    assert active_after_restart(db_config, DEFAULT_MODEL="yoga5/3") == ("posture", 1)


@pytest.mark.parametrize("choices, expected", [(0, ("yoga5", 3)), (1, ("posture", 1))])
def test_databases_from_before_get_a_newer_default_unless_a_choice_was_made(db_config, models_dir, choices, expected):
    """A database from before start-up's activations were marked: its one activation, of the
    default's name, was start-up's (a newer default replaces it); a second was a choice."""
    from sqlalchemy import text

    from server import db

    app = create_app({**db_config, "DEFAULT_MODEL": "yoga5"})
    client = login(app.test_client(), *ADMIN)
    for _ in range(choices):
        assert client.post(f"/api/models/{by_name(client)[('posture', 1)]['id']}/activate").status_code == 200
    with app.app_context(), db.engine().begin() as conn:
        conn.execute(text("ALTER TABLE model_activations DROP COLUMN default_for"))
    shutil.copytree(DEFAULT, models_dir / "yoga5" / "3")
    assert active_after_restart(db_config, DEFAULT_MODEL="yoga5/3") == expected
    assert active_after_restart(db_config, DEFAULT_MODEL="yoga5/3") == expected  # and it stays


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

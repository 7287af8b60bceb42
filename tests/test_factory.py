from server import create_app
from server.sockets import socketio


def test_config_overrides_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("POSECAST_PORT", "9001")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading", "PORT": 9002})
    assert app.config["PORT"] == 9002
    assert app.instance_path == str(tmp_path)


def test_socketio_uses_configured_async_mode(app):
    assert socketio.server.async_mode == "threading"
    assert app.extensions["socketio"] is socketio


def test_health_checks_the_database(client):
    body = client.get("/api/health").get_json()
    assert body == {"status": "ok", "database": "sqlite", "async_mode": "threading"}


def test_sqlite_database_lives_in_instance_folder_in_wal_mode(app, tmp_path):
    from sqlalchemy import text

    from server import db

    with app.app_context():
        with db.engine().connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert (tmp_path / "instance" / "posecast.db").exists()


def test_socketio_handshake_over_real_test_client(app):
    sio = socketio.test_client(app)
    assert sio.is_connected()
    sio.disconnect()

"""A zip of class folders uploaded to the server becomes samples (keypoints, TM features,
thumbnails), all or nothing."""
import io
import threading
import zipfile

import pytest
import socketio

from tests.helpers.server import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("srv")).start()
    yield srv
    srv.stop()


def upload(server, dataset_id, entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    done = threading.Event()
    events = []
    client = socketio.Client()

    def on_progress(data):
        events.append(data)
        if data["event"] in ("done", "error"):
            done.set()

    client.on("import_progress", on_progress, namespace="/trainer")
    client.connect(server.url, namespaces=["/trainer"], transports=["websocket"], headers={"Cookie": server.cookie()})
    try:
        r = server.api("POST", f"/api/datasets/{dataset_id}/import", files={"file": ("set.zip", buf.getvalue())})
        assert r.status_code == 202, r.text
        assert done.wait(120)
    finally:
        client.disconnect()
    return r.json(), events


def test_zip_import_all_or_nothing(server, shared_data):
    ds = server.api("POST", "/api/datasets", json={"name": "zipped"}).json()
    entries = {}
    for label in ("tree", "cobra"):
        for path in sorted((shared_data / "yoga5" / "train" / label).glob("*.jpg"))[:6]:
            entries[f"yoga/{label}/{path.name}"] = path.read_bytes()
    reply, events = upload(server, ds["id"], entries)
    assert reply["images"] == 12
    assert events[-1]["event"] == "done" and events[-1]["counts"] == {"cobra": 6, "tree": 6}
    detail = server.api("GET", f"/api/datasets/{ds['id']}").json()
    assert detail["counts"] == {"cobra": 6, "tree": 6}
    assert all(s["tm"] and s["thumbnail"] for s in detail["samples"])
    r = server.api("GET", detail["samples"][0]["thumbnail"])
    assert r.headers["Content-Type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"

    # One undecodable file among good ones: an error naming it, and nothing of the zip is stored.
    entries["yoga/tree/broken.jpg"] = b"this is not a jpeg"
    _, events = upload(server, ds["id"], entries)
    assert events[-1]["event"] == "error"
    assert "broken.jpg is not an image" in events[-1]["message"]
    assert server.api("GET", f"/api/datasets/{ds['id']}").json()["counts"] == {"cobra": 6, "tree": 6}

"""An edge node on a real video against a live server (eventlet, real websockets): its labels are
what the Python pipeline gives for the same frames; a server restart mid-stream and a kill -9 of
the node lose nothing and store nothing twice."""
import json

import numpy as np
import pytest

from tests.edge.node import EdgeNode, stored, wait_until
from tests.helpers.server import LiveServer

FRAMES = 40


@pytest.fixture
def server(tmp_path, edge_ready):
    server = LiveServer(tmp_path).start()
    yield server
    server.stop()


def expected_labels(server, video, frames, backbone="movenet-lightning", models=None):
    """The same frames through runtime + edge.pipeline + the active model, in this process.
    models: the server's POSECAST_MODELS_DIR (default the project's tfjs_models)."""
    import runtime
    from edge.classifier import Classifier
    from edge.pipeline import Pipeline
    from edge.source import Source
    from tests.helpers.paths import ROOT

    spec = server.api("GET", "/api/models/active").json()
    folder = (models or ROOT / "tfjs_models") / spec["name"] / str(spec["version"])
    model_json = json.loads((folder / "model.json").read_text())
    shards = [(folder / p).read_bytes() for g in model_json["weightsManifest"] for p in g["paths"]]
    model = Classifier(spec, model_json, shards)
    pipeline = Pipeline(runtime.load(backbone, executor="openvino"))
    source, out = Source(str(video)), []
    for _ in range(frames):
        frame = source.read()
        out += model.classify(pipeline.people(frame.rgb, frame.t))
    source.close()
    return out


@pytest.mark.parametrize("backbone", ["movenet-lightning", "blazepose-lite"])
def test_labels_arrive_and_match_the_python_pipeline(server, video, tmp_path, backbone):
    node = EdgeNode(server, video, tmp_path / "state", "--max-frames", str(FRAMES), "--backbone", backbone).start()
    assert node.wait() == 0, node.log()
    client_id, next_seq, waiting = node.outbox()
    assert waiting == 0 and "all events acknowledged" in node.log()
    events = stored(server, client_id)
    assert [e["seq"] for e in events] == list(range(next_seq)) and next_seq >= FRAMES * 0.9
    expected = expected_labels(server, video, FRAMES, backbone)
    assert len(events) == len(expected)
    got = np.array([e["confidence"] for e in events])
    want = np.array([r["confidence"] for r in expected])
    assert np.abs(got - want).max() <= 1e-4
    assert [(e["label"], e["person"]) for e in events] == [(r["label"], r["person"]) for r in expected]
    assert {e["model"] for e in events} == {"yoga5"} and {e["backbone"] for e in events} == {backbone}
    clients = server.api("GET", "/api/clients").json()["clients"]
    assert [c["name"] for c in clients if c["client_id"] == client_id] == ["edge-test"]


def test_a_world_model_labels_with_blazeposes_world_landmarks_and_is_refused_on_movenet(tmp_path, video,
                                                                                       world_model):
    """Without --backbone the node runs the world model's BlazePose and its people carry the world
    landmarks: the labels are the Python pipeline's. Forced onto MoveNet it says why and labels nothing."""
    root, _ = world_model
    server = LiveServer(tmp_path, env={"POSECAST_MODELS_DIR": str(root)}).start()
    try:
        [model] = server.api("GET", "/api/models").json()["models"]
        assert (model["features"], model["backbone"]) == ("world", "blazepose-lite")
        assert server.api("POST", f"/api/models/{model['id']}/activate").status_code == 200
        frames = FRAMES // 2
        node = EdgeNode(server, video, tmp_path / "state", "--max-frames", str(frames), backbone=None).start()
        assert node.wait() == 0, node.log()
        client_id, next_seq, waiting = node.outbox()
        events = stored(server, client_id)
        expected = expected_labels(server, video, frames, "blazepose-lite", models=root)
        assert waiting == 0 and len(events) == len(expected) >= frames * 0.9, node.log()
        assert np.abs(np.array([e["confidence"] for e in events]) - [r["confidence"] for r in expected]).max() <= 1e-4
        assert [(e["label"], e["person"]) for e in events] == [(r["label"], r["person"]) for r in expected]
        assert {(e["model"], e["backbone"]) for e in events} == {("w3d", "blazepose-lite")}

        forced = EdgeNode(server, video, tmp_path / "forced", "--max-frames", "5").start()  # --backbone movenet
        assert forced.wait() == 0, forced.log()
        assert "cannot run model w3d v1: w3d: world features need BlazePose's world landmarks" in forced.log()
        assert forced.outbox()[1] == 0  # nothing labelled
    finally:
        server.stop()


def test_server_restart_and_edge_kill_lose_nothing_and_store_nothing_twice(server, video, tmp_path):
    state = tmp_path / "state"
    node = EdgeNode(server, video, state, "--loop", "--max-frames", "100000").start()
    client_id = wait_until(lambda: (state / "outbox.sqlite").exists() and node.outbox()[0], 60, "the outbox")
    wait_until(lambda: len(stored(server, client_id)) >= 10, 90, "the first labels")
    server.stop()  # mid-stream: the node keeps classifying into its outbox
    wait_until(lambda: node.outbox()[2] >= 10, 60, "events queued while the server is down")
    server.start()
    before = len(stored(server, client_id))
    wait_until(lambda: len(stored(server, client_id)) > before + 10, 90, "labels after the restart")
    drops = node.log().count("disconnected; events wait")
    server.stop()  # down again, so the kill -9 below surely leaves unacknowledged events behind
    # counted only once the node saw the drop: an ack sent just before the stop can still arrive
    # and clear a batch that the outbox held a moment ago
    wait_until(lambda: node.log().count("disconnected; events wait") > drops, 60, "the node to see the drop")
    wait_until(lambda: node.outbox()[2] >= 5, 60, "events queued while the server is down")
    node.kill()  # kill -9: whatever is unacknowledged stays in its SQLite outbox
    _, next_seq_at_kill, waiting_at_kill = node.outbox()
    assert waiting_at_kill >= 5
    server.start()
    restarted = EdgeNode(server, video, state, "--max-frames", "15").start()
    assert restarted.wait() == 0, restarted.log()
    _, next_seq, waiting = restarted.outbox()
    assert waiting == 0 and next_seq > next_seq_at_kill
    seqs = [e["seq"] for e in stored(server, client_id)]
    assert len(seqs) == len(set(seqs)), "an event was stored twice"
    assert sorted(seqs) == list(range(next_seq)), "an event was lost"
    print(f"{next_seq} events; {waiting_at_kill} waited in the outbox at the kill -9")


def test_a_node_restarted_while_the_server_is_down_labels_with_its_cached_model(server, video, tmp_path):
    """A power cut during a network outage: the node comes back, the server is unreachable; it
    labels at once with the model it last ran and keeps the events until the server is back."""
    state = tmp_path / "state"
    first = EdgeNode(server, video, state, "--max-frames", "10").start()
    assert first.wait() == 0, first.log()
    client_id, _, _ = first.outbox()
    assert (state / "model" / "cache.json").exists()
    server.stop()
    offline = EdgeNode(server, video, state, "--max-frames", "20", "--drain-seconds", "1").start()
    assert offline.wait() == 0, offline.log()
    assert "cached: the server is not reached yet" in offline.log()
    _, next_seq, waiting = offline.outbox()
    assert waiting >= 18, offline.log()  # 20 frames labelled with nobody to send them to
    server.start()
    back = EdgeNode(server, video, state, "--max-frames", "3").start()
    assert back.wait() == 0, back.log()
    assert back.outbox()[2] == 0
    events = stored(server, client_id)
    seqs = [e["seq"] for e in events]
    assert sorted(seqs) == list(range(back.outbox()[1])) and len(seqs) == len(set(seqs))
    assert {e["model"] for e in events} == {"yoga5"}


def test_the_node_switches_model_and_backbone_when_an_operator_activates_another(tmp_path, video, edge_ready):
    """Without --backbone the node runs the pose model each classifier was trained on, as live
    pages do: a PoseNet model, then a MoveNet Thunder one."""
    import shutil

    from tests.helpers.paths import ROOT

    models = tmp_path / "models"
    for name, version in (("yoga5", "1"), ("yoga5b", "3")):
        shutil.copytree(ROOT / "tfjs_models" / "yoga5" / version, models / name / "1")
    server = LiveServer(tmp_path, env={"POSECAST_MODELS_DIR": str(models)}).start()
    try:
        first = next(m for m in server.api("GET", "/api/models").json()["models"] if m["name"] == "yoga5")
        assert server.api("POST", f"/api/models/{first['id']}/activate").status_code == 200
        node = EdgeNode(server, video, tmp_path / "state", "--loop", "--max-frames", "100000", backbone=None).start()
        client_id = wait_until(lambda: (tmp_path / "state" / "outbox.sqlite").exists() and node.outbox()[0], 60,
                               "the outbox")
        wait_until(lambda: stored(server, client_id), 90, "the first labels")
        other = next(m for m in server.api("GET", "/api/models").json()["models"] if m["name"] == "yoga5b")
        assert server.api("POST", f"/api/models/{other['id']}/activate").status_code == 200
        wait_until(lambda: sum(e["backbone"] == "movenet-thunder" for e in stored(server, client_id)) >= 5, 90,
                   "labels on MoveNet Thunder")
        node.proc.send_signal(2)  # Ctrl-C: drains, then exits 0
        assert node.wait(60) == 0, node.log()
        assert "all events acknowledged" in node.log() and node.outbox()[2] == 0
        events = stored(server, client_id)
        models_seen = [e["model"] for e in events]
        switch = models_seen.index("yoga5b")
        assert set(models_seen[:switch]) == {"yoga5"} and set(models_seen[switch:]) == {"yoga5b"}
        assert {e["backbone"] for e in events[:switch]} == {"posenet"}
        # the frame or two labelled while Thunder loaded keep PoseNet's keypoints, then Thunder
        assert {e["backbone"] for e in events[switch + 3:]} == {"movenet-thunder"}, node.log()
        assert "pose model: movenet-thunder" in node.log()
    finally:
        server.stop()

"""Every client_to_server Socket.IO event of web/contract.json, fuzzed: through the real server's
dispatch (Flask-SocketIO's test client goes through the packet guard and the handlers), and as raw
frames over a live server's websocket. Every payload gets an ack (ok, or an error), nothing is
logged as an error or traceback, and a control client's batches keep being stored."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.contract import contract
from server.sockets import socketio
from tests.helpers.raw_socket import RawSocket
from tests.helpers.server import LiveServer

from .strategies import EXAMPLES, FUZZ, json_value, number, payload, text

EVENTS = [(ns, name) for ns, spec in contract()["namespaces"].items() for name in spec["client_to_server"]]
NOW = int(time.time() * 1000)

event = st.fixed_dictionaries(
    {"seq": st.one_of(st.integers(0, 10 ** 6), number), "ts": st.one_of(st.just(NOW), number),
     "label": text, "confidence": st.one_of(st.floats(0, 1), number)},
    optional={"model": st.one_of(st.none(), text), "model_version": st.one_of(st.none(), number),
              "backbone": st.one_of(st.none(), text), "person": number, "fps": number, "x": json_value})
shaped = {
    "labels": st.fixed_dictionaries({"events": st.lists(event, min_size=0, max_size=4)}),
    "set_name": st.fixed_dictionaries({"name": st.one_of(st.none(), text)}),
    "skeleton": st.fixed_dictionaries({"person": number, "width": number, "height": number,
                                       "keypoints": st.lists(st.lists(number, max_size=4), max_size=34)}),
    "watch": st.fixed_dictionaries({"client_id": st.one_of(st.none(), text)}),
}
arguments = st.one_of(st.lists(payload, max_size=3), st.just([]))


def good_batch(seq: int) -> dict:
    return {"events": [{"seq": seq, "ts": int(time.time() * 1000), "label": "tree", "confidence": 0.9}]}


@pytest.fixture(scope="module")
def sockets(fuzz_app, admin):
    pose = socketio.test_client(fuzz_app, namespace="/pose", auth={"client_id": "fuzz-page-1"})
    dashboard = socketio.test_client(fuzz_app, namespace="/dashboard", flask_test_client=admin)
    control = socketio.test_client(fuzz_app, namespace="/pose", auth={"client_id": "control-page-1"})
    assert pose.is_connected("/pose") and dashboard.is_connected("/dashboard") and control.is_connected("/pose")
    return {"/pose": pose, "/dashboard": dashboard, "control": control, "seq": [0]}


@pytest.mark.parametrize("namespace, name", EVENTS, ids=[f"{ns} {n}" for ns, n in EVENTS])
@FUZZ
@given(data=st.data())
def test_socket_event(sockets, log_watch, namespace, name, data):
    log_watch.bad.clear()
    client = sockets[namespace]
    if not client.is_connected(namespace):  # a skeleton flood may disconnect it: connect again
        client.connect(namespace=namespace, auth={"client_id": "fuzz-page-1"} if namespace == "/pose" else None)
    args = data.draw(st.one_of(shaped[name].map(lambda p: [p]), payload.map(lambda p: [p]), arguments))
    ack = client.emit(name, *args, namespace=namespace, callback=True)
    if name != "skeleton" or len(args) != 1:
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (name, args, ack)
        assert ack["ok"] or isinstance(ack.get("error"), str), (name, args, ack)
    sockets["seq"][0] += 1
    control = sockets["control"].emit("labels", good_batch(sockets["seq"][0]), namespace="/pose", callback=True)
    assert control["ok"] is True, control
    assert log_watch.bad == [], (name, args, log_watch.bad)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("fuzz-live")).start()
    yield server
    server.stop()


frame = st.one_of(
    st.builds(lambda ns, body: f"42{ns},{body}", st.sampled_from(["/pose", "/dashboard", "/live", ""]),
              st.one_of(text, payload.map(lambda p: json.dumps(["labels", p], allow_nan=True)),
                        st.lists(payload, max_size=3).map(lambda a: json.dumps(a, allow_nan=True)))),
    st.builds(lambda t, body: f"{t}/pose,{body}", st.sampled_from(list("0123456789")), text),
    st.binary(max_size=64),
)


@settings(FUZZ, max_examples=min(EXAMPLES, 40))
@given(frames=st.lists(frame, min_size=1, max_size=15))
def test_raw_frames_over_a_live_server(live, frames):
    mark = len(live.log())
    hostile = RawSocket(live.url)
    hostile.connect("/pose", {"client_id": "raw-fuzz-1"})
    control = RawSocket(live.url)
    assert control.connect("/pose", {"client_id": "raw-control-1"}).startswith("40/pose,")
    for f in frames:
        try:
            hostile.send(f.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if isinstance(f, str) else f)
        except OSError:
            break  # closed for sending garbage: fine
    ack = control.call("/pose", "labels", good_batch(int(time.time() * 1000) % 10 ** 9))
    assert ack and ack[0]["ok"] is True, ack
    hostile.close()
    control.close()
    log = live.log()[mark:]
    assert "Traceback" not in log and " ERROR " not in log, log[-2000:]

"""Hostile Socket.IO clients against a live server (raw packets over a real websocket): forged
lifecycle events, a second connect, undecodable packets. None of it may run a lifecycle handler,
log a traceback or disturb a well-behaved client; garbage gets an error ack or is dropped, and a
connection that keeps sending it is closed."""
import json
import time

import pytest
import requests

from tests.helpers.raw_socket import RawSocket
from tests.helpers.server import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("hostile")).start()
    yield live
    live.stop()


def events(*seqs, label="tree"):
    now = int(time.time() * 1000)
    return {"events": [{"seq": s, "ts": now, "label": label, "confidence": 0.9} for s in seqs]}


def page(server, client_id):
    sock = RawSocket(server.url)
    answer = sock.connect("/pose", {"client_id": client_id})
    assert answer and answer.startswith("40/pose,"), answer
    return sock


def open_sessions(server, client_id):
    rows = server.api("GET", f"/api/clients/{client_id}/sessions").json()["sessions"]
    return [s for s in rows if s["ended_at"] is None]


def tracebacks(server, since: int) -> list[str]:
    return [line for line in server.log()[since:].splitlines() if "Traceback" in line]


def test_a_forged_disconnect_event_does_not_end_the_session(server):
    sock = page(server, "forged-disconnect")
    ack = sock.call("/pose", "disconnect", {})
    assert ack and ack[0]["ok"] is False and "disconnect" in ack[0]["error"], ack
    assert sock.call("/pose", "labels", events(0))[0]["ok"] is True
    assert len(open_sessions(server, "forged-disconnect")) == 1
    sock.close()


def test_a_forged_connect_event_cannot_switch_the_client_id(server):
    sock = page(server, "original-client")
    ack = sock.call("/pose", "connect", {}, {"client_id": "hijacked-client"})
    assert ack and ack[0]["ok"] is False, ack
    answer = sock.connect("/pose", {"client_id": "hijacked-client2"})  # a real second CONNECT packet
    assert answer and answer.startswith("44/pose,"), answer
    assert sock.call("/pose", "labels", events(0))[0]["ok"] is True
    clients = {c["client_id"] for c in server.api("GET", "/api/clients").json()["clients"]}
    assert "original-client" in clients and not clients & {"hijacked-client", "hijacked-client2"}
    assert len(open_sessions(server, "original-client")) == 1
    sock.close()


GARBAGE = [
    '42/pose,7["labels", {"events": [}',                    # bad JSON
    '42/pose,8["labels", {"events": [{"seq": ' + "9" * 5000 + "}]}]",  # an integer past Python's limit
    '42/pose,9["labels", ' + "[" * 100_000 + "]" * 100_000 + "]",      # deep nesting
    '42/pose,10["labels"]',                                  # no argument
    '42/pose,11["labels", {"events": []}, 2]',               # two arguments
    '42/pose,12[5]',                                         # no event name
    '451-/pose,13["labels",{"_placeholder":true,"num":9}]',  # a bad binary placeholder ...
    b"\x04attachment",                                       # ... and its attachment
    '4x',                                                    # unknown packet type
]


def test_garbage_gets_an_error_ack_or_is_dropped_without_a_traceback(server):
    mark = len(server.log())
    sock = page(server, "garbage-sender")
    control = page(server, "control-client")
    for n, frame in enumerate(GARBAGE):
        sock.send(frame)
        assert control.call("/pose", "labels", events(n))[0]["ok"] is True
    # the connection is not poisoned: a well-formed batch still works
    assert sock.call("/pose", "labels", events(0))[0]["ok"] is True
    for raw in ('["labels", {"events": [}', '["labels", ' + "[" * 100_000 + "]" * 100_000 + "]"):
        ack = sock.call("/pose", raw=raw)
        assert ack and ack[0]["ok"] is False and "undecodable" in ack[0]["error"], ack
    for args in ([], [{"events": []}, 2]):
        ack = sock.call("/pose", "labels", *args)
        assert ack and ack[0]["ok"] is False and "one argument" in ack[0]["error"], ack
    time.sleep(0.5)
    assert tracebacks(server, mark) == []
    refused = [line for line in server.log()[mark:].splitlines() if "refused" in line]
    assert 1 <= len(refused) <= 3, refused  # one line, then rate limited
    sock.close()
    control.close()


def test_a_connection_that_keeps_sending_garbage_is_closed(server):
    sock = page(server, "garbage-forever")
    control = page(server, "control-client-2")
    for _ in range(30):
        sock.send('42/pose,["labels", {')
        time.sleep(0.01)
    assert sock.recv_until("never", timeout=2) is None
    assert not sock.open or sock.call("/pose", "labels", events(0), timeout=1) is None
    assert control.call("/pose", "labels", events(0))[0]["ok"] is True
    assert requests.get(f"{server.url}/api/health", timeout=5).status_code == 200
    control.close()


def ws_handshake(server, origin: str, headers: list[str]) -> bool:
    import websocket

    try:
        ws = websocket.create_connection(server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
                                         timeout=5, origin=origin, header=headers)
    except websocket.WebSocketBadStatusException:
        return False
    ws.close()
    return True


def test_forwarded_headers_from_anyone_do_not_pass_the_origin_check(server):
    assert ws_handshake(server, server.url, [])
    assert not ws_handshake(server, "http://evil.example", ["X-Forwarded-Host: evil.example"])
    assert not ws_handshake(server, "https://evil.example", ["X-Forwarded-Host: evil.example",
                                                              "X-Forwarded-Proto: https"])


def test_forwarded_headers_of_a_configured_proxy_are_trusted(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("proxied"), env={"POSECAST_TRUSTED_PROXIES": "1"}).start()
    try:
        proxy = ["X-Forwarded-Host: pose.example.org", "X-Forwarded-Proto: https", "X-Forwarded-For: 10.1.2.3"]
        assert ws_handshake(live, "https://pose.example.org", proxy)
        # one proxy: only the value it appended (the last) counts, not one the client put first
        assert not ws_handshake(live, "https://evil.example",
                                ["X-Forwarded-Host: evil.example, pose.example.org", "X-Forwarded-Proto: https"])
    finally:
        live.stop()

import logging

import pytest


def test_client_error_reaches_the_server_log(client, caplog):
    with caplog.at_level(logging.ERROR, logger="posecast.client"):
        r = client.post("/api/client-log", json={
            "level": "error", "message": "Could not load the MoveNet model", "backbone": "movenet-thunder"})
    assert r.status_code == 201
    assert "Could not load the MoveNet model" in caplog.text
    assert "backbone=movenet-thunder" in caplog.text


def test_newlines_cannot_forge_log_lines(client, caplog):
    with caplog.at_level(logging.INFO, logger="posecast.client"):
        client.post("/api/client-log", json={"level": "info", "message": "a\nFAKE ERROR line"})
    assert "a FAKE ERROR line" in caplog.text


@pytest.mark.parametrize("payload, error", [
    (None, "JSON object"),
    ([], "JSON object"),
    ({"message": "x"}, "missing field(s): level"),
    ({"level": "error"}, "missing field(s): message"),
    ({"level": "fatal", "message": "x"}, "level must be one of"),
    ({"level": "error", "message": "   "}, "empty"),
    ({"level": "error", "message": 42}, "message must be a string"),
    ({"level": "error", "message": "x", "extra": 1}, "unknown field"),
    ({"level": "error", "message": "x" * 2001}, "longer than 2000"),
    ({"level": "error", "message": "x", "backbone": None}, "backbone must be a string"),
    ({"level": "error", "message": "lone \ud800 surrogate"}, "message must be 1-2000 printable"),
    ({"level": "error", "message": "x", "page": "\x00"}, "page must be 1-256 printable"),
])
def test_bad_client_logs_are_refused(client, payload, error):
    r = client.post("/api/client-log", json=payload)
    assert r.status_code == 400
    assert error in r.get_json()["error"]


def test_oversize_client_log_is_refused(client):
    r = client.post("/api/client-log", data="x" * 10000, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["error"] == "payload too large"

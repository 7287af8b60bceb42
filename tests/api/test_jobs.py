"""Video jobs end to end against a live server: upload, progress over Socket.IO (/jobs) and GET,
every download format, and a server killed (-9) while one job runs and another waits: after the
restart the running one starts over and the queued one runs, both to the end."""
import json
import time

import pytest
import requests
import socketio

from .conftest import API_ENV, needs, tokens_cli
from tests.helpers.server import LiveServer

VIDEO = ("videos", "tfjs-pose_1.mp4")  # 576 x 576, 120 frames
PARAMS = {"backbone": "movenet-lightning", "model": "none"}


def submit(server, headers, params=PARAMS):
    with needs(*VIDEO).open("rb") as f:
        r = requests.post(f"{server.url}/api/v1/jobs", headers=headers, data=params, timeout=60,
                          files={"video": ("dance.mp4", f, "video/mp4")})
    assert r.status_code == 202, r.text
    return r.json()


def wait_for(server, headers, job_id, states, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{server.url}/api/v1/jobs/{job_id}", headers=headers, timeout=30).json()
        if job["state"] in states:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout}s:\n{server.log()[-3000:]}")


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory):
    needs(*VIDEO)
    server = LiveServer(tmp_path_factory.mktemp("jobs"), env={**API_ENV, "POSECAST_INFER_WORKERS": "1"}).start(timeout=90)
    made = tokens_cli(server, "create", "jobs", "--role", "viewer")
    assert made.returncode == 0, made.stderr
    server.token = made.stdout.strip()
    yield server
    server.stop()


def test_a_video_job_with_progress_and_every_format(jobs_server):
    headers = {"Authorization": f"Bearer {jobs_server.token}"}
    events = []
    sio = socketio.Client()
    sio.on("job_progress", lambda data: events.append(data), namespace="/jobs")
    sio.connect(jobs_server.url, namespaces=["/jobs"], auth={"token": jobs_server.token}, transports=["websocket"])
    try:
        job = submit(jobs_server, headers)
        assert job["state"] == "queued" and len(job["id"]) == 32
        done = wait_for(jobs_server, headers, job["id"], ("done", "failed"))
        assert done["state"] == "done", done
        assert done["frames_done"] == done["frames_total"] >= 100
        deadline = time.monotonic() + 10
        while not any(e["state"] == "done" for e in events) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sio.disconnect()
    mine = [e for e in events if e["job_id"] == job["id"]]
    assert mine[0]["state"] == "running" and mine[-1] == {"job_id": job["id"], "state": "done",
                                                         "done": done["frames_done"], "total": done["frames_done"]}
    url = f"{jobs_server.url}/api/v1/jobs/{job['id']}/results"
    lines = requests.get(url, headers=headers, timeout=60).text.splitlines()
    assert len(lines) == done["frames_done"] and json.loads(lines[0])["people"][0]["keypoints"][0]["name"] == "nose"
    coco = requests.get(url, params={"format": "coco"}, headers=headers, timeout=60).json()
    assert len(coco) == done["frames_done"] and {r["image_id"] for r in coco} == set(range(done["frames_done"]))
    table = requests.get(url, params={"format": "csv"}, headers=headers, timeout=60).text.splitlines()
    assert len(table) == done["frames_done"] + 1
    openpose = requests.get(url, params={"format": "openpose"}, headers=headers, timeout=60)
    assert openpose.headers["Content-Type"] == "application/zip"
    # Someone else's job is not there for them.
    other = tokens_cli(jobs_server, "create", "someone-else").stdout.strip()
    r = requests.get(f"{jobs_server.url}/api/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {other}"}, timeout=30)
    assert r.status_code == 404


def test_not_a_video_and_no_token(jobs_server):
    headers = {"Authorization": f"Bearer {jobs_server.token}"}
    r = requests.post(f"{jobs_server.url}/api/v1/jobs", headers=headers, timeout=30,
                      files={"video": ("x.mp4", b"just some text, not a video", "video/mp4")})
    assert r.status_code == 415
    assert requests.get(f"{jobs_server.url}/api/v1/jobs", timeout=30).status_code == 401
    sio = socketio.Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(jobs_server.url, namespaces=["/jobs"], auth={"token": "pct_" + "y" * 43}, transports=["websocket"])


def test_jobs_survive_a_server_killed_mid_job(jobs_server):
    headers = {"Authorization": f"Bearer {jobs_server.token}"}
    # Thunder for the first: slow enough to be caught running (it polls every 0.3 s).
    first = submit(jobs_server, headers, {**PARAMS, "backbone": "movenet-thunder"})
    second = submit(jobs_server, headers)
    running = wait_for(jobs_server, headers, first["id"], ("running", "done"))
    assert running["state"] == "running", "the job ended before the server could be killed"
    jobs_server.kill()
    jobs_server.start(timeout=90)
    a = wait_for(jobs_server, headers, first["id"], ("done", "failed"))
    b = wait_for(jobs_server, headers, second["id"], ("done", "failed"))
    assert a["state"] == b["state"] == "done", (a, b)
    assert a["attempts"] == 2 and b["attempts"] == 1  # the interrupted one started over; the queued one once
    lines = requests.get(f"{jobs_server.url}/api/v1/jobs/{first['id']}/results", headers=headers, timeout=60).text.splitlines()
    assert [json.loads(line)["frame"] for line in lines] == list(range(a["frames_done"]))

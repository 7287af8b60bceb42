"""POST /api/v1/infer against a live server, with real photos: one person, several people,
several images, downloads in the file formats, and the OpenAPI description."""
import json
import re

import requests

from core.tables import keypoint_names
from poseio.formats import OPENPOSE_COCO18

from tests.helpers.paths import ROOT

from .conftest import needs

TIMEOUT = 180  # the first request may wait for the worker to load its backbone on a loaded machine


def post(server, headers, data, params=None, content_type="image/jpeg"):
    return requests.post(f"{server.url}/api/v1/infer", params=params, data=data,
                         headers={**headers, "Content-Type": content_type}, timeout=TIMEOUT)


def test_one_person_with_the_active_model(api_server, bearer):
    r = post(api_server, bearer, needs("images", "pose.jpg").read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    # Without a backbone parameter the active model's own backbone runs (the one it was trained on).
    assert body["model"]["name"] == "yoga5"
    export = ROOT / "tfjs_models" / "yoga5" / str(body["model"]["version"])
    assert body["backbone"] == json.loads((export / "posecast.json").read_text()).get("backbone", "posenet")
    assert (body["width"], body["height"]) == (1000, 667)
    [person] = body["people"]
    assert [k["name"] for k in person["keypoints"]] == list(keypoint_names(body["backbone"]))  # its layout
    assert person["score"] > 0.5 and len(person["box"]) == 4
    seen = [k for k in person["keypoints"] if k["score"] > 0.5]
    assert len(seen) >= 12 and all(0 <= k["x"] <= 1000 and 0 <= k["y"] <= 667 for k in seen)
    labels = ["chair", "cobra", "dog", "tree", "warrior"]
    assert person["label"] in labels + ["unknown"] and set(person["probabilities"]) == set(labels)
    assert abs(sum(person["probabilities"].values()) - 1) < 1e-3
    assert {"queue", "decode", "pose", "classify", "total"} <= set(body["timings_ms"])


def test_several_people_multipart_and_parameters(api_server, bearer):
    photo = needs("images", "multi_skiing.jpg").read_bytes()
    r = requests.post(f"{api_server.url}/api/v1/infer", headers=bearer, timeout=TIMEOUT,
                      files=[("image", ("multi_skiing.jpg", photo, "image/jpeg"))],
                      data={"backbone": "movenet-multipose", "max_people": "6", "threshold": "0.2", "model": "none"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["backbone"] == "movenet-multipose" and body["model"] is None
    assert len(body["people"]) >= 2
    assert [p["id"] for p in body["people"]] == list(range(len(body["people"])))
    assert all(p["score"] >= 0.2 and p["label"] is None for p in body["people"])
    scores = [p["score"] for p in body["people"]]
    assert scores == sorted(scores, reverse=True)


def test_two_images_in_one_request(api_server, bearer):
    files = [("image", (n, needs("images", n).read_bytes(), "image/jpeg")) for n in ("tennis.jpg", "skiing.jpg")]
    r = requests.post(f"{api_server.url}/api/v1/infer", headers=bearer, files=files, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    images = r.json()["images"]
    assert [i["name"] for i in images] == ["tennis.jpg", "skiing.jpg"]
    assert all(len(i["people"]) == 1 for i in images)


def test_downloads_in_the_file_formats(api_server, bearer):
    photo = needs("images", "pose.jpg").read_bytes()
    plain = post(api_server, bearer, photo, {"model": "none"}).json()
    r = post(api_server, bearer, photo, {"model": "none", "format": "openpose"})
    assert r.status_code == 200 and "pose_keypoints_2d" in r.text
    flat = r.json()["people"][0]["pose_keypoints_2d"]
    assert len(flat) == 3 * 18
    by_name = {k["name"]: k for k in plain["people"][0]["keypoints"]}
    for i, name in enumerate(OPENPOSE_COCO18):
        if name != "neck":
            assert abs(flat[3 * i] - by_name[name]["x"]) < 0.01 and abs(flat[3 * i + 1] - by_name[name]["y"]) < 0.01
    r = post(api_server, bearer, photo, {"model": "none", "format": "coco"})
    [result] = r.json()
    assert result["category_id"] == 1 and len(result["keypoints"]) == 51
    r = post(api_server, bearer, photo, {"format": "csv"})
    assert r.headers["Content-Type"].startswith("text/csv")
    header, row = r.text.splitlines()[:2]
    assert header.startswith("source,frame,time_s,person,score,label,confidence,nose_x")
    r = post(api_server, bearer, photo, {"format": "jsonl"})
    assert json.loads(r.text.splitlines()[0])["people"][0]["keypoints"][0]["name"] == "nose"


def test_openapi_describes_every_route(api_server, bearer, tmp_path):
    r = requests.get(f"{api_server.url}/api/v1/openapi.json", headers=bearer, timeout=30)
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    from server import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "ASYNC_MODE": "threading"})
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")}
    routes = {r.replace("{job_id}", "{id}") for r in routes}
    assert routes == set(spec["paths"]), routes ^ set(spec["paths"])


def test_a_logged_in_session_may_use_it_too(api_server):
    s = api_server.session()
    r = s.post(f"{api_server.url}/api/v1/infer", data=needs("images", "tennis.jpg").read_bytes(),
               headers={"Content-Type": "image/jpeg"}, params={"model": "none"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert len(r.json()["people"]) == 1

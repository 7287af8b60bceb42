"""POST /api/v1/infer: images in, people (keypoints, box, label) out, run by the worker pool.
GET /api/v1/status: the pool's state. Every /api/v1 route is rate limited per token or user."""
from __future__ import annotations

import math
import time

from flask import Blueprint, Response, current_app, jsonify, request

from core.checks import Invalid
from core.tables import DEFAULT_BACKBONE
from poseio import formats
from poseio.images import BadImage

from .. import auth
from ..stream.rate_limit import Bucket
from . import requests_in
from .pool import Pool, QueueFull

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
MAX_BUCKETS = 10_000  # rate-limit state; the oldest half goes when it is full


def pool() -> Pool:
    app = current_app
    if "posecast.infer_pool" not in app.extensions:
        cfg = app.config
        app.extensions["posecast.infer_pool"] = Pool(cfg["INFER_WORKERS"], cfg["INFER_QUEUE"], cfg["INFER_EXECUTOR"],
                                                     green=cfg["ASYNC_MODE"] == "eventlet", warm=DEFAULT_BACKBONE)
    return app.extensions["posecast.infer_pool"]


def start_pool(app) -> None:
    """At `posecast serve`: the workers start (and load the default backbone) before any request."""
    with app.app_context():
        pool().start()


def _error(status: int, message: str, **headers):
    return jsonify(error=message), status, headers


def rate_limit():
    """Before every /api/v1 request (jobs and the description too, not only this blueprint's):
    POSECAST_API_RATE_PER_S requests per second per token (or logged-in user), bursts to
    POSECAST_API_RATE_BURST; beyond it 429 with Retry-After."""
    if not request.path.startswith("/api/v1/"):
        return None
    user = auth.current_user()
    if user is None:  # the guard has refused it already; nothing to count
        return None
    key = ("token", user["token_id"]) if user.get("token_id") else ("user", user["id"])
    buckets = current_app.extensions.setdefault("posecast.api_buckets", {})
    if key not in buckets and len(buckets) >= MAX_BUCKETS:
        for old in list(buckets)[: MAX_BUCKETS // 2]:
            del buckets[old]
    bucket = buckets.setdefault(key, Bucket(current_app.config["API_RATE_PER_S"], current_app.config["API_RATE_BURST"]))
    wait = bucket.take(1)
    if wait:
        return _error(429, "too many requests for this token; slow down", **{"Retry-After": str(math.ceil(wait))})
    return None


@bp.post("/infer")
def infer():
    t0 = time.perf_counter()
    cfg = current_app.config
    try:
        requests_in.limit_body(cfg["INFER_MAX_BYTES"] * cfg["INFER_MAX_IMAGES"] + 65536,
                               f"{cfg['INFER_MAX_IMAGES']} images of {cfg['INFER_MAX_BYTES']:,} bytes")
        opts = requests_in.options()
        found = requests_in.images()
    except BadImage as exc:
        return _error(exc.status, str(exc))
    except LookupError as exc:
        return _error(404, str(exc))
    model, problem = opts["model"], requests_in.model_problem(opts)
    if problem:
        return _error(422, problem)
    header = {"op": "infer", "backbone": opts["backbone"], "max_people": opts["max_people"],
              "threshold": opts["threshold"], "max_pixels": current_app.config["INFER_MAX_PIXELS"], "model": model}
    p, tasks = pool(), []
    try:
        for _, data in found:
            tasks.append(p.submit(header, data))
    except QueueFull:
        for task in tasks:
            task.cancelled = True
        return _error(503, "the inference queue is full; try again shortly", **{"Retry-After": str(p.retry_after())})
    # One deadline for the request, however many images it sent.
    deadline = time.monotonic() + current_app.config["INFER_TIMEOUT_S"]
    answers = [task.wait(max(0.0, deadline - time.monotonic())) for task in tasks]
    failed = next((a for a in answers if not a.get("ok")), None)
    if failed:
        where = found[answers.index(failed)][0] if len(found) > 1 else None
        extra = {"Retry-After": "1"} if failed["status"] == 503 else {}
        return _error(failed["status"], f"{where}: {failed['error']}" if where else failed["error"], **extra)
    results = []
    for (name, _), task, answer in zip(found, tasks, answers):
        people = [{"label": None, "confidence": None, "probabilities": None, **person} for person in answer["people"]]
        results.append({"name": name, "width": answer["width"], "height": answer["height"], "people": people,
                        "timings_ms": {"queue": round((task.started_at - task.queued_at) * 1000, 2), **answer["timings_ms"]}})
    meta = {"backbone": opts["backbone"], "model": model and {"name": model["name"], "version": model["version"]}}
    total = round((time.perf_counter() - t0) * 1000, 2)
    if opts["format"] != "json":
        return _download(opts["format"], results, meta)
    if len(results) == 1:
        return jsonify(**{k: v for k, v in results[0].items() if k != "timings_ms"}, **meta,
                       timings_ms={**results[0]["timings_ms"], "total": total})
    return jsonify(images=results, **meta, timings_ms={"total": total})


def _download(fmt: str, results: list[dict], meta: dict) -> Response:
    """The same writers as `posecast poses` (poseio/formats.py), one frame per image."""
    frames = [formats.Frame(index=i, name=r["name"], width=r["width"], height=r["height"], people=r["people"])
              for i, r in enumerate(results)]
    body, mimetype, name = formats.render(fmt, frames, backbone=meta["backbone"])
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/status")
def status():
    return jsonify(pool().stats())


@bp.errorhandler(Invalid)
def invalid(exc):
    return _error(400, str(exc))


def too_large(exc):
    """werkzeug's own 413 (a body that sent no length, or lied about it), as JSON like ours."""
    return _error(413, "the request body is larger than this route accepts")


bp.register_error_handler(413, too_large)

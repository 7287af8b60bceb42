"""The /api/v1 wing: pose inference as a service for programs (tokens or a login).

    requests_in.py (images and parameters, checked) -> infer.py (POST /api/v1/infer) -> pool.py
    (worker processes: poseio/worker.py, fed through a bounded queue); jobs.py (video jobs,
    /api/v1/jobs) -> job_runner.py (one at a time, poseio/video_job.py subprocesses, progress on
    /jobs); openapi.py (the description at /api/v1/openapi.json). The tokens themselves are a platform module
    (server/tokens.py), as the role table that checks them is (server/auth.py).

Nothing is imported at package import: `posecast serve` must monkey-patch before Flask loads.
"""
from __future__ import annotations


def init_app(app) -> None:
    from . import infer, job_runner, jobs, openapi  # noqa: F401 (routes and the /jobs namespace)

    app.before_request(infer.rate_limit)
    app.register_blueprint(infer.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(openapi.bp)


def serve(app) -> None:
    """At `posecast serve` only (not in tests' in-process apps or commands): start the inference
    workers and the video job runner."""
    from . import infer, job_runner

    infer.start_pool(app)
    job_runner.start(app)

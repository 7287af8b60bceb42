"""The models wing: exported classifiers and how they reach pages.

    registry.py (the exports in MODELS_DIR, which one is active, REST) <- tm_import.py (Teachable
    Machine uploads), training_runs.py (runs started from the trainer page; the subprocess is
    train_job.py, the `posecast train` command train_command.py) -> live.py (/live: open pages
    are told which model to run)

Nothing is imported at package import: `posecast serve` must monkey-patch before Flask loads.
"""
from __future__ import annotations


def init_app(app) -> None:
    from . import live, registry, tm_import, training_runs  # noqa: F401 (routes and Socket.IO handlers)

    app.register_blueprint(registry.bp)
    app.register_blueprint(training_runs.bp)


def start(app) -> None:
    """With the tables there: register the exports on disk and activate the default model; runs
    left running by a server process that is gone end as failed."""
    from . import registry, training_runs

    registry.start(app)
    training_runs.start(app)

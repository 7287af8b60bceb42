"""The samples wing: datasets of labelled poses recorded in the trainer page or uploaded.

    datasets.py (datasets, samples, REST; the checks are core/samples.py) <- zip_import.py (zip
    uploads: uploads.py checks and extracts, the subprocess import_job.py runs PoseNet), explore.py (a dataset
    checked before training: core/explore.py)
"""
from __future__ import annotations


def init_app(app) -> None:
    from . import datasets, explore, zip_import

    app.register_blueprint(datasets.bp)
    app.register_blueprint(zip_import.bp)
    app.register_blueprint(explore.bp)


def start(app) -> None:
    """With the tables there: columns added since a database was made."""
    from . import datasets

    datasets.start(app)

"""A training run for the server, in its own process (TensorFlow never loads in the eventlet
server): `python -m server.models.train_job`. Reads a dataset's samples from the database (the
samples wing's tables and folders), trains with training/, exports, and reports progress as
JSON lines on stdout: {"event": "start"|"epoch"|"done"|"error", ...}."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from core.features import DEFAULT_KIND, KINDS, WORLD_KINDS, person_inputs, recorded_problem
from core.samples import recorded_backbone


def emit(event: str, **data) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def load(database_url: str, dataset_id: int, kind: str, instance: Path, backbone: str | None = None):
    """(inputs, labels, groups, backbone) of a dataset's samples: (N, 17, 3) keypoints, (N, 17, 6)
    with their world landmarks for world kinds (every sample must keep them), or tm's features."""
    from sqlalchemy import create_engine, select

    from ..samples.datasets import folder as sample_folder, samples

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(samples.c.id, samples.c.label, samples.c.keypoints, samples.c.has_tm,
                                   samples.c.backbone, samples.c.world)
                            .where(samples.c.dataset_id == dataset_id).order_by(samples.c.id)).all()
    backbone = recorded_backbone({r.backbone for r in rows}, backbone)

    if kind == "tm":
        missing = [r.id for r in rows if not r.has_tm]
        if missing:
            raise ValueError(f"{len(missing)} sample(s) have no Teachable Machine features (record them with PoseNet)")
        folder = sample_folder(dataset_id, str(instance))
        x = np.stack([np.fromfile(folder / f"{r.id}.f32", dtype="<f4") for r in rows]) if rows else np.zeros((0, 1))
    else:
        problem = recorded_problem(kind, backbone, sum(r.world is None for r in rows), len(rows))
        if problem:
            raise ValueError(problem)
        # Raw keypoints (any backbone's COCO-17 subset), with the world landmarks for world kinds, built
        # as every other pose's are (core/features.py): training augments them before the vectors.
        x = (np.stack([person_inputs(kind, _json(r.keypoints), _json(r.world)) for r in rows]) if rows
             else np.zeros((0, 17, 6 if kind in WORLD_KINDS else 3)))
    # Every recorded sample is its own group, named by its id (train_job maps mistakes back to ids).
    return x, [r.label for r in rows], [str(r.id) for r in rows], backbone


def _json(value):
    """A JSON column's value (some drivers hand back the text)."""
    return json.loads(value) if isinstance(value, str) else value


def main(argv=None) -> int:
    from ..samples.datasets import job_arguments

    p = job_arguments(__doc__.splitlines()[0])
    p.add_argument("--features", choices=KINDS, default=DEFAULT_KIND)
    p.add_argument("--backbone", help="the backbone the dataset was recorded with (checked against its samples)")
    p.add_argument("--chiral", nargs="*", default=[], help="classes never mirrored in augmentation")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--ensemble", type=int, default=1, help="models trained with other seeds, merged into one")
    p.add_argument("--name", required=True)
    p.add_argument("--out", type=Path, required=True, help="export folder (models/<name>/<version>)")
    args = p.parse_args(argv)

    import training  # noqa: F401  (environment for tf_keras before TensorFlow loads)
    from training import export, train
    from training.data import DatasetError

    try:
        x, labels, groups, backbone = load(args.database_url, args.dataset_id, args.features, args.instance,
                                           args.backbone)
        emit("start", samples=len(labels), classes=sorted(set(labels)), backbone=backbone)
        model, classes, report = train.train(
            x, labels, groups, args.features, epochs=args.epochs, chiral=args.chiral, ensemble=args.ensemble,
            on_epoch=lambda e, n, logs, fold, folds: emit("epoch", epoch=e, epochs=n, fold=fold, folds=folds, **logs))
        out = export.export(model, classes, args.features, args.out, name=args.name, report=report,
                            backbone=backbone)
    except (DatasetError, ValueError, FileNotFoundError) as exc:
        emit("error", message=str(exc))
        return 1
    # The out-of-fold mistakes with the ids of their samples, for the trainer page.
    mistakes = [{**m, "sample_id": int(groups[m["index"]])} for m in report.get("mistakes", [])]
    emit("done", path=str(out), validation=report["validation"], duration_s=report["duration_s"],
         counts=report["counts"], mistakes=mistakes)
    return 0


if __name__ == "__main__":
    sys.exit(main())

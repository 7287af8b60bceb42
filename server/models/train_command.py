"""`posecast train`: a folder of class sub-folders (or a dataset recorded in the trainer page) ->
features -> model -> TF.js export, with the training library (training/); the run is recorded in
the database and the model registered and activated on a running server, as the trainer page's
runs are."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from core.checks import NAME
from core.features import KEYPOINT_KINDS, KINDS, TRAIN_BACKBONE, default_features
from core.tables import BACKBONES
from core.paths import PROJECT_ROOT


def _bar(done: int, total: int, text: str = "", width: int = 30) -> None:
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {text}".ljust(100) + end)
    sys.stderr.flush()


def _stage(fold: int | None, folds: int, logs: dict) -> str:
    """What an epoch's progress line says: which fold (or the final model) and its figures."""
    if fold is None:
        return f"final model (all samples): loss {logs['loss']:.3f} acc {logs['accuracy']:.2f}"
    return (f"fold {fold}/{folds}: loss {logs['loss']:.3f} acc {logs['accuracy']:.2f} "
            f"val_acc {logs.get('val_accuracy', 0):.2f}")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a pose classifier and export it to TF.js")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("data", type=Path, nargs="?", help="folder with one sub-folder of images per class")
    source.add_argument("--dataset", help="a dataset recorded on the trainer page (from the database)")
    p.add_argument("--features", choices=KINDS,
                   help="world (the default for an image folder on a BlazePose backbone: keypoints plus "
                        "BlazePose's 3-D angles and body frame, one merged member per view), keypoints "
                        "(the default otherwise: 51 normalised coordinates and scores; any backbone), pose "
                        "(angles, distances, masked coordinates) or tm (Teachable Machine's PoseNet features)")
    p.add_argument("--chiral", nargs="+", default=[], metavar="CLASS",
                   help="classes whose mirror image is another pose: never mirrored in augmentation")
    p.add_argument("--name", help="model name (default: the data folder's name)")
    # Keypoint kinds default to 3 models of 120 epochs merged: LOSO on yoga5 0.971 / 0.961 (seeds 0 / 2)
    # against 0.943 / 0.940 for one model of 60 (README, Training); tm keeps one model of 60.
    p.add_argument("--epochs", type=int, help="default: 120 for keypoint kinds, 60 for tm")
    p.add_argument("--ensemble", type=int, metavar="N",
                   help="keypoint kinds: train N models (1-10; seeds 0..N-1) and export them merged into one, the "
                        "softmax of their mean logits (N times the training time; default 3, tm 1; README, Training)")
    p.add_argument("--per-class", type=int, help="use only this many images per class")
    p.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / "tfjs_models")
    p.add_argument("--backbone", choices=list(BACKBONES),
                   help=f"pose model that extracts the keypoints from the images (default {TRAIN_BACKBONE}; "
                        "tm needs posenet); a recorded dataset uses the backbone it was recorded with")
    p.add_argument("--executor", choices=("openvino", "tensorflow"),
                   help="runs the backbone, in one worker process per core (default: OpenVINO when installed, "
                        "the fastest here for every backbone)")
    p.add_argument("--activate", metavar="URL", nargs="?", const="http://127.0.0.1:5000",
                   help="tell the running server (default http://127.0.0.1:5000; log in with POSECAST_USER and "
                        "POSECAST_PASSWORD) to register the model and "
                        "push it to every open live page")
    p.set_defaults(func=run)


def _settings() -> dict:
    from ..config import from_env, resolve

    return resolve(from_env())


def _record_run(settings: dict, params: dict, report: dict, dataset_id: int | None) -> None:
    """Every run is recorded in the database, as the server records its own."""
    from datetime import datetime, timezone

    from sqlalchemy import create_engine, insert

    from .. import db
    from .training_runs import runs

    engine = create_engine(settings["DATABASE_URL"])
    db.metadata.create_all(engine)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(runs).values(dataset_id=dataset_id, status="done", params=params,
                                         counts=report["counts"], metrics=report["validation"],
                                         duration_s=report["duration_s"], started_at=now, finished_at=now))


def _activate(url: str, name: str, version: int) -> str:
    """Register and activate the new model on a running server, logged in as POSECAST_USER
    (POSECAST_PASSWORD), a trainer or admin."""
    import http.cookiejar
    import os
    import urllib.error
    import urllib.request

    user, password = os.environ.get("POSECAST_USER"), os.environ.get("POSECAST_PASSWORD")
    if not user or not password:
        return (f"not activated on {url}: set POSECAST_USER and POSECAST_PASSWORD (a trainer's login); "
                "the server registers the model when it starts")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = ""

    def call(method, path, body=None):
        req = urllib.request.Request(url.rstrip("/") + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "X-CSRF-Token": token})
        with opener.open(req, timeout=10) as r:
            return json.load(r)

    try:
        token = call("GET", "/api/me")["csrf_token"]
        token = call("POST", "/api/login", {"username": user, "password": password})["csrf_token"]
        call("POST", "/api/models/scan")
        model = next(m for m in call("GET", "/api/models")["models"] if (m["name"], m["version"]) == (name, version))
        call("POST", f"/api/models/{model['id']}/activate")
    except urllib.error.HTTPError as exc:
        return f"could not activate it on {url} ({exc.code}: {exc.read().decode(errors='replace')[:200]})"
    except (OSError, StopIteration) as exc:
        return f"could not activate it on {url} ({exc}); the server registers it when it starts"
    return f"activated on {url}: every open live page now runs it"


def run(args) -> int:
    import training  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
    from .registry import next_version
    from training import data, export, features, train

    from .train_job import load

    settings = _settings()
    name = args.name or (args.dataset or args.data.resolve().name)
    if not NAME.fullmatch(name):
        print(f"posecast train: invalid model name {name!r}", file=sys.stderr)
        return 2
    dataset_id = None
    try:
        if args.dataset:  # its samples say which backbone, and whether they keep world landmarks
            dataset_id, backbone, lacking = _find_dataset(settings, args.dataset, args.backbone)
            args.features = args.features or default_features(backbone, args.ensemble, world_landmarks=not lacking)
        else:
            args.features = args.features or default_features(args.backbone, args.ensemble)
        keypoints = args.features in KEYPOINT_KINDS
        args.epochs = args.epochs if args.epochs is not None else (120 if keypoints else 60)
        args.ensemble = args.ensemble if args.ensemble is not None else (3 if keypoints else 1)
        train.check_ensemble(args.features, args.ensemble, "--ensemble")  # before minutes of extraction
        if args.dataset:
            x, labels, groups, backbone = load(settings["DATABASE_URL"], dataset_id, args.features,
                                               Path(settings["INSTANCE_PATH"]), backbone)
            data.check([data.Sample(Path(g), label, g) for label, g in zip(labels, groups)])
            print(f"dataset {args.dataset}: {len(labels)} samples, {len(set(labels))} classes, recorded with {backbone}")
        else:
            samples = data.from_folder(args.data)
            if args.per_class:
                samples = data.take_per_class(samples, args.per_class)
            backbone = args.backbone or ("posenet" if args.features == "tm" else TRAIN_BACKBONE)
            if args.features == "tm" and backbone != "posenet":
                raise ValueError("tm features come from PoseNet only: use --backbone posenet")
    except (data.DatasetError, ValueError) as exc:
        print(f"posecast train: {exc}", file=sys.stderr)
        return 2
    if not args.dataset:
        print(f"{len(samples)} images, {len({s.label for s in samples})} classes, {len({s.group for s in samples})} groups")
        print(f"extracting {args.features} features with {backbone}")
        try:  # in worker processes, one per core (training/features.py extractor)
            with features.extractor(backbone, args.executor) as estimator:
                x = features.extract(samples, args.features, estimator, progress=_bar)
        except (ValueError, FileNotFoundError) as exc:  # not in runtime/ yet, or assets/ not built
            print(f"posecast train: {exc}", file=sys.stderr)
            return 2
        labels, groups = [s.label for s in samples], [s.group for s in samples]
    print(f"training ({args.epochs} epochs)")
    model, classes, report = train.train(
        x, labels, groups, args.features, epochs=args.epochs, chiral=args.chiral, ensemble=args.ensemble,
        on_epoch=lambda e, n, logs, fold, folds: _bar(e, n, _stage(fold, folds, logs)))
    folder = args.models_dir / name
    version = next_version(folder)
    out = export.export(model, classes, args.features, folder / str(version), name=name, report=report,
                        backbone=backbone)
    _record_run(settings, {"features": args.features, "backbone": backbone, "epochs": args.epochs,
                           "ensemble": args.ensemble, "name": name,
                           "chiral": args.chiral, "source": args.dataset or str(args.data)}, report, dataset_id)
    val = report["validation"]
    print(f"validation accuracy {val['accuracy']:.3f} ({val['method']}, mean over {len(val['per_fold'])} folds; "
          f"worst {val['worst_fold']} {val['worst_accuracy']:.3f}); the exported model is trained on all samples")
    print(json.dumps(val["per_class"]))
    print(f"rejection: below {val['rejection']['threshold']:.2f} the page shows no known pose")
    print(f"exported to {out}")
    if args.activate:
        print(_activate(args.activate, name, version))
    return 0


def _find_dataset(settings: dict, dataset: str, backbone: str | None) -> tuple[int, str, int]:
    """(id, backbone, samples without world landmarks) of a recorded dataset, by name."""
    from sqlalchemy import create_engine, select

    from .. import db
    from ..samples.datasets import add_columns, backbone_of, datasets, without_world

    engine = create_engine(settings["DATABASE_URL"])
    # a database no server has opened since samples kept world landmarks: its column is added here,
    # under the servers' startup lock (a server starting meanwhile would add it too)
    with db.engine_lock(engine), engine.begin() as conn:
        db.metadata.create_all(conn)
        add_columns(conn)
        row = conn.execute(select(datasets.c.id).where(datasets.c.name == dataset)).first()
        if row is None:
            raise ValueError(f"no dataset named {dataset!r} in {settings['DATABASE_URL']}")
        return row.id, backbone_of(conn, row.id, backbone), without_world(conn, row.id)[0]

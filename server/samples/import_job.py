"""Import an extracted upload (`<folder>/<class>/<image>`) into a dataset, in its own process:
the dataset's backbone runs on every image as `posecast train` runs it (runtime/: the page's first
frame, then the refined crop; the most confident person's keypoints, all unseen when nobody is
found; BlazePose's world landmarks; with PoseNet also Teachable Machine's features), every sample gets a thumbnail and is
validated like a browser's, and all of them are stored in one transaction, or none. Progress goes
to stdout as JSON lines: {"event": "progress"|"done"|"error", ...}."""
from __future__ import annotations

import base64
import collections
import functools
import json
import sys
from pathlib import Path


def emit(event: str, **data) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def thumbnail(image) -> str:
    import tensorflow as tf

    h, w = image.shape[:2]
    scale = 96 / max(h, w)
    small = tf.image.resize(image, (max(1, round(h * scale)), max(1, round(w * scale))))
    data = tf.io.encode_jpeg(tf.cast(small, tf.uint8), quality=70).numpy()
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def model_row(estimator, image, backbone: str) -> dict:
    """What the backbone gives a sample (in an extraction worker): its keypoints, BlazePose's world
    landmarks, and with PoseNet Teachable Machine's features, from the whole image as TM does."""
    row = pose_of(estimator, image, backbone)
    if backbone == "posenet":
        row["tm"] = base64.b64encode(estimator.outputs(image).tm_features().astype("<f4").tobytes()).decode()
    return row


def pose_of(estimator, image, backbone: str) -> dict:
    """The most confident person's keypoints in the backbone's layout and, from a backbone that
    gives them, its world landmarks (`keypoints3D`, as the page sends them); all unseen (score 0,
    world landmarks 0) when nobody is found, as training from a folder counts such an image."""
    from core.features import WORLD_LAYOUT
    from core.tables import BACKBONES, keypoint_names

    world = BACKBONES[backbone].get("layout") == WORLD_LAYOUT
    poses = estimator.estimate(image)
    if not poses:
        names = keypoint_names(backbone)
        return {"keypoints": [{"name": name, "x": 0.0, "y": 0.0, "score": 0.0} for name in names],
                **({"keypoints3D": [[0.0, 0.0, 0.0]] * len(names)} if world else {})}
    pose = max(poses, key=lambda p: p.score)
    keypoints = [{"name": k["name"], "x": k["x"], "y": k["y"], "score": k["score"]} for k in pose.keypoints]
    landmarks = _checked(pose.extra.get("world"), backbone, keypoints) if world else None
    return {"keypoints": keypoints, **({"keypoints3D": landmarks} if landmarks is not None else {})}


def _checked(landmarks, backbone: str, keypoints: list[dict]):
    """The world landmarks as the sample check takes them, or None where it would refuse them (a
    misread pose flung metres away): that one sample then has none, rather than the whole zip
    being refused for it."""
    from core.checks import Invalid
    from core.samples import world_landmarks

    try:
        return world_landmarks(None if landmarks is None else [list(map(float, p)) for p in landmarks],
                               backbone, keypoints)
    except (Invalid, TypeError, ValueError):
        return None


def main(argv=None) -> int:
    from .datasets import job_arguments

    p = job_arguments(__doc__.splitlines()[0])
    p.add_argument("--folder", type=Path, required=True)
    p.add_argument("--backbone", required=True, help="the dataset's backbone (runtime.BACKBONES)")
    args = p.parse_args(argv)

    import training  # noqa: F401
    from sqlalchemy import create_engine

    from core.checks import Invalid
    from core.samples import validate_sample
    from server.samples.datasets import folder, store_samples
    from training.features import extractor
    from training.posenet import load_image

    files = sorted(f for f in args.folder.glob("*/*") if f.is_file())
    decoded = collections.deque()  # (path, image) of the images handed to the workers, in order

    def images():
        for path in files:
            try:
                image = load_image(path)
            except Exception:  # noqa: BLE001 - any undecodable file is reported by name
                raise Invalid(f"{path.parent.name}/{path.name} is not an image that can be decoded") from None
            decoded.append((path, image))
            yield image

    clean = []
    try:
        try:  # the backbone in worker processes, one per core, as `posecast train` extracts
            with extractor(args.backbone) as pool:
                for n, row in enumerate(pool.map(functools.partial(model_row, backbone=args.backbone), images()), 1):
                    path, image = decoded.popleft()
                    clean.append(validate_sample({"label": path.parent.name, "backbone": args.backbone,
                                                  "width": int(image.shape[1]), "height": int(image.shape[0]),
                                                  **row, "thumbnail": thumbnail(image)}))
                    if n % 10 == 0 or n == len(files):
                        emit("progress", done=n, total=len(files))
        except Invalid:
            raise
        except (ValueError, FileNotFoundError) as exc:  # an unknown backbone, or assets/ not built
            raise Invalid(str(exc)) from None
        engine = create_engine(args.database_url)
        with engine.begin() as conn:
            ids = store_samples(conn, args.dataset_id, clean, folder(args.dataset_id, str(args.instance)))
    except Invalid as exc:
        emit("error", message=str(exc))
        return 1
    counts: dict[str, int] = {}
    for sample in clean:
        counts[sample["label"]] = counts.get(sample["label"], 0) + 1
    emit("done", added=len(ids), counts=counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())

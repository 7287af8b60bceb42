"""Import an extracted upload (`<folder>/<class>/<image>`) into a dataset, in its own process:
PoseNet runs on every image (keypoints, Teachable Machine features, a thumbnail), every sample is
validated like a browser's, and all of them are stored in one transaction, or none. Progress goes
to stdout as JSON lines: {"event": "progress"|"done"|"error", ...}."""
from __future__ import annotations

import argparse
import base64
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--dataset-id", type=int, required=True)
    p.add_argument("--instance", type=Path, required=True)
    p.add_argument("--folder", type=Path, required=True)
    p.add_argument("--weights", type=Path, required=True)
    args = p.parse_args(argv)

    import training  # noqa: F401
    from sqlalchemy import create_engine

    from core.checks import Invalid
    from core.samples import validate_sample
    from server.samples.datasets import folder, store_samples
    from training.posenet import PoseNet, load_image

    files = sorted(f for f in args.folder.glob("*/*") if f.is_file())
    net = PoseNet(args.weights)
    clean = []
    try:
        for n, path in enumerate(files, 1):
            try:
                image = load_image(path)
            except Exception:  # noqa: BLE001 - any undecodable file is reported by name
                raise Invalid(f"{path.parent.name}/{path.name} is not an image that can be decoded") from None
            out = net.run(image)
            clean.append(validate_sample({
                "label": path.parent.name, "backbone": "posenet", "width": int(image.shape[1]),
                "height": int(image.shape[0]), "keypoints": out.keypoints(),
                "tm": base64.b64encode(out.tm_features().astype("<f4").tobytes()).decode(),
                "thumbnail": thumbnail(image)}))
            if n % 10 == 0 or n == len(files):
                emit("progress", done=n, total=len(files))
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

"""A video job's subprocess: `python -m poseio.video_job SPEC_JSON`. Runs every frame of the video
through the backbone (one pass per frame, the crop carried as on the page) and the classifier,
writes the frames to OUT/poses.jsonl (the job's canonical result; every download format is
rendered from it by formats.py), and reports JSON lines on stdout: {event: progress, done,
total}, then {event: done, frames} or {event: error, message}.

The result is written to poses.jsonl.part-<attempt> and renamed when complete: a job restarted
(its server died) never serves a half-written file, and the old attempt's process, should it
still finish, renames only its own file."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .classifier import Classifier, Unsupported
from .formats import Frame, Writer
from .infer import run
from . import video

PIXELS = 40_000_000


def say(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main(spec: dict) -> int:
    import runtime

    out = Path(spec["out"])
    suffix = f".part-{int(spec.get('attempt', 1))}"
    part = out / ("poses.jsonl" + suffix)
    for old in out.glob("poses.jsonl.part-*"):
        old.unlink(missing_ok=True)  # earlier attempts' (their process may still hold the file)
    try:
        total = video.info(Path(spec["video"]))[0]
        estimator = runtime.load(spec["backbone"], executor=spec.get("executor", "openvino"))
        classifier = Classifier(spec["model"]) if spec.get("model") else None
    except (ValueError, Unsupported, RuntimeError, FileNotFoundError) as exc:
        say({"event": "error", "message": str(exc)})
        return 1
    say({"event": "progress", "done": 0, "total": total})
    writer = Writer("jsonl", lambda name: open(out / (name + suffix), "w"), spec["backbone"])
    shown, done = time.monotonic(), 0
    try:
        for i, t, rgb in video.frames(Path(spec["video"]), PIXELS):
            people, _ = run(estimator, rgb, spec["max_people"], spec["threshold"], classifier, video=True)
            writer.add(Frame(i, spec["name"], rgb.shape[1], rgb.shape[0], people, time_s=t, video=True))
            done = i + 1
            if time.monotonic() - shown >= 0.5:
                shown = time.monotonic()
                say({"event": "progress", "done": done, "total": max(total, done)})
    except (ValueError, Unsupported) as exc:
        say({"event": "error", "message": str(exc)})
        return 1
    writer.close()
    if done == 0:
        say({"event": "error", "message": "the video has no frame OpenCV can decode"})
        return 1
    os.replace(part, out / "poses.jsonl")
    say({"event": "done", "frames": done, "total": done})
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))

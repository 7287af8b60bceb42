"""An inference worker process: `python -m poseio.worker --executor openvino`. The server starts
a pool of these (server/api_v1/pool.py) and sends one request at a time over stdin; answers go
back on the real stdout. Backbones and classifiers are loaded once, at first use, and kept.

Request: {op: "infer", backbone, max_people, threshold, max_pixels, model: spec|null} + image
bytes. Answer: {ok: true, width, height, people, timings_ms} or {ok: false, status, error}."""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from . import framing
from .classifier import Classifier, Unsupported
from .images import BadImage, decode
from .infer import run


class UnknownBackbone(ValueError):
    pass


class Worker:
    def __init__(self, executor: str):
        self.executor = executor
        self.estimators: dict = {}
        self.classifiers: dict = {}

    def estimator(self, backbone: str):
        if backbone not in self.estimators:
            import runtime

            if backbone not in runtime.BACKBONES:
                raise UnknownBackbone(f"the backbone {backbone} does not run in Python yet: one of "
                                      f"{', '.join(runtime.BACKBONES)}")
            self.estimators[backbone] = runtime.load(backbone, executor=self.executor)
        return self.estimators[backbone]

    def classifier(self, spec: dict | None):
        if not spec:
            return None
        key = (spec["dir"], spec["name"], spec["version"])
        if key not in self.classifiers:
            self.classifiers[key] = Classifier(spec)
        return self.classifiers[key]

    def handle(self, request: dict, body: bytes) -> dict:
        if request.get("op") == "ping":
            return {"ok": True, "pid": os.getpid()}
        if request.get("op") == "load":  # warm-up: the backbone loaded before the first request
            self.estimator(request["backbone"])
            return {"ok": True}
        try:
            t0 = time.perf_counter()
            rgb = decode(body, int(request["max_pixels"]))
            decoded = time.perf_counter()
            classifier = self.classifier(request.get("model"))
            people, timings = run(self.estimator(request["backbone"]), rgb, int(request["max_people"]),
                                  float(request.get("threshold", 0.0)), classifier)
            return {"ok": True, "width": int(rgb.shape[1]), "height": int(rgb.shape[0]), "people": people,
                    "timings_ms": {"decode": round((decoded - t0) * 1000, 2), **timings}}
        except BadImage as exc:
            return {"ok": False, "status": exc.status, "error": str(exc)}
        except (Unsupported, UnknownBackbone) as exc:
            return {"ok": False, "status": 422, "error": str(exc)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m poseio.worker")
    parser.add_argument("--executor", default="openvino", choices=("openvino", "tensorflow"))
    args = parser.parse_args(argv)
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inp = sys.stdin.buffer
    worker = Worker(args.executor)
    while True:
        try:
            request, body = framing.read(inp)
        except framing.Closed:
            return 0  # the server went away
        try:
            answer = worker.handle(request, body)
        except Exception as exc:  # a bug or a broken model: this request fails, the worker lives on
            traceback.print_exc()
            answer = {"ok": False, "status": 500, "error": f"inference failed: {type(exc).__name__}: {exc}"}
        answer["id"] = request.get("id")
        framing.write(out, answer)


if __name__ == "__main__":
    sys.exit(main())

"""The edge node's loop: frames -> poses -> labels -> durable outbox -> server, with the model
the server says is active (or the one --model pins), fps and queue depth printed every few
seconds, and Ctrl-C (SIGINT) or SIGTERM draining what is queued before it exits."""
from __future__ import annotations

import json
import queue
import signal
import sys
import threading
import time
import urllib.request

from core import features
from core.clock import now_ms

from . import classifier as classifiers
from . import model_cache
from .link import Link, Refused
from .outbox import Outbox
from .pipeline import Pipeline, skeleton
from .source import Source

REPORT_EVERY_S = 2.0
HTTP_TIMEOUT_S = 30
MAX_DOWNLOAD = 64 * 1024 * 1024

# exit codes
OK, BAD_INPUT, REFUSED, NO_SERVER, BAD_MODEL = 0, 2, 3, 4, 5
DEFAULT_BACKBONE = "movenet-lightning"  # when neither --backbone nor the model names one


def http_get(base: str, path: str) -> bytes:
    with urllib.request.urlopen(base.rstrip("/") + path, timeout=HTTP_TIMEOUT_S) as r:
        data = r.read(MAX_DOWNLOAD + 1)
    if len(data) > MAX_DOWNLOAD:
        raise ValueError(f"{path}: larger than {MAX_DOWNLOAD} bytes")
    return data


class Node:
    def __init__(self, args, log=print):
        self.args, self.log = args, log
        self.classifier = None
        self.model_error = ""
        self.fps = 0.0
        self.frames = 0
        self.events = 0
        self.stopping = threading.Event()
        self.model_ready = threading.Event()  # the server said which model (or none) is active
        self._unavailable: str | None = None  # a backbone whose weights are not on this box
        self.exit_code: int | None = None  # set when connecting in the background fails
        self._model_lock = threading.Lock()

    # --- the model ------------------------------------------------------------------------------
    def use_model(self, spec: dict | None, fetch=None) -> None:
        """From /live (an operator activated a model), from --model at start, or from the cache
        (fetch given: the cached files) when the node starts while the server is unreachable."""
        try:
            self._use_model(spec, fetch)
        finally:
            self.model_ready.set()

    def _use_model(self, spec: dict | None, fetch) -> None:
        if self.args.model and spec is not None and spec.get("pinned") is not True:
            return  # pinned with --model: activations on the server do not move this node
        if spec is None:
            with self._model_lock:
                self.classifier = None
            model_cache.clear(self.args.state_dir)  # an offline restart must not bring it back
            self.log("no model is active on the server: classifying nothing until one is")
            return
        received: dict[str, bytes] = {}

        def from_server(path: str) -> bytes:
            received[path] = http_get(self.args.server, path)
            return received[path]

        try:
            loaded = classifiers.load(spec, fetch or from_server, self.args.backbone)
        except (classifiers.Unsupported, OSError, ValueError, KeyError, TypeError) as exc:
            self.model_error = f"cannot run model {spec.get('name')} v{spec.get('version')}: {exc}"
            self.log(self.model_error)
            with self._model_lock:
                self.classifier = None
            return
        with self._model_lock:
            self.classifier = loaded
        self.model_error = ""
        if fetch is None:
            try:
                model_cache.save(self.args.state_dir, spec, received)
            except OSError as exc:  # a full disk must not stop the labelling
                self.log(f"could not keep the model for an offline start: {exc}")
        source = " (cached: the server is not reached yet)" if fetch else ""
        self.log(f"model {spec['name']} v{spec['version']} ({spec['features']}: {', '.join(spec['labels'])}){source}")

    def cached_model(self) -> tuple[dict, object] | None:
        """The model this node last ran, if it may run it now (a pinned node only its pinned one)."""
        cached = model_cache.load(self.args.state_dir)
        if cached is None:
            return None
        spec = cached[0]
        pinned = f"{spec.get('name')}/{spec.get('version')}" if spec.get("pinned") is True else None
        return cached if pinned == (self.args.model or None) else None

    def connect_in_background(self, link: Link) -> None:
        """With a cached model the loop runs at once; this connects meanwhile. A refused token
        stops the loop (run() checks link.refused); --connect-timeout passing stops it with 4."""
        try:
            link.start(wait_s=self.args.connect_timeout, abort=self.stopping)
        except Refused as exc:
            link.refused = str(exc)
        except ConnectionError as exc:
            self.log(str(exc))
            self.exit_code = NO_SERVER
            self.stopping.set()

    def pinned_spec(self) -> dict:
        name, _, version = self.args.model.partition("/")
        meta = json.loads(http_get(self.args.server, f"/models/{name}/{version}/posecast.json"))
        rejection = meta.get("rejection") or {}
        return {"id": 0, "name": name, "version": int(version), "features": meta["features"],
                "labels": meta["labels"], "url": f"/models/{name}/{version}/model.json",
                "normalisation": meta.get("normalisation"), "threshold": rejection.get("threshold"), "pinned": True,
                "backbone": "posenet" if meta["features"] == "tm" else meta.get("backbone")}

    # --- the pose model -------------------------------------------------------------------------
    def wanted_backbone(self) -> str:
        """--backbone, else the one the model was trained on (live pages switch to it too, so the
        classifier sees the keypoints it learnt), else MoveNet Lightning."""
        if self.args.backbone:
            return self.args.backbone
        with self._model_lock:
            model = self.classifier
        return (model.spec.get("backbone") if model is not None else None) or DEFAULT_BACKBONE

    def load_estimator(self, backbone: str):
        import runtime

        options = {"threads": self.args.threads} if self.args.threads else {}
        if self.args.executor == "openvino":
            # bf16 moves PoseNet's offsets by tens of pixels: a model on PoseNet runs in f32
            options["precision"] = "f32" if backbone == "posenet" else self.args.precision
        return runtime.load(backbone, executor=self.args.executor, **options)

    def _pipeline_for(self, current: Pipeline | None) -> Pipeline | None:
        """The pipeline to run the next frame with: a new one when the wanted backbone changed
        (an operator activated a model trained on another); None when the first cannot load."""
        wanted = self.wanted_backbone()
        if current is not None and (wanted == current.estimator.backbone or wanted == self._unavailable):
            return current
        try:
            estimator = self.load_estimator(wanted)
        except (FileNotFoundError, ImportError, ValueError) as exc:
            self._unavailable = wanted
            with self._model_lock:
                model = self.classifier
            # a world model on the backbone kept labels nothing (its people carry no world landmarks)
            problem = current and model and features.backbone_problem(model.kind, current.estimator.backbone)
            self.log(f"cannot load {wanted} on {self.args.executor}: {exc}. Without assets/ or TensorFlow here, "
                     f"copy them from the server: posecast edge --fetch-weights --server URL --backbone {wanted}"
                     + (f"; going on with {current.estimator.backbone}" if current else "")
                     + (f", on which {model.spec.get('name')} classifies nothing: {problem}" if problem else ""))
            return current
        if current is not None:
            self.log(f"pose model: {wanted} (the model's backbone)")
        self._unavailable = None
        return Pipeline(estimator, self.args.max_people)

    # --- the loop -------------------------------------------------------------------------------
    def label(self, frame, pipeline: Pipeline, outbox: Outbox, link: Link | None, poses=None) -> list[dict]:
        """A frame's people, labels into the outbox, the first person's skeleton to the link.
        poses: the model's output for the frame when it already ran (see run())."""
        if poses is None:
            people = pipeline.people(frame.rgb, frame.t)
        else:
            people = pipeline.follow(poses, frame.t, frame.rgb.shape)
        with self._model_lock:
            model = self.classifier
        results = model.classify(people) if model is not None else []
        ts, fps = now_ms(), round(self.fps, 1)
        for r in results:
            outbox.push({"ts": ts, "label": r["label"], "confidence": r["confidence"], "model": model.spec["name"],
                         "model_version": model.spec["version"], "backbone": pipeline.estimator.backbone,
                         "person": r["person"], "fps": min(fps, 1000.0)})
        if results and link is not None:
            main = next(p for p in people if max(0, p.id) == results[0]["person"])
            link.skeleton(skeleton(main, frame.rgb.shape[1], frame.rgb.shape[0]))
        return results

    def run(self, source: Source, outbox: Outbox, link: Link, pipeline: Pipeline | None = None) -> int:
        """Frames in order. The model runs here while a second thread labels the frame before
        (tracking, smoothing, classifier, outbox, skeleton): the model and numpy release the GIL,
        so on a small CPU that work no longer adds to each frame's time. One frame is labelled
        at a time, in order; the model's next crop needs only the model's own output."""
        started = self._last_report = time.monotonic()
        self._window = []
        labeller = _Labeller(lambda frame, poses, used: self._labelled(frame, poses, used, outbox, link))
        given = 0
        try:
            while not self.stopping.is_set():
                if link.refused:
                    self.log(f"refused by the server: {link.refused}")
                    return REFUSED
                if self.args.max_frames and given >= self.args.max_frames:
                    break
                pipeline = self._pipeline_for(pipeline)
                if pipeline is None:
                    return BAD_INPUT
                frame = source.read()
                if frame is None:
                    self.log(f"{source.name}: end of the source")
                    break
                labeller.put(frame, pipeline.estimate(frame.rgb), pipeline)
                given += 1
        finally:
            labeller.close()
        self.log(f"{self.frames} frames in {time.monotonic() - started:.1f} s")
        return OK

    def _labelled(self, frame, poses, pipeline: Pipeline, outbox: Outbox, link: Link) -> None:
        self.label(frame, pipeline, outbox, link, poses)
        self.frames += 1
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 2.0] + [now]
        w = self._window
        self.fps = (len(w) - 1) / (w[-1] - w[0]) if len(w) > 1 else 0.0
        if now - self._last_report >= REPORT_EVERY_S:
            self._last_report = now
            self.report(outbox, link)

    def report(self, outbox: Outbox, link: Link) -> None:
        s = link.stats
        model = self.classifier.spec["name"] if self.classifier else "none"
        self.log(f"fps {self.fps:5.1f}  queue {outbox.depth():6d}  acked {s['acked']}  dup {s['duplicates']}  "
                 f"{'connected' if link.connected.is_set() else 'offline'}  model {model}"
                 + (f"  ({s['last_error']})" if s["last_error"] else ""))


class _Labeller:
    """One thread that labels frames in the order given, one waiting at most: put() blocks while
    the frame before is still being labelled. An error there is raised again in the loop."""

    def __init__(self, work):
        self._work, self._slot = work, queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="edge-labeller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._slot.get()
            if item is None:
                return
            try:
                if self._error is None:
                    self._work(*item)
            except BaseException as exc:  # noqa: BLE001 (handed to the loop's thread)
                self._error = exc
            finally:
                self._slot.task_done()

    def put(self, frame, poses, pipeline) -> None:
        if self._error is not None:
            raise self._error
        self._slot.put((frame, poses, pipeline))

    def close(self) -> None:
        """Label what was given, then stop."""
        self._slot.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def main(args) -> int:
    """`posecast edge`: checked arguments in, an exit code out (see the codes above)."""
    log = (lambda m: print(f"posecast edge: {m}", flush=True))
    node = Node(args, log)
    try:
        source = Source(args.source, loop=args.loop)
    except Exception as exc:  # SourceError, or OpenCV failing on a strange input
        log(str(exc))
        return BAD_INPUT
    try:
        outbox = Outbox(args.state_dir)
    except Exception as exc:
        log(str(exc))
        source.close()
        return BAD_INPUT
    log(f"{source.kind} {args.source} ({source.width}x{source.height}); state in {args.state_dir}; "
        f"{outbox.depth()} events waiting from before")
    pipeline = node._pipeline_for(None) if args.backbone else None  # else the model's, once known
    if args.backbone and pipeline is None:
        source.close()
        outbox.close()
        return BAD_INPUT
    link = Link(args.server, outbox, args.name, args.token, node.use_model, log=log)

    def stop(signum, _frame):
        if node.stopping.is_set():  # a second Ctrl-C: leave now, the outbox keeps the rest
            raise KeyboardInterrupt
        log("stopping: sending what is queued (Ctrl-C again to leave now; nothing is lost)")
        node.stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = OK
    cached = node.cached_model()
    try:
        if cached is not None:  # label at once with the last model; the server may be down
            node.use_model(*cached)
            threading.Thread(target=node.connect_in_background, args=(link,), name="edge-connect",
                             daemon=True).start()
        elif args.model:
            link.start(wait_s=args.connect_timeout, abort=node.stopping)
            node.use_model(node.pinned_spec())
        else:
            link.start(wait_s=args.connect_timeout, abort=node.stopping)
            deadline = time.monotonic() + 30
            while not node.model_ready.wait(0.2) and not node.stopping.is_set():
                if time.monotonic() > deadline:
                    log("the server did not say which model is active within 30 s; starting without one")
                    break
        code = node.run(source, outbox, link, pipeline)
        code = node.exit_code if node.exit_code is not None else code
        if code == OK:
            drained = link.drain(args.drain_seconds)
            left = outbox.depth()
            log("all events acknowledged" if drained else f"{left} events stay in the outbox; sent at the next start")
    except Refused as exc:
        log(f"refused by the server: {exc}")
        code = REFUSED
    except ConnectionError as exc:
        log(str(exc))
        code = NO_SERVER
    except (OSError, ValueError, KeyError) as exc:  # --model: the server has no such export
        log(f"cannot read model {args.model} from {args.server}: {exc}")
        code = BAD_MODEL
    except KeyboardInterrupt:
        log(f"left at once; {outbox.depth()} events stay in the outbox")
    finally:
        node.stopping.set()  # a connect still retrying in the background gives up
        link.close()
        outbox.commit()
        outbox.close()
        source.close()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)

"""Frame -> poses -> people -> labels, as the live page does it: the backbone (runtime/), person
ids by box overlap (web/js/live/tracker.js), keypoint smoothing (web/js/live/smoothing.js, One
Euro filter), then the active classifier. Ported step for step so an edge node labels a frame as
a page would."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_IOU, MAX_AGE_S = 0.2, 1.0  # tracker.js
MIN_CUTOFF, BETA, D_CUTOFF, MAX_GAP_S = 2.5, 300.0, 2.5, 0.5  # smoothing.js


@dataclass
class Person:
    id: int
    score: float
    keypoints: list[dict]  # [{name, x, y, score}] in frame pixels
    # BlazePose's world landmarks (runtime/ extra["world"]: metres, one per keypoint), None from other
    # backbones; not smoothed, as the page passes keypoints3D through (web/js/live/smoothing.js)
    world: list | None = None


def _box(keypoints: list[dict], min_score: float = 0.2):
    pts = [(k["x"], k["y"]) for k in keypoints if k["score"] >= min_score]
    if not pts:
        return None
    xs, ys = zip(*pts)
    box = (min(xs), min(ys), max(xs), max(ys))
    return box if box[2] > box[0] else None


def _iou(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


class Tracker:
    """Greedy box-IoU matching with the previous frame's tracks; ids start at 1."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.tracks: list[dict] = []
        self.next_id = 1

    def assign(self, poses, now: float) -> list[Person]:
        self.tracks = [t for t in self.tracks if now - t["seen"] <= MAX_AGE_S]
        free = list(self.tracks)
        out = []
        for pose in poses:
            box = _box(pose.keypoints)
            best, best_iou = None, MIN_IOU
            for t in free if box else []:
                v = _iou(box, t["box"])
                if v > best_iou:
                    best, best_iou = t, v
            if best is not None:
                free.remove(best)
                best.update(box=box, seen=now)
                pid = best["id"]
            else:
                pid = self.next_id
                self.next_id += 1
                if box:
                    self.tracks.append({"id": pid, "box": box, "seen": now})
            out.append(Person(pid, float(pose.score), [dict(k) for k in pose.keypoints],
                              (getattr(pose, "extra", None) or {}).get("world")))
        return out


def _alpha(cutoff: float, dt: float) -> float:
    return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff * dt))


class _OneEuro:
    def __init__(self):
        self.x, self.dx = None, 0.0

    def __call__(self, value: float, dt: float) -> float:
        if self.x is None:
            self.x = value
            return value
        raw = (value - self.x) / dt
        self.dx += _alpha(D_CUTOFF, dt) * (raw - self.dx)
        self.x += _alpha(MIN_CUTOFF + BETA * abs(self.dx), dt) * (value - self.x)
        return self.x


class Smoother:
    """Per track and keypoint, x and y in units of the frame's longer side (smoothing.js)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.tracks: dict[int, dict] = {}

    def apply(self, people: list[Person], t: float, scale: float) -> list[Person]:
        nxt = {}
        for person in people:
            track = self.tracks.get(person.id)
            if track is None or t - track["t"] > MAX_GAP_S or t <= track["t"]:
                track = {"t": t - 1 / 30, "filters": {}}
            dt = t - track["t"]
            track["t"] = t
            nxt[person.id] = track
            for k in person.keypoints:
                fx, fy = track["filters"].setdefault(k["name"], (_OneEuro(), _OneEuro()))
                k["x"] = fx(k["x"] / scale, dt) * scale
                k["y"] = fy(k["y"] / scale, dt) * scale
        self.tracks = nxt
        return people


class Pipeline:
    """One source's frames in order: estimator.track, tracker, smoother, classifier."""

    def __init__(self, estimator, max_people: int | None = None):
        self.estimator = estimator
        self.max_people = max_people
        self.tracker, self.smoother = Tracker(), Smoother()

    def reset(self) -> None:
        self.estimator.reset()
        self.tracker.reset()
        self.smoother.reset()

    def people(self, rgb: np.ndarray, t: float) -> list[Person]:
        """t: the frame's time in seconds (media time for files, a monotonic clock for cameras)."""
        return self.follow(self.estimate(rgb), t, rgb.shape)

    def estimate(self, rgb: np.ndarray) -> list:
        """The model's part (the backbone's crop carried from the previous frame)."""
        return self.estimator.track(rgb, self.max_people)

    def follow(self, poses: list, t: float, shape: tuple) -> list[Person]:
        """The rest, in frame order: person ids, then smoothing."""
        people = self.tracker.assign(poses, t)
        return self.smoother.apply(people, t, float(max(shape[0], shape[1])))


def skeleton(person: Person, width: int, height: int) -> dict:
    """The /pose `skeleton` payload for the dashboard's detail view (stream.js skeleton)."""
    return {"person": max(0, person.id), "width": width, "height": height,
            "keypoints": [[round(k["x"]), round(k["y"]), round(k["score"] * 100) / 100] for k in person.keypoints]}

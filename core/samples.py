"""A pose sample (recorded in a page, uploaded, or extracted from an image by a job): its checks.

A sample is validated in full before anything is stored; the same rules apply whatever door it
came in by.
"""
from __future__ import annotations

import base64

import numpy as np

from .checks import Invalid, check_label, check_number, fields  # noqa: F401 (check_label re-exported)
from .features import TM_FEATURES, TRAIN_BACKBONE, WORLD_LAYOUT, keypoint_vector
from .tables import BACKBONES, keypoint_count

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
MAX_THUMBNAIL = 64 * 1024
MAX_DIMENSION = 8192
SAMPLE_FIELDS = ("label", "backbone", "width", "height", "keypoints", "keypoints3D", "tm", "thumbnail")
# BlazePose's world landmarks are metres from the mid-hips: a body lies within a couple of them, so
# anything past this is no pose (and would swamp the body frame's scale).
MAX_WORLD_METRES = 10.0


def validate_sample(payload) -> dict:
    """Check every field of a sample; returns the clean values (or raises Invalid)."""
    fields(payload, optional=SAMPLE_FIELDS)
    label = check_label(payload.get("label"))
    backbone = payload.get("backbone")
    if backbone not in BACKBONES:
        raise Invalid(f"backbone must be one of {', '.join(BACKBONES)}")
    width = int(check_number(payload.get("width"), "width", 1, MAX_DIMENSION))
    height = int(check_number(payload.get("height"), "height", 1, MAX_DIMENSION))
    kps = payload.get("keypoints")
    if not isinstance(kps, list) or len(kps) != keypoint_count(backbone):
        raise Invalid(f"keypoints must be a list of {keypoint_count(backbone)} for {backbone}")
    clean = []
    for i, kp in enumerate(kps):
        if not isinstance(kp, dict) or set(kp) != {"name", "x", "y", "score"} or not isinstance(kp["name"], str):
            raise Invalid(f"keypoints[{i}] must be {{name, x, y, score}}")
        clean.append({"name": kp["name"][:32],
                      "x": check_number(kp["x"], f"keypoints[{i}].x", -width, 2 * width),
                      "y": check_number(kp["y"], f"keypoints[{i}].y", -height, 2 * height),
                      "score": check_number(kp["score"], f"keypoints[{i}].score", 0, 1)})
    try:
        normalised = keypoint_vector(clean).tolist()
    except KeyError as exc:
        raise Invalid(f"keypoints lack {exc.args[0]}") from None
    world = world_landmarks(payload.get("keypoints3D"), backbone, clean)
    tm = None
    if payload.get("tm") is not None:
        if backbone != "posenet":
            raise Invalid("tm features come from the posenet backbone only")
        try:
            tm = np.frombuffer(base64.b64decode(payload["tm"], validate=True), dtype="<f4")
        except (ValueError, TypeError):
            raise Invalid("tm must be base64 of little-endian float32") from None
        if tm.shape != (TM_FEATURES,) or not np.isfinite(tm).all():
            raise Invalid(f"tm must hold {TM_FEATURES} finite float32 values")
    thumbnail = None
    if payload.get("thumbnail") is not None:
        thumb = payload["thumbnail"]
        prefix = "data:image/jpeg;base64,"
        if not isinstance(thumb, str) or not thumb.startswith(prefix):
            raise Invalid("thumbnail must be a JPEG data URL")
        try:
            thumbnail = base64.b64decode(thumb[len(prefix):], validate=True)
        except ValueError:
            raise Invalid("thumbnail is not valid base64") from None
        if len(thumbnail) > MAX_THUMBNAIL or not thumbnail.startswith(b"\xff\xd8"):
            raise Invalid(f"thumbnail must be a JPEG of at most {MAX_THUMBNAIL} bytes")
    return {"label": label, "backbone": backbone, "width": width, "height": height,
            "keypoints": clean, "normalised": normalised, "world": world, "tm": tm, "thumbnail": thumbnail}


def world_landmarks(points, backbone: str, keypoints: list[dict]) -> list[list[float]] | None:
    """A sample's world landmarks (the page's `keypoints3D`: [{x, y, z, name?, score?}] in metres,
    one per keypoint and in their order; runtime/ BlazePose's `extra["world"]` as [x, y, z]) -> the
    stored [[x, y, z], ...], or None when it has none. Only a BlazePose backbone gives them."""
    if points is None:
        return None
    if BACKBONES[backbone].get("layout") != WORLD_LAYOUT:
        raise Invalid(f"keypoints3D (world landmarks) come from BlazePose backbones only, not {backbone}")
    if not isinstance(points, list) or len(points) != len(keypoints):
        raise Invalid(f"keypoints3D must be a list of {len(keypoints)} for {backbone}")
    rows = []
    for i, p in enumerate(points):
        if isinstance(p, list) and len(p) == 3:
            p = dict(zip("xyz", p))
        if not isinstance(p, dict) or not {"x", "y", "z"} <= set(p) <= {"name", "x", "y", "z", "score"}:
            raise Invalid(f"keypoints3D[{i}] must be {{x, y, z}} (name and score optional)")
        if "name" in p and p["name"] != keypoints[i]["name"]:
            raise Invalid(f"keypoints3D[{i}] is {str(p['name'])[:32]!r}, not keypoints[{i}]'s "
                          f"{keypoints[i]['name']!r}: send them in the same order")
        if "score" in p:
            check_number(p["score"], f"keypoints3D[{i}].score", 0, 1)
        rows.append([check_number(p[axis], f"keypoints3D[{i}].{axis}", -MAX_WORLD_METRES, MAX_WORLD_METRES)
                     for axis in "xyz"])
    return rows


def recorded_backbone(found: set, asked: str | None) -> str:
    """The one backbone a dataset's samples were recorded with: a model learns one backbone's
    keypoints (the page switches to it when the model is activated), so mixing is refused, and so
    is asking for another backbone than the samples have."""
    if len(found) > 1:
        raise ValueError(f"the dataset mixes samples of {', '.join(sorted(found))}: a model is trained on one "
                         "backbone's keypoints; delete the others or record them again")
    backbone = next(iter(found), asked or TRAIN_BACKBONE)
    if asked and asked != backbone:
        raise ValueError(f"the dataset was recorded with {backbone}, not {asked}: record it with {asked} "
                         f"(trainer page ?backbone={asked}) or train with {backbone}")
    return backbone

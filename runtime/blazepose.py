"""BlazePose lite / full / heavy as pose-detection 2.1's tfjs runtime runs them in the page (ml5
bodyPose 'BlazePose', runtime 'tfjs'): with no region of interest yet (a first frame, or after a
lost pose), the detector finds the person and its hip centre and body keypoints give a rotated
ROI; the landmark model then runs on that ROI, and the ROI for the next frame comes from its two
auxiliary landmarks (hip centre and body size/rotation). One person at most, as in the page.

A still image gets the page's first frame (detector ROI) and then a second pass on the ROI from
the first pass's landmarks; when the detector finds nobody, MoveNet Thunder seeds the ROI instead
(_fallback; the page's trainer does the same for uploaded photos). The page only smooths
landmarks when frames carry timestamps (video); images carry none, so neither pass is smoothed
here either. Geometry: blazepose_ops.py."""
from __future__ import annotations

import numpy as np

from core.tables import BLAZEPOSE33

from .blazepose_ops import (DETECTOR_SIZE, LANDMARK_SIZE, Rect, alignment_roi, best_detection, letterbox,
                            project, refine_from_heatmap, remove_letterbox, seed_roi, ssd_anchors, warp)
from .estimator import Estimator, Pose, weights
from .executors import make_executor
from .image import box_of

BACKBONES = ("blazepose-lite", "blazepose-full", "blazepose-heavy")
DETECTOR = "blazepose-detector"
MIN_POSE_PRESENCE = 0.5  # BLAZEPOSE_POSE_PRESENCE_SCORE: under it the pose is lost
NUM_KEYPOINTS = 33  # then 2 auxiliary landmarks (for the next ROI) and 4 unused ones: 39 rows
BOX_MIN_VISIBILITY = 0.5
# What a still image gets when the detector finds nobody (see _fallback): "movenet" or "none".
STILL_FALLBACKS = ("movenet", "none")
# What run_landmarks computes and returns: not the 256x256 segmentation, which nothing here uses.
# The world landmarks cost nothing measurable (heavy on OpenVINO, one thread, alternated image by
# image: 117.3 against 117.0 and 111.4 against 111.4 ms of CPU per still image, load 11-16).
LANDMARK_OUTPUTS = ("output_poseflag", "ld_3d", "activation_heatmap", "world_3d")
SEED_BACKBONE = "movenet-thunder"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x.astype(np.float64)))


def world_landmarks(world_3d: np.ndarray, rotation: float) -> np.ndarray:
    """The landmark model's world_3d output (39 x 3: metres, origin mid-hips, axes of the ROI) ->
    the 33 keypoints' (x, y, z) with x and y turned by the ROI's rotation into the image's axes,
    as pose-detection's keypoints3D (calculateWorldLandmarkProjection; z is left as it is)."""
    world = world_3d.reshape(-1, 3)[:NUM_KEYPOINTS].astype(np.float64)
    cos, sin = np.cos(rotation), np.sin(rotation)
    x, y = world[:, 0], world[:, 1]
    return np.stack([cos * x - sin * y, sin * x + cos * y, world[:, 2]], axis=1)


class BlazePose(Estimator):
    def __init__(self, backbone: str, executor: str = "tensorflow", still_fallback: str = "movenet", **options):
        if backbone not in BACKBONES:
            raise ValueError(f"unknown BlazePose model {backbone!r}: one of {', '.join(BACKBONES)}")
        if still_fallback not in STILL_FALLBACKS:
            raise ValueError(f"unknown still-image fallback {still_fallback!r}: one of {', '.join(STILL_FALLBACKS)}")
        self.still_fallback = still_fallback
        self._seed = None  # MoveNet, loaded on the first still image the detector misses
        self._executor, self._options = executor, options
        self.backbone = backbone
        self.run_detector = make_executor(executor, weights(DETECTOR), (1, DETECTOR_SIZE, DETECTOR_SIZE, 3),
                                          **options)
        self.run_landmarks = make_executor(executor, weights(backbone), (1, LANDMARK_SIZE, LANDMARK_SIZE, 3),
                                           tf_remapping=backbone != "blazepose-heavy", outputs=LANDMARK_OUTPUTS,
                                           **options)
        self._anchors = ssd_anchors()
        self.reset()

    def reset(self) -> None:
        self._roi: Rect | None = None

    def _estimate(self, image, max_people, still):
        if not still:
            return self._pass(image)
        poses = self._refined(image, self._pass(image))
        # nobody: the detector found no one, or the refined pass lost who it found
        if not poses and self.still_fallback != "none":
            poses = self._refined(image, self._fallback(image))
        return poses

    def _refined(self, image: np.ndarray, poses: list[Pose]) -> list[Pose]:
        """The page's second frame on a still image: the ROI from the first pass's landmarks."""
        return self._pass(image) if poses else poses

    def _fallback(self, image: np.ndarray) -> list[Pose]:
        """A still image where BlazePose found nobody: a person lying, seen from above, upside
        down (the detector was trained on upright people). MoveNet Thunder seeds the ROI
        (blazepose_ops.seed_roi) and the landmark model runs on it; its pose presence (>= 0.5,
        the page's threshold) must say a person is there, so two models have to agree. Measured
        (README, Pose models in Python): it found 64 of the 67 people the detector missed in yoga5
        and no one in 39 crops without people; the image turned by 90/180/270 degrees for the
        detector found 37 (1 false), the whole image as the ROI 62 (4 false, and landmarks 13 px
        off the others' at the median)."""
        if self._seed is None:
            from .movenet import MoveNetSingle

            self._seed = MoveNetSingle(SEED_BACKBONE, self._executor, **self._options)
        seeds = self._seed.estimate(image)
        if not seeds:
            return []
        h, w = image.shape[:2]
        roi = seed_roi({k["name"]: (k["x"], k["y"]) for k in seeds[0].keypoints}, w, h)
        return self._pose(image, roi, self._landmarks(image, roi))

    def _pass(self, image: np.ndarray) -> list[Pose]:
        roi = self._roi or self._detect(image)
        return self._pose(image, roi, roi and self._landmarks(image, roi))

    def _pose(self, image: np.ndarray, roi: Rect | None, found) -> list[Pose]:
        """The pose from the landmarks `found` on `roi` (none when they are not), keeping the ROI
        their auxiliary landmarks give for the next pass."""
        h, w = image.shape[:2]
        if not found:
            self.reset()
            return []
        score, points, visibility, extra = found
        # the next frame's ROI: the auxiliary landmarks as the detector's keypoints 0 and 1
        self._roi = alignment_roi(points[NUM_KEYPOINTS], points[NUM_KEYPOINTS + 1], w, h)
        keypoints = [{"name": n, "x": float(p[0] * w), "y": float(p[1] * h), "score": float(v)}
                     for n, p, v in zip(BLAZEPOSE33, points, visibility)]
        box = box_of(keypoints, BOX_MIN_VISIBILITY) or box_of(keypoints)
        extra["roi"] = roi
        return [Pose(score=score, keypoints=keypoints, box=box, extra=extra)]

    def _detect(self, image: np.ndarray) -> Rect | None:
        """detectPose + poseDetectionToRoi: the ROI around the best detection, or None."""
        h, w = image.shape[:2]
        roi_px, padding = letterbox(Rect(0.5 * w, 0.5 * h, w, h), DETECTOR_SIZE)
        x = warp(image, roi_px, DETECTOR_SIZE) * np.float32(2 / 255) + np.float32(-1)  # to [-1, 1]
        found = best_detection(self.run_detector(x[None])[0][0], self._anchors)
        if found is None:
            return None
        keypoints = remove_letterbox(found[1], padding)
        return alignment_roi(keypoints[0], keypoints[1], w, h)

    def _landmarks(self, image: np.ndarray, roi: Rect):
        """poseLandmarksByRoi: (pose presence, [39, 2] landmarks normalised to the image, the 33
        keypoints' visibility, extras) or None when the pose is not present."""
        h, w = image.shape[:2]
        roi_px, padding = letterbox(Rect(roi.x_center * w, roi.y_center * h, roi.width * w, roi.height * h,
                                         roi.rotation), LANDMARK_SIZE)
        x = warp(image, roi_px, LANDMARK_SIZE) * np.float32(1 / 255)  # to [0, 1]
        poseflag, ld_3d, heatmap, world_3d = self.run_landmarks(x[None])
        presence = float(poseflag.reshape(-1)[0])
        if presence < MIN_POSE_PRESENCE:
            return None
        # ld_3d: per landmark x, y, z (in 256 px crop units), visibility and presence (logits)
        raw = ld_3d.reshape(-1, 5).astype(np.float64)
        crop = raw[:, :2] / LANDMARK_SIZE
        crop = refine_from_heatmap(crop, heatmap[0])
        points = project(remove_letterbox(crop, padding), roi)
        # the page reports visibility as each keypoint's score; presence (is it in the crop at
        # all) and depth (z, in image pixels like x, relative to the hips) are kept as extras
        z = raw[:NUM_KEYPOINTS, 2] / LANDMARK_SIZE / (1 - padding[1] - padding[3]) * roi.width * w
        extra = {"presence": _sigmoid(raw[:NUM_KEYPOINTS, 4]).tolist(), "z": z.tolist(),
                 "world": world_landmarks(world_3d, roi.rotation).tolist()}
        return presence, points, _sigmoid(raw[:NUM_KEYPOINTS, 3]), extra

"""The file formats pose tools read, written the same way by `posecast poses` and the API's
downloads. Each writer takes frames one at a time (a video's hours never sit in memory, but for
COCO's single JSON list) and opens its files through `opener(name) -> text file`:

- `openpose`: one JSON file per frame/image, `<stem>_keypoints.json` (an image) or
  `<stem>_<frame:012d>_keypoints.json` (a video frame), as OpenPose names them. Each person's
  `pose_keypoints_2d` is x, y, confidence for OpenPose's COCO-18 body in OPENPOSE_COCO18 order:
  Nose, Neck, RShoulder, RElbow, RWrist, LShoulder, LElbow, LWrist, RHip, RKnee, RAnkle, LHip,
  LKnee, LAnkle, REye, LEye, REar, LEar. The neck (no backbone has one) is the midpoint of the
  shoulders with the lower of their two confidences, or 0, 0, 0 when either is missing, as
  OpenPose writes an undetected part.
- `coco`: COCO keypoint results, one JSON list for the run (`results.coco.json`): per person
  {image_id, category_id: 1, keypoints: [x, y, v] x 17 in COCO order (v: the keypoint score),
  score}; image_id is the file name's number for COCO-named images (000000000785.jpg -> 785),
  else the frame index.
- `csv`: one row per person per frame (`poses.csv`): source, frame, time_s, person, score, label,
  confidence, then <keypoint>_x, _y, _score for each keypoint of the backbone's layout.
- `jsonl`: one line per frame (`poses.jsonl`): {source, frame, time_s, width, height, people}.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field

from core.tables import COCO17, keypoint_names

FORMATS = ("openpose", "coco", "csv", "jsonl")
OPENPOSE_COCO18 = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                   "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
                   "right_eye", "left_eye", "right_ear", "left_ear")


@dataclass
class Frame:
    index: int  # the frame's number in its video, or the image's in the run
    name: str  # the source (file name); a video's frames share it
    width: int
    height: int
    people: list[dict] = field(default_factory=list)  # as the API gives them
    time_s: float | None = None  # a video frame's time
    video: bool = False


def stem(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def openpose_person(person: dict) -> list[float]:
    by_name = {k["name"]: k for k in person["keypoints"]}
    flat = []
    for name in OPENPOSE_COCO18:
        if name == "neck":
            ls, rs = by_name.get("left_shoulder"), by_name.get("right_shoulder")
            if ls and rs and ls["score"] > 0 and rs["score"] > 0:
                flat += [round((ls["x"] + rs["x"]) / 2, 3), round((ls["y"] + rs["y"]) / 2, 3),
                         round(min(ls["score"], rs["score"]), 5)]
            else:
                flat += [0.0, 0.0, 0.0]
            continue
        k = by_name.get(name)
        flat += [round(k["x"], 3), round(k["y"], 3), round(k["score"], 5)] if k else [0.0, 0.0, 0.0]
    return flat


def openpose_frame(frame: Frame) -> dict:
    return {"version": 1.3, "people": [
        {"person_id": [-1], "pose_keypoints_2d": openpose_person(p), "face_keypoints_2d": [],
         "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": [], "pose_keypoints_3d": [],
         "face_keypoints_3d": [], "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": []}
        for p in frame.people]}


def openpose_name(frame: Frame) -> str:
    return f"{stem(frame.name)}_{frame.index:012d}_keypoints.json" if frame.video else f"{stem(frame.name)}_keypoints.json"


def coco_image_id(frame: Frame) -> int:
    s = stem(frame.name)
    return int(s) if s.isdigit() and not frame.video else frame.index


def coco_results(frame: Frame) -> list[dict]:
    out = []
    for p in frame.people:
        by_name = {k["name"]: k for k in p["keypoints"]}
        flat = []
        for name in COCO17:
            k = by_name[name]
            flat += [round(k["x"], 3), round(k["y"], 3), round(k["score"], 5)]
        out.append({"image_id": coco_image_id(frame), "category_id": 1, "keypoints": flat, "score": p["score"]})
    return out


class Writer:
    """Frames in, files out through `opener(name)`; close() finishes them. files: names written."""

    def __init__(self, fmt: str, opener, backbone: str):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self.fmt, self.opener, self.files = fmt, opener, []
        self._coco: list[dict] = []
        self._out = None
        if fmt == "csv":
            names = keypoint_names(backbone)
            self._out = self._open("poses.csv")
            self._csv = csv.writer(self._out)
            self._csv.writerow(["source", "frame", "time_s", "person", "score", "label", "confidence",
                                *[f"{n}_{c}" for n in names for c in ("x", "y", "score")]])
            self._names = names
        elif fmt == "jsonl":
            self._out = self._open("poses.jsonl")

    def _open(self, name: str):
        self.files.append(name)
        return self.opener(name)

    def add(self, frame: Frame) -> None:
        if self.fmt == "openpose":
            with self._open(openpose_name(frame)) as f:
                json.dump(openpose_frame(frame), f)
        elif self.fmt == "coco":
            self._coco += coco_results(frame)
        elif self.fmt == "jsonl":
            self._out.write(json.dumps({"source": frame.name, "frame": frame.index, "time_s": frame.time_s,
                                        "width": frame.width, "height": frame.height, "people": frame.people},
                                       separators=(",", ":")) + "\n")
        else:
            for p in frame.people:
                by_name = {k["name"]: k for k in p["keypoints"]}
                cells = []
                for n in self._names:
                    k = by_name.get(n)
                    cells += [k["x"], k["y"], k["score"]] if k else ["", "", ""]
                self._csv.writerow([_cell(frame.name), frame.index, "" if frame.time_s is None else round(frame.time_s, 4),
                                    p["id"], p["score"], _cell(p.get("label") or ""),
                                    "" if p.get("confidence") is None else round(p["confidence"], 5), *cells])

    def close(self) -> None:
        if self.fmt == "coco":
            with self._open("results.coco.json") as f:
                json.dump(self._coco, f)
        if self._out is not None:
            self._out.close()


def _cell(text: str) -> str:
    """A spreadsheet must not run a cell as a formula (as the label log's CSV export does)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Memory(io.StringIO):
    def __init__(self, files: dict, name: str):
        super().__init__()
        self._files, self._name = files, name

    def close(self):
        self._files[self._name] = self.getvalue()
        super().close()


MIMETYPES = {"coco": "application/json", "csv": "text/csv", "jsonl": "application/x-ndjson",
             "openpose": "application/json"}


def render(fmt: str, frames, backbone: str) -> tuple[bytes, str, str]:
    """Frames -> (bytes, mimetype, file name) in memory: the one file, or a zip of several
    (OpenPose's file per frame)."""
    files: dict[str, str] = {}
    writer = Writer(fmt, lambda name: _Memory(files, name), backbone)
    for frame in frames:
        writer.add(frame)
    writer.close()
    if len(writer.files) == 1:
        name = writer.files[0]
        return files[name].encode(), MIMETYPES[fmt], name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in writer.files:
            z.writestr(name, files[name])
    return buf.getvalue(), "application/zip", f"{fmt}.zip"

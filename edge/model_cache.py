"""The last classifier the node ran, kept in its state folder: a node restarted while the server is
unreachable (a power cut during a network outage) labels with it at once and queues the events in
its outbox, instead of waiting for the server to say which model is active.

    <state-dir>/model/cache.json   {"spec": the /live payload, "files": {url path: file name}}
    <state-dir>/model/0, 1, ...    the model.json and weight shards as the server sent them

Written to a fresh folder and renamed over the old one, so a crash mid-write leaves the previous
model (or none), never half of one.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

FOLDER = "model"


def save(state_dir: Path, spec: dict, files: dict[str, bytes]) -> None:
    state_dir = Path(state_dir)
    final, tmp, old = state_dir / FOLDER, state_dir / f".{FOLDER}.{os.getpid()}", state_dir / f".{FOLDER}.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    names = {}
    for i, (path, data) in enumerate(files.items()):
        (tmp / str(i)).write_bytes(data)
        names[path] = str(i)
    (tmp / "cache.json").write_text(json.dumps({"spec": spec, "files": names}))
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.replace(old)
    tmp.replace(final)
    shutil.rmtree(old, ignore_errors=True)


def clear(state_dir: Path) -> None:
    shutil.rmtree(Path(state_dir) / FOLDER, ignore_errors=True)


def load(state_dir: Path) -> tuple[dict, callable] | None:
    """(spec, fetch) of the cached model, fetch(url path) -> bytes as the server sent them; None
    when there is none or it cannot be read (then the node waits for the server as before)."""
    folder = Path(state_dir) / FOLDER
    try:
        index = json.loads((folder / "cache.json").read_text())
        spec, names = index["spec"], index["files"]
        if not isinstance(spec, dict) or not isinstance(names, dict):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None

    def fetch(path: str) -> bytes:
        if path not in names:
            raise KeyError(f"{path} is not in the cached model")
        return (folder / names[path]).read_bytes()

    return spec, fetch

"""Jobs that need TensorFlow run as `python -m server.<wing>.<job>` subprocesses (TensorFlow never loads
in the eventlet server). They report as JSON lines on stdout; relay() forwards each line over
Socket.IO and returns the job's final {"event": "done"|"error", ...}."""
from __future__ import annotations

import json
import subprocess
import sys

from .contract import TRAINER
from .sockets import socketio


def spawn(module: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def relay(proc: subprocess.Popen, event_name: str, ids: dict) -> dict:
    """Forward progress until the job reports its outcome (acted on at once: TensorFlow takes
    seconds to exit). A job that dies without one is reported with its last stderr line."""
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        socketio.emit(event_name, {**ids, **event}, namespace=TRAINER)
        if event.get("event") in ("done", "error"):
            return event
    proc.wait()
    lines = proc.stderr.read().strip().splitlines()
    final = {"event": "error", "message": lines[-1] if lines else f"the job exited with {proc.returncode}"}
    socketio.emit(event_name, {**ids, **final}, namespace=TRAINER)
    return final

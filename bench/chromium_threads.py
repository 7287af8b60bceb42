"""CPU time of the Chromium this process started, per group of threads, from Linux's schedstat
(bench/live_page.py): what the page's side costs beside the pose worker, e.g. the GPU process
compositing a shown <video> at the camera's rate. Linux only; elsewhere the groups come back empty."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

PROC = Path("/proc")

# (process type, thread name) -> group, first match wins; "" matches any.
GROUPS = (
    ("renderer", "DedicatedWorker", "pose worker"),
    ("renderer", "chromium", "page's thread"),
    ("renderer", "", "page's other threads"),  # raster pool, compositor, video frames, IO
    ("gpu-process", "", "GPU process"),  # the display compositor (VizCompositorThread) mostly
    ("", "", "capture, browser, network"),
)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        tree[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    return tree


def _group(kind: str, thread: str) -> str:
    return next(name for k, t, name in GROUPS if k in ("", kind) and (not t or thread.startswith(t)))


def sample() -> dict[tuple[int, int], tuple[str, int]]:
    """{(pid, tid): (group, nanoseconds run so far)} for every Chromium thread under this process."""
    if not PROC.is_dir():
        return {}
    tree, out, todo = _children(), {}, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        try:
            # Chromium rewrites its child processes' titles: one string, arguments split by spaces
            argv = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
        except OSError:
            continue
        if not argv or "chrom" not in os.path.basename(argv[0]):
            continue
        kind = next((a.split("=", 1)[1] for a in argv if a.startswith("--type=")), "browser")
        for task in (PROC / str(pid) / "task").glob("*"):
            try:
                name = (task / "comm").read_text().strip()
                run_ns = int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            out[(pid, int(task.name))] = (_group(kind, name), run_ns)
    return out


def busy(before: dict, after: dict, seconds: float) -> dict[str, float]:
    """Per group, the percentage of one core its threads ran between two samples."""
    shares: dict[str, float] = {name: 0.0 for *_, name in GROUPS}
    for key, (group, run_ns) in after.items():
        shares[group] += (run_ns - before.get(key, (group, 0))[1]) / 1e9 / seconds * 100
    return shares

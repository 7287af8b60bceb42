"""Many still images through one backbone in worker processes, one per core, each with its own
estimator on one inference thread: what extraction for training runs (training/features.py).

Why processes of one thread each: a pass is mostly the model, but its warp, decoding and
post-processing are numpy in one thread, so one process with two inference threads leaves a core
idle for part of every image; and an inference split over two threads waits at every layer for
the slower one, which a CPU shared with other work makes much slower (BlazePose heavy on OpenVINO:
185 ms per frame with two threads under load, 47 ms of CPU on one; README, *Training*).

    with EstimatorPool("blazepose-heavy", "openvino") as pool:
        for poses in pool.map(still_poses, images):   # in the images' order
            ...

`fn(estimator, item)` runs in a worker; it must be a module-level function (or a
functools.partial of one), and items and results must pickle (numpy arrays, Pose, dicts)."""
from __future__ import annotations

import collections
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator

from .estimator import Estimator

# The worker's estimator, or why it could not be loaded (raised by every job, so the caller gets
# the error itself rather than a broken pool): set once by _start in each worker, never in the parent.
_worker_estimator: Estimator | None = None
_worker_error: Exception | None = None

# Thread counts every library of a worker reads at start (TensorFlow, oneDNN's OpenMP, BLAS).
_ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def still_poses(estimator: Estimator, image):
    """estimate() on one still image (the default job of map())."""
    return estimator.estimate(image)


def _start(backbone: str, executor: str, options: dict) -> None:
    global _worker_estimator, _worker_error
    os.environ.update(_ONE_THREAD)
    import runtime

    if executor == "openvino":
        options = {"threads": 1, **options}
    try:
        _worker_estimator = runtime.load(backbone, executor, **options)
    except Exception as exc:  # noqa: BLE001 - any loading error goes back to the caller as it is
        _worker_error = exc


def _run(fn: Callable, batch: list) -> list:
    if _worker_error is not None:
        raise _worker_error
    return [fn(_worker_estimator, item) for item in batch]


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class PoolBroken(RuntimeError):
    """A worker process died (killed, out of memory, a crash in a native library)."""


class EstimatorPool:
    """`workers` processes (default: one per core) each holding runtime.load(backbone, executor,
    **options), OpenVINO on one thread. map() keeps a bounded number of items in flight, so a long
    generator of images is never decoded all at once."""

    def __init__(self, backbone: str, executor: str, workers: int | None = None, **options):
        self.backbone, self.executor = backbone, executor
        self.workers = workers or default_workers()
        # spawn: TensorFlow and OpenVINO hold threads and locks a fork would copy half-held
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start, initargs=(backbone, executor, options))

    def map(self, fn: Callable, items: Iterable, chunk: int = 4, window: int | None = None) -> Iterator:
        """fn(estimator, item) for every item, in order, on the workers: `chunk` items per task
        (each task is several hops between processes and threads, every one a wait for the
        scheduler on a busy CPU), at most `window` tasks in flight (default two per worker)."""
        window = window or 2 * self.workers
        pending = collections.deque()
        try:
            for batch in _batches(items, chunk):
                pending.append(self._pool.submit(_run, fn, batch))
                if len(pending) >= window:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        except BrokenProcessPool as exc:
            raise PoolBroken(f"a {self.backbone} worker process died: {exc}") from None
        finally:
            for future in pending:
                future.cancel()

    def pids(self) -> list[int]:
        """The worker processes started so far (they start at the first map()), for the bench's CPU
        accounting: ProcessPoolExecutor keeps them in `_processes` and has no public accessor."""
        return list(self._pool._processes or {})

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "EstimatorPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""The inference worker pool: N `python -m poseio.worker` processes (TensorFlow and OpenVINO never
load in the server), fed from one bounded queue. A full queue is refused at once (the caller
answers 503 with Retry-After): the backlog, and so any request's wait, is bounded by the queue.

Each worker has a dispatcher thread (a green thread under eventlet) that sends it one request at a
time over its stdin and reads the answer from its stdout; under eventlet the pipes are green
(eventlet.green.subprocess), so waiting for a worker never blocks the hub. A worker that dies is
started again for the next request; the request it was running fails with a 503."""
from __future__ import annotations

import logging
import math
import queue
import sys
import threading
import time

from poseio import framing

log = logging.getLogger("posecast.infer")


class QueueFull(Exception):
    pass


class Task:
    def __init__(self, header: dict, body: bytes):
        self.header, self.body = header, body
        self.answer: dict | None = None
        self.cancelled = False
        self.queued_at = time.monotonic()
        self.started_at: float | None = None
        self._done = threading.Event()

    def finish(self, answer: dict) -> None:
        self.answer = answer
        self._done.set()

    def wait(self, timeout: float) -> dict:
        if not self._done.wait(timeout):
            self.cancelled = True  # a dispatcher that reaches it skips it
            return {"ok": False, "status": 503, "error": "no inference worker answered in time (POSECAST_INFER_TIMEOUT_S)"}
        return self.answer


class Pool:
    def __init__(self, size: int, queue_size: int, executor: str, green: bool, warm: str | None = None):
        self.size, self.executor, self.green, self.warm = size, executor, green, warm
        self.queue: queue.Queue[Task] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._started = False
        self.busy = 0
        self.restarts = 0
        self.pids: dict[int, int] = {}  # slot -> the worker's process id
        self.service_s = 0.5  # moving average of one request's time in a worker: for Retry-After

    def submit(self, header: dict, body: bytes) -> Task:
        self.start()
        task = Task(header, body)
        try:
            self.queue.put_nowait(task)
        except queue.Full:
            raise QueueFull() from None
        return task

    def start(self) -> None:
        """Start the dispatchers (and so the workers) once, at the first request or at serve."""
        with self._lock:
            if self._started:
                return
            self._started = True
        for slot in range(self.size):
            threading.Thread(target=self._dispatch, args=(slot,), name=f"infer-{slot}", daemon=True).start()

    def _spawn(self):
        if self.green:
            from eventlet.green import subprocess
        else:
            import subprocess
        return subprocess.Popen([sys.executable, "-m", "poseio.worker", "--executor", self.executor],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def _warmed(self, slot: int):
        """A new worker, with the default backbone loaded before it takes a request."""
        proc = self._spawn()
        self.pids[slot] = proc.pid
        if self.warm:
            try:
                framing.write(proc.stdin, {"op": "load", "backbone": self.warm})
                framing.read(proc.stdout)
            except (framing.Closed, OSError, ValueError) as exc:
                log.warning("inference worker %d failed to start: %s", slot, exc)
        return proc

    def _dispatch(self, slot: int) -> None:
        proc = self._warmed(slot)
        while True:
            task = self.queue.get()
            if task.cancelled:
                continue
            if proc is None or proc.poll() is not None:
                if proc is not None:
                    self.restarts += 1
                    log.warning("inference worker %d exited with %s; starting another", slot, proc.returncode)
                proc = self._warmed(slot)
            task.started_at = time.monotonic()
            self.busy += 1
            message = framing.encode(task.header, task.body)
            try:
                try:
                    self._send(proc, message)
                except (framing.Closed, OSError):
                    # It died idle: the request never reached it, so it is safe to give it to a new one.
                    self._reap(proc)
                    self.restarts += 1
                    log.warning("inference worker %d had exited; starting another", slot)
                    proc = self._warmed(slot)
                    self._send(proc, message)
                answer, _ = framing.read(proc.stdout)
            except (framing.Closed, OSError, ValueError) as exc:
                # It died on this request (perhaps because of it): no second try, the caller is told.
                log.warning("inference worker %d failed: %s", slot, exc)
                self._reap(proc)
                answer = {"ok": False, "status": 503, "error": "the inference worker stopped; try again"}
            finally:
                self.busy -= 1
            self.service_s = 0.9 * self.service_s + 0.1 * (time.monotonic() - task.started_at)
            task.finish(answer)

    def retry_after(self) -> int:
        """Seconds until the queue has drained by one worker's share: when to try again."""
        return max(1, math.ceil(self.queue.qsize() * self.service_s / self.size))

    @staticmethod
    def _reap(proc) -> None:
        proc.kill()
        proc.wait()

    def _send(self, proc, data: bytes) -> None:
        """Write a request to a worker. Under eventlet a write that fills the pipe waits for it
        to drain, and the hub never wakes that wait when the worker dies meanwhile (measured:
        a 200 kB image to a killed worker hung its dispatcher for good), so the wait is woken
        every second to look whether the worker still lives."""
        if not self.green:
            proc.stdin.write(data)  # blocking: the kernel fails it (EPIPE) when the reader dies
            return
        from eventlet import patcher
        from eventlet.hubs import trampoline

        raw_write = patcher.original("os").write
        fd, view, offset = proc.stdin.fileno(), memoryview(data), 0
        while offset < len(view):
            try:
                offset += raw_write(fd, view[offset:])
            except BlockingIOError:
                if proc.poll() is not None:
                    raise framing.Closed("the worker exited") from None
                try:
                    trampoline(fd, write=True, timeout=1.0, timeout_exc=TimeoutError)
                except TimeoutError:
                    pass

    def stats(self) -> dict:
        return {"workers": self.size, "queued": self.queue.qsize(), "queue_size": self.queue.maxsize,
                "busy": self.busy, "restarts": self.restarts, "started": self._started, "pids": sorted(self.pids.values())}

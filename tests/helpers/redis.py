"""A throwaway redis-server for tests: its own temporary folder, a free loopback port, no
persistence (server/cluster/services.py runs it; Debian's redis-server package provides the
binary). `restart()` stops it and starts it again on the same port, for the cluster's fault tests."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from server.cluster import services

binary = services.redis_binary


class Redis(services.Redis):
    def __init__(self, port: int | None = None):
        super().__init__(Path(tempfile.mkdtemp(prefix="posecast-redis-")), port)
        self.root = str(self.folder)

    def restart(self, down_seconds: float = 0.0) -> "Redis":
        self.kill()
        time.sleep(down_seconds)
        return self.start()

    def stop(self) -> None:
        try:
            self.kill()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

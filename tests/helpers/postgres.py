"""A throwaway PostgreSQL server for tests: initdb into a temporary folder, listen on a free
loopback port, trust auth, fsync off (server/cluster/services.py runs it; Debian's postgresql
package provides the binaries). `pause()`/`resume()` stop it and start it again on the same data
and port, for the cluster's fault tests."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from server.cluster import services

binaries = services.postgres_binaries


class Postgres(services.Postgres):
    def __init__(self):
        super().__init__(Path(tempfile.mkdtemp(prefix="posecast-pg-")), fsync=False)
        self.root = str(self.folder)

    def pause(self) -> None:
        """Stop the server (its clients' connections break); resume() brings it back."""
        super().stop("fast")

    def resume(self) -> "Postgres":
        return self.start()

    def stop(self) -> None:
        try:
            super().stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

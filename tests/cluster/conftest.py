"""One cluster for the folder: `posecast cluster` with 2 workers behind nginx, on a Redis and a
PostgreSQL of the tests' own (so the fault tests can restart and pause them)."""
import pytest

from server.cluster.services import nginx_binary
from tests.helpers.cluster import ClusterServer
from tests.helpers.postgres import Postgres, binaries
from tests.helpers.redis import Redis, binary


@pytest.fixture(scope="package")
def cluster(tmp_path_factory):
    missing = [name for name, found in (("redis-server", binary()), ("nginx", nginx_binary()),
                                        ("postgresql", binaries())) if not found]
    if missing:
        pytest.skip(f"cluster tests need {', '.join(missing)} (tools/system-deps.sh installs them)")
    redis = Redis().start()
    pg = Postgres().start()
    server = None
    try:
        server = ClusterServer(tmp_path_factory.mktemp("cluster"), redis.url, pg.fresh_database("cluster"),
                               workers=2).start()
        server.redis, server.postgres = redis, pg
        yield server
    finally:
        if server:
            server.stop()
        redis.stop()
        pg.stop()

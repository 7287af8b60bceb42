"""Server processes started at once on a new database (systemd units, container replicas) take
turns to make its tables, first admin and model registry (server/db.py `startup_lock`): every
process starts, and the database holds one admin and each bundled model once."""
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, func, select

from server.auth import users
from server.models.registry import activations, models
from tests.helpers.auth import ADMIN_ENV
from tests.helpers.paths import ROOT

PROCESSES = 6
# Each process imports the server first, then makes its app at the same agreed moment.
SCRIPT = ("import sys, time\nfrom server import create_app\nwait = float(sys.argv[1]) - time.time()\n"
          "print(wait)\ntime.sleep(max(0.0, wait))\ncreate_app()\n")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_processes_started_at_once_on_a_new_database_all_start(kind, tmp_path, request):
    env = {**os.environ, **ADMIN_ENV, "POSECAST_INSTANCE_PATH": str(tmp_path / "instance"),
           "POSECAST_MODELS_DIR": str(ROOT / "tfjs_models"), "PYTHONPATH": str(ROOT)}
    if kind == "postgresql":
        env["DATABASE_URL"] = request.getfixturevalue("postgres").fresh_database("startup_race")
        url = env["DATABASE_URL"]
    else:
        (tmp_path / "instance").mkdir()
        url = f"sqlite:///{tmp_path / 'instance' / 'posecast.db'}"
    go = time.time() + 6.0
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(go)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(PROCESSES)]
    outs = [(p.communicate(timeout=180), p.returncode) for p in procs]
    failed = [err[-800:] for (_, err), code in outs if code != 0]
    assert not failed, failed[0]
    # Every process was ready before the agreed moment, so they did start at once.
    assert all(float(out.split()[0]) > 0 for (out, _), _ in outs), [o for (o, _), _ in outs]
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(users.c.username)).scalars().all() == [ADMIN_ENV["POSECAST_ADMIN_USER"]]
        names = conn.execute(select(models.c.name, models.c.version)).all()
        assert names and len(names) == len(set(names))
        assert conn.execute(select(func.count()).select_from(activations)).scalar_one() == 1
    engine.dispose()

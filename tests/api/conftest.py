"""A live server with its inference pool (one OpenVINO worker; a queue of two, so a request with
three images finds it full deterministically: under eventlet no worker takes a task between the
request's own puts), an API token made with `posecast tokens create`, and the real photos."""
import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT, shared
from tests.helpers.server import LiveServer

# The OpenVINO IR cache is the runtime's (assets/pose/.openvino, or POSECAST_OPENVINO_CACHE as
# set by whoever runs the tests): servers and commands inherit the environment.
API_ENV = {"POSECAST_INFER_WORKERS": "1", "POSECAST_INFER_QUEUE": "2",
           "POSECAST_API_RATE_PER_S": "1000", "POSECAST_API_RATE_BURST": "1000"}


def needs(*parts: str):
    path = shared(*parts)
    if not path.exists():
        pytest.skip(f"{path} is missing: the API tests use the real photos of ../shared/data")
    if not (ROOT / "assets" / "pose" / "posenet.json").exists():
        pytest.skip("assets/ is not built: run `make setup` (tools/assets.py) for the pose weights")
    return path


def tokens_cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server", "tokens", *args], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    needs("images", "pose.jpg")
    server = LiveServer(tmp_path_factory.mktemp("api"), env=API_ENV).start(timeout=90)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(api_server):
    done = tokens_cli(api_server, "create", "tests", "--role", "viewer")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def bearer(token):
    return {"Authorization": f"Bearer {token}"}

"""An edge node (`posecast edge` with a device token, on a real video) shows on the operator's
dashboard in Chromium as an edge client, with its label, fps and live skeleton."""
import subprocess
import sys

import pytest

from tests.edge.node import EdgeNode
from tests.helpers import browser as hb
from tests.helpers.paths import ROOT, shared
from tests.helpers.server import LiveServer


@pytest.fixture(scope="module")
def server(browser_ready, tmp_path_factory):
    srv = LiveServer(tmp_path_factory.mktemp("edge-dash")).start()
    yield srv
    srv.stop()


def test_edge_node_on_the_dashboard(server, playwright_session, shared_data, tmp_path):
    pytest.importorskip("cv2", reason="the edge extra installs opencv-python-headless (make setup)")
    pytest.importorskip("openvino", reason="the edge extra installs openvino (make setup)")
    r = subprocess.run([sys.executable, "-m", "server", "devices", "add", "dash-cam"], cwd=ROOT, env=server.env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    node = EdgeNode(server, shared("videos", "tfjs-pose_1.mp4"), tmp_path / "state", "--loop",
                    "--max-frames", "100000", name="dash-cam", token=r.stdout.strip()).start()
    try:
        operator = server.add_user("edge-watcher", "operator")
        with hb.chromium(playwright_session) as browser:
            dash = hb.open_page(browser, f"{server.url}/dashboard.html", login=operator)
            dash.page.wait_for_function(
                "() => posecastDashboard.clients.some((c) => c.kind === 'edge' && c.name === 'dash-cam'"
                " && c.connected && c.label && c.fps > 0)", timeout=90_000)
            row = dash.page.locator("#client-grid tr[data-kind='edge']")
            assert row.locator("td").nth(0).inner_text() == "dash-cam"
            assert row.locator("td").nth(8).inner_text() == "edge node"
            row.click()
            dash.page.wait_for_function("() => posecastDashboard.skeletons >= 2", timeout=15_000)
            assert dash.outside_loopback() == []
    finally:
        node.kill()

"""The cluster in headless Chromium: live pages on the fake webcam, each on a different worker, and
an operator's dashboard through nginx (on whichever worker ip_hash picks): it sees both pages,
connected and labelling, whichever process holds them."""
from tests.helpers import browser as hb


def test_a_dashboard_sees_live_pages_on_every_worker(cluster, browser_ready, playwright_session, y4m):
    operator = cluster.add_user("cluster-watcher", "operator")
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_squats.mp4")) as browser:
        lives = [hb.open_page(browser, f"{url}/") for url in cluster.worker_urls]
        for live in lives:
            live.wait_for("posecast.stream && posecast.stream.acked >= 3", timeout_s=120)
        ids = [live.state("posecast.stream.clientId") for live in lives]
        assert len(set(ids)) == 2
        dash = hb.open_page(browser, f"{cluster.url}/dashboard.html", login=operator)
        dash.page.wait_for_function("() => window.posecastDashboard && posecastDashboard.status === 'ready'")
        dash.page.wait_for_function(
            f"() => {ids!r}.every((id) => posecastDashboard.clients.some((c) => c.client_id === id && c.connected"
            " && c.label))", timeout=20_000)
        for live in lives:
            assert live.errors == [] and live.outside_loopback() == []
        assert dash.outside_loopback() == []

"""The live page on a phone-sized viewport (portrait 390x844): the video with its skeleton and the
label fit the first screen, nothing is wider than the screen, and the controls still work."""
from tests.helpers import browser as hb

BOXES = """() => Object.fromEntries(['#stage', '#overlay', '#classes', '#controls', 'select[name=backbone]', '#webcam']
  .map((s) => { const r = document.querySelector(s).getBoundingClientRect();
                return [s, {left: r.left, right: r.right, top: r.top + scrollY, bottom: r.bottom + scrollY,
                            width: r.width, height: r.height}]; }))"""


def test_live_page_is_usable_on_a_phone(playwright_session, live_server, y4m, shared_data):
    with hb.chromium(playwright_session, camera=y4m("videos/tfjs-pose_1.mp4")) as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      permissions=["camera"])
        page = hb.RecordedPage(context.new_page())
        page.page.goto(f"{live_server.url}/?backbone=movenet-lightning")
        page.wait_for("posecast.status === 'ready' && posecast.estimates >= 10 && posecast.classification", 90)
        width = page.page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px screen"
        box = page.page.evaluate(BOXES)
        for name in ("#stage", "#overlay", "#classes", "#controls", "select[name=backbone]", "#webcam"):
            assert 0 <= box[name]["left"] and box[name]["right"] <= 390, (name, box[name])
        assert box["#stage"]["width"] >= 0.9 * 390, box["#stage"]  # the video uses the screen's width
        assert box["#stage"]["bottom"] <= 844 and box["#classes"]["top"] < 844, box  # video and label first
        # The controls are below; they scroll into view and work.
        page.page.select_option("select[name=backbone]", "posenet")
        page.wait_for("posecast.backbone === 'posenet' && posecast.status === 'ready'", 90)
        assert page.errors == [] and page.outside_loopback() == []
        context.close()

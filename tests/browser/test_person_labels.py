"""Multi-person mode: each person's label and confidence is drawn beside their skeleton."""
import pytest

from tests.helpers import browser as hb
from tests.helpers.paths import shared

LABELLED = "posecast.overlay.filter((t) => / \\d+ %$/.test(t.text))"
# The dark band behind each label: its pixels are drawn (alpha > 0) just left of the text.
BAND_INK = """(labels) => {
  const c = document.querySelector('#overlay');
  const ctx = c.getContext('2d');
  return labels.map((t) => ctx.getImageData(Math.max(0, Math.round(t.x - 1)), Math.round(t.y - 2), 1, 1).data[3]);
}"""


@pytest.mark.parametrize("query", ["backbone=movenet-multipose", "backbone=posenet&multi=1"])
def test_each_person_gets_a_label_beside_the_skeleton(playwright_session, live_server, shared_data, query):
    with hb.chromium(playwright_session) as browser:
        page = hb.open_page(browser, f"{live_server.url}/?source=none&{query}")
        page.wait_for("posecast.status === 'ready' && posecast.model !== null", 90)
        page.page.set_input_files("#file", str(shared("images", "three_people.jpg")))
        page.wait_for(f"posecast.classification && {LABELLED}.length >= 2", 60)
        people = page.state("posecast.classification.people")
        drawn = page.state(LABELLED)
        poses = page.state("posecast.poses")
        assert len(drawn) == len(people) >= 2, (drawn, people)
        for person in people:  # every classified person's label is drawn at their skeleton
            text = next(t for t in drawn if t["trackId"] == person["trackId"])
            assert text["text"] == f"#{person['trackId']} {person['label']} {round(100 * person['confidence'])} %"
            pose = next(p for p in poses if p["id"] == person["trackId"])
            xs = [k["x"] for k in pose["keypoints"] if k["score"] >= 0.3]
            assert min(xs) - 1 <= text["x"] <= max(xs)
        assert all(alpha > 0 for alpha in page.page.evaluate(BAND_INK, drawn))
        assert page.outside_loopback() == []

"""The scoring used by the accuracy tests must itself be right: check it on known cases."""
from tests.helpers.metrics import COCO_NAMES, golden_agreement, pck


def person(offset=0.0, score=0.9):
    return {"score": score, "keypoints": [
        {"name": n, "x": 100 + 10 * i + offset, "y": 200 + 15 * i, "score": score} for i, n in enumerate(COCO_NAMES)]}


def annotation(p):
    flat = []
    for kp in p["keypoints"]:
        flat += [kp["x"], kp["y"], 2]
    return {"keypoints": flat}


def test_pck_perfect_shifted_and_missed():
    truth = person()
    assert pck([truth], [annotation(truth)]).value == 1.0
    assert pck([person(offset=500)], [annotation(truth)]).value == 0.0
    two = pck([truth], [annotation(truth), annotation(person(offset=1000))])
    assert two.value == 0.5 and two.matched == 1 and two.people == 2
    assert two.matched_value == 1.0


def test_golden_agreement_uses_media_time_and_score():
    golden = [{kp["name"]: {"x": kp["x"], "y": kp["y"]} for kp in person(offset=f)["keypoints"]} for f in (0, 100)]
    history = [{"mediaTime": 1 / 30, "poses": [person(offset=100)]}, {"mediaTime": 0.0, "poses": [person(score=0.1)]}]
    result = golden_agreement(history, golden, fps=30, tolerance=5)
    assert (result.within, result.total) == (17, 17)

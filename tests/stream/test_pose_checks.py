"""validate_batch's one-pass check of a usual event must agree with validate_event's field by
field checks on every event: the same cleaned event, or the same error for the same batch."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.checks import Invalid
from server.stream import pose_checks
from tests.fuzz.strategies import FUZZ, NASTY_NUMBERS, NASTY_TEXT, json_value, number, text

NOW = 1_764_000_000_000
GOOD = {"seq": 7, "ts": NOW - 5, "label": "tree", "confidence": 0.93, "model": "yoga5", "model_version": 3,
        "backbone": "movenet-thunder", "person": 1, "fps": 29.5}
# Values at and past every bound of every field, and every kind of odd value.
EDGES = [*NASTY_NUMBERS, *NASTY_TEXT, None, [], {}, [1], -0.0, 1.0, 0.999, 1.0000001, 1000, 1000.0, 1000.5,
         NOW + 24 * 3600 * 1000, NOW + 24 * 3600 * 1000 + 1, pose_checks.EARLIEST_TS, pose_checks.EARLIEST_TS - 1,
         float(NOW), pose_checks.MAX_SEQ, pose_checks.MAX_SEQ + 1, 2 ** 31 - 1, 10 ** 9, 10 ** 9 + 1, "x" * 64]
FIELD_VALUES = st.one_of(st.sampled_from(EDGES), number, text, json_value)
# An event: the usual one with some fields given other values, some left out, perhaps one unknown.
event = st.builds(
    lambda changes, dropped, extra: {**{k: v for k, v in GOOD.items() if k not in dropped}, **changes, **extra},
    st.dictionaries(st.sampled_from(sorted(GOOD)), FIELD_VALUES, max_size=3),
    st.sets(st.sampled_from(sorted(GOOD)), max_size=2),
    st.dictionaries(st.sampled_from(["x", "Label", "seq "]), FIELD_VALUES, max_size=1))


def reference(payload) -> list[dict] | str:
    """The batch checked one field at a time (validate_event on every event), or its error."""
    try:
        events = payload["events"]
        clean = [pose_checks.validate_event(e, NOW, i) for i, e in enumerate(events)]
        if len({e["seq"] for e in clean}) != len(clean):
            raise Invalid("a batch may not repeat a seq")
        return clean
    except Invalid as exc:
        return str(exc)


def checked(payload) -> list[dict] | str:
    try:
        return pose_checks.validate_batch(payload, 500, now=NOW)
    except Invalid as exc:
        return str(exc)


@FUZZ
@given(st.lists(st.one_of(event, st.just(GOOD), json_value), min_size=1, max_size=4))
def test_batches_are_checked_as_field_by_field(events):
    payload = {"events": [dict(e, seq=i) if isinstance(e, dict) and e.get("seq") == 7 else e
                          for i, e in enumerate(events)]}
    got, want = checked(payload), reference(payload)
    assert got == want
    assert repr(got) == repr(want)  # the same types too: 1 and 1.0 compare equal


def test_every_field_at_every_edge_is_checked_as_field_by_field():
    for field in GOOD:
        for value in [*EDGES, ...]:  # ...: the field left out
            e = {k: v for k, v in GOOD.items() if k != field} if value is ... else {**GOOD, field: value}
            got, want = checked({"events": [e]}), reference({"events": [e]})
            assert got == want and repr(got) == repr(want), (field, value)


def test_the_usual_event_takes_the_one_pass_check_and_odd_ones_do_not():
    assert pose_checks._valid_event(GOOD, NOW) == pose_checks.validate_event(GOOD, NOW, 0)
    assert pose_checks._valid_event({**GOOD, "confidence": 1}, NOW)["confidence"] == 1.0
    for odd in ({**GOOD, "confidence": True}, {**GOOD, "seq": True}, {**GOOD, "fps": float("nan")},
                {**GOOD, "label": "a\nb"}, {**GOOD, "x": 1}, {k: v for k, v in GOOD.items() if k != "ts"},
                {**GOOD, "ts": NOW + 24 * 3600 * 1000 + 1}, {**GOOD, "model": NASTY_TEXT[0]}):
        assert pose_checks._valid_event(odd, NOW + 24 * 3600 * 1000) is None, odd
    assert all(pose_checks._valid_event({**GOOD, "person": n}, NOW) is None
               for n in NASTY_NUMBERS if not (type(n) is int and 0 <= n < 2 ** 31))

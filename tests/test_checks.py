"""The one text rule (core/checks.py) every label, name and class is held to, at every door."""
import pytest

from core.checks import Invalid, check_label, check_labels, check_text

GOOD = ["tree", "a b", "x" * 64, "héllo", "🧘‍♀️ pose", "日本語"]
BAD = ["", "x" * 65, "\ud800", "a\udfffb", "a\nb", "tab\there", "\x00", "\x7f", "\x85", "line\u2028sep", 5, None, b"tree"]


@pytest.mark.parametrize("text", GOOD)
def test_printable_unicode_passes(text):
    assert check_text(text, "label") == text


@pytest.mark.parametrize("text", BAD, ids=repr)
def test_surrogates_controls_and_lengths_are_refused(text):
    with pytest.raises(Invalid, match="label must be 1-64 printable characters"):
        check_text(text, "label")


def test_labels_are_stripped_and_must_not_be_blank():
    assert check_label("  tree ") == "tree"
    with pytest.raises(Invalid):
        check_label("   ")


@pytest.mark.parametrize("labels, message", [
    (["a", "a"], "repeat"), (["a", "\ud800"], r"labels\[1\]"), (["a", "a\nb"], r"labels\[1\]"),
    ([" a", "b"], "blanks"), (["a"], "2-"), ("ab", "list"),
])
def test_label_lists_are_distinct_and_valid(labels, message):
    with pytest.raises(Invalid, match=message):
        check_labels(labels, least=2)

"""A dashboard breakdown names what it counts by in the reader's words, never by option keys."""

from __future__ import annotations

from api.web.dashboard import bars, breakdown_words
from definitions.loader import load_file
from tests.paths import LIBRARY


def test_a_breakdown_by_change_type_shows_the_options_labels() -> None:
    change = load_file(LIBRARY / "change.yaml").definition
    words = breakdown_words(change, "zh")
    labels = [b.label for b in bars({"normal": 3, "emergency": 1}, "zh", words=words)]
    assert "normal" not in labels and "emergency" not in labels and all(labels)
    assert bars({"open": 2}, "zh")[0].label != "open"  # a state category in words

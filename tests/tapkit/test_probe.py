"""The probe's output: one row per assumption, verdicts from a fixed vocabulary, nothing secret."""

from __future__ import annotations

import pytest

from tapkit import probe, secrets


def test_render_one_row_per_assumption_and_a_count():
    results = [
        probe.result("pages hold at most 100 rows", "GET /scan?limit=200", {"rows": 100}, True),
        probe.result("ids are text", "GET /report", [1, 2], False),
        probe.could_not_tell("cursor repeats", "GET /scan", "HTTP 503"),
    ]
    lines = probe.render(results).splitlines()
    assert lines[0].split() == ["verdict", "assumption", "asked", "answered"]
    assert lines[2].startswith("holds ")
    assert lines[3].startswith("does not hold ")
    assert lines[4].startswith("could not tell ")
    assert lines[-1] == "1 of 3 assumptions hold"


def test_answers_are_shortened_to_one_scrubbed_line():
    secrets.install(["sentinel-probe-secret-42"])
    answer = {"key": "sentinel-probe-secret-42", "text": "a\nb " + "x" * 300}
    shown = probe.shorten(answer)
    assert "sentinel-probe-secret-42" not in shown
    assert "\n" not in shown
    assert len(shown) == probe.ANSWER_WIDTH
    assert shown.endswith("…")


def test_unknown_verdict_is_refused():
    with pytest.raises(ValueError, match="verdict must be one of"):
        probe.ProbeResult("a", "b", "c", "maybe")

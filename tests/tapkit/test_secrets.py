from __future__ import annotations

from tapkit.secrets import MASK, Scrubber


def test_secret_and_its_url_encodings_are_masked():
    scrubber = Scrubber(["p@ss word/+="])
    text = "key=p%40ss+word%2F%2B%3D and p@ss word/+= and p%40ss%20word%2F%2B%3D"
    assert scrubber.scrub(text) == f"key={MASK} and {MASK} and {MASK}"


def test_short_or_missing_values_are_not_treated_as_secrets():
    scrubber = Scrubber(["", "ab", None])
    assert not scrubber
    assert scrubber.scrub("ab cd") == "ab cd"


def test_longest_secret_is_masked_whole():
    scrubber = Scrubber(["abcd", "abcdefgh"])
    assert scrubber.scrub("x abcdefgh y") == f"x {MASK} y"

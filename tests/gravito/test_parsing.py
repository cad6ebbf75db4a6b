"""Parsing one response element: the vendor's doc sample, lenient gravitoData, bad messages."""

from __future__ import annotations

import json

import pytest

from tap_gravito import lenient_json
from tap_gravito.microprofile import parse_element, unparsed_id

# The vendor's documented response (vendor-docs/gravito-customer-data-api.txt), third element.
DOC_GRAVITO_DATA = (
    '{"TCString":"CPVMwM.YAAAAAAAAMAA","NonTCFVendors":[{"id":1,"name":"Facebook","consent":true},'
    '{"id":16,"name":"Microsoft","consent":true},]}'
)


def test_trailing_commas_are_dropped_outside_strings_only():
    assert lenient_json.loads('{"a":[1,2,],"b":{"c":"x,]",},}') == {"a": [1, 2], "b": {"c": "x,]"}}
    assert lenient_json.loads('["a\\",]", 1 , ]') == ['a",]', 1]
    assert lenient_json.strip_trailing_commas("[1,\r\n\t ]") == "[1\r\n\t ]"
    assert (
        lenient_json.strip_trailing_commas(r'{"a\\":",}",}') == r'{"a\\":",}"}'
    )  # an escaped backslash ends no string
    with pytest.raises(ValueError):
        lenient_json.loads('{"a":,}')
    with pytest.raises(ValueError):
        lenient_json.loads('["open string,]')


@pytest.mark.parametrize(
    "text",
    [
        '{"TCString":"CPé,]","NonTCFVendors":[{"id":1,"name":"Æ, ]"},{"id":2},]}',  # non-ASCII before the comma
        '{"a":[[1,],[2 , ],],"b":{"c":{},},}',  # several, nested
        "[1,\r\n\t ]",
        "[,]",  # no element before the comma: not what msgspec calls a trailing comma
        "[1e400,]",  # out of float range
    ],
)
def test_dropping_the_trailing_commas_msgspec_reports_reads_as_stripping_them_all(text):
    assert lenient_json.loads(text) == json.loads(lenient_json.strip_trailing_commas(text))


def test_the_vendor_sample_with_a_trailing_comma_parses():
    message = {
        "i": "e20e3759",
        "r": "gravito.net",
        "v": "v3",
        "e": {"gravitoData": DOC_GRAVITO_DATA, "matchOnId": "11fb"},
        "k": [],
        "c": [],
    }
    profile = parse_element({"referer": "gravito.net", "message": json.dumps(message)})
    assert profile.parse_error is None
    assert profile.profile_id == "e20e3759"
    assert profile.updated_at is None  # no keyring, no consents: nothing dates it
    assert profile.gravito_data["NonTCFVendors"][1] == {"id": 16, "name": "Microsoft", "consent": True}
    assert profile.events == {"matchOnId": "11fb"}


def test_updated_at_is_the_latest_t_over_keyring_and_consents():
    message = {
        "i": "p1",
        "k": [{"i": "a", "k": "GAID", "v": "a", "t": 1642693204}],
        "c": [{"i": "t", "c": "c1", "s": True, "t": 1642690365}],
    }
    assert parse_element({"referer": "x", "message": json.dumps(message)}).updated_at == 1642693204


@pytest.mark.parametrize(
    ("element", "error"),
    [
        ({"referer": "x", "message": '{"i":"cut'}, "message is not valid JSON (JSONDecodeError at char 5)"),
        ({"referer": "x", "message": "[1, 2]"}, "message is not a JSON object"),
        ({"referer": "x", "message": '{"r":"x"}'}, "message has no microprofile id (i)"),
        ({"referer": "x"}, "the element has no message string"),
        ("text", "the response element is not an object"),
    ],
)
def test_bad_messages_are_kept_with_a_reason_and_a_stable_key(element, error):
    profile = parse_element(element)
    assert profile.parse_error == error
    assert profile.profile_id == unparsed_id(profile.raw_message)
    assert profile.raw_message is not None


def test_gravito_data_that_is_not_json_stays_in_events():
    message = {"i": "p1", "e": {"gravitoData": "{oops"}}
    profile = parse_element({"referer": "x", "message": json.dumps(message)})
    assert profile.gravito_data is None
    assert profile.gravito_data_error == "gravitoData is not valid JSON (JSONDecodeError)"
    assert profile.events == {"gravitoData": "{oops"}

"""The TC string decoder: published IAB TCF v2 strings with known values, the vendor's sample,
strings the simulator encodes with its own encoder, and strings that must not decode."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sandbox.gravito import BROKEN_TC_STRINGS, TcModel, encode_tc_string
from tap_gravito.tcf import decode_tc_string

# Published test vectors with their decoded values, from the GDPR::IAB::TCFv2 decoder's test suite
# (CPAN, t/01-parse.t): one with bit-field vendor sections, one with range vendor sections.
BITFIELD_STRING = "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA"
RANGE_STRING = "COyfVVoOyfVVoADACHENAwCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAnSAMABgAFkAgQCDASeAmYBOgAA"
# The vendor's sample gravitoData (vendor-docs/gravito-customer-data-api.txt).
VENDOR_SAMPLE = (
    "CPVMwMAPVMwMABUAJAFICECsAP_AAH_AAApAHxQIwAFgAQAAqABkADwAIAAZAA0AB8AEQAI4ATwAqABbADmAH4AQQAhABMADRAGyAQgAiIBFgCRAE7ALSAYEAx"
    "QB1AD9AJkAWyAvMB8QHxQHwAFgAVAAyAB4AEAAMgAaAA-F5jIAQC8wHxDoCoACwAKgAZABAADIAGgAPgAiABPADmAH4ATAA0QBsgEWALSAYoA6gCZAFsgLzIQBgAFg"
    "AZALSAYoA6gC2SUAgABYAGQAiADZALSAYoA6gC8ykA8ABYAFQAMgAgABkADQAIgATwA5gB-AGiANkAiwBigF5gAAA.YAAAAAAAAMAA"
)


def test_published_bitfield_string():
    fields, error = decode_tc_string(BITFIELD_STRING)
    assert error is None
    assert fields == {
        "tcf_version": 2,
        "created": "2008-12-07T10:04:17.700000+00:00",  # epoch 1228644257.7
        "last_updated": "2012-01-10T17:10:13.400000+00:00",  # epoch 1326215413.4
        "cmp_id": 21,
        "cmp_version": 7,
        "consent_screen": 2,
        "consent_language": "EN",
        "vendor_list_version": 23,
        "policy_version": 2,
        "is_service_specific": True,
        "use_non_standard_texts": False,
        "special_feature_optins": [2],
        "purposes_consented": [1, 3, 9, 10],
        "purposes_legitimate_interest": [3, 4, 5, 8, 9, 10],
        "purpose_one_treatment": False,
        "publisher_country_code": "KM",
        "vendors_consented": [
            2,
            3,
            6,
            7,
            8,
            10,
            12,
            13,
            14,
            15,
            16,
            21,
            25,
            27,
            30,
            31,
            34,
            35,
            37,
            38,
            39,
            42,
            43,
            49,
            52,
            54,
            55,
            56,
            57,
            59,
            60,
            63,
            64,
            65,
            66,
            67,
            68,
            69,
            73,
            74,
            76,
            78,
            83,
            86,
            87,
            89,
            90,
            92,
            96,
            99,
            100,
            106,
            109,
            110,
            114,
            115,
        ],
        "vendors_legitimate_interest": [1, 9, 26, 27, 30, 36, 37, 43, 86, 97, 110, 113],
    }


def test_published_range_string():
    fields, error = decode_tc_string(RANGE_STRING)
    assert error is None
    assert fields["created"] == fields["last_updated"] == "2020-04-27T00:07:00+00:00"  # epoch 1587946020
    assert (fields["cmp_id"], fields["cmp_version"], fields["consent_screen"]) == (3, 2, 7)
    assert (fields["consent_language"], fields["vendor_list_version"], fields["publisher_country_code"]) == (
        "EN",
        48,
        "AA",
    )
    assert fields["purposes_consented"] == fields["purposes_legitimate_interest"] == []
    assert fields["vendors_consented"] == [23, 42, 126, 127, 128, 587, 613, 626]
    assert fields["vendors_legitimate_interest"] == [24, 44, 129, 130, 131, 591, 614, 628]


def test_vendor_sample_keeps_what_decodes_and_says_why_the_rest_does_not():
    # Its length is not valid padded base64 (a strict base64 decoder rejects it) and its
    # legitimate-interest section names vendor 12081 above its own max vendor id 994.
    fields, error = decode_tc_string(VENDOR_SAMPLE)
    assert error == "vendor_legitimate_interests: range 12081-12081 is outside 1-994"
    assert fields["created"] == "2022-03-02T00:00:00+00:00"
    assert (fields["cmp_id"], fields["cmp_version"], fields["consent_language"]) == (84, 9, "FI")
    assert (fields["vendor_list_version"], fields["policy_version"], fields["publisher_country_code"]) == (132, 2, "FI")
    assert fields["purposes_consented"] == list(range(1, 11))
    assert len(fields["vendors_consented"]) == 35
    assert fields["vendors_consented"][:3] == [11, 16, 21] and fields["vendors_consented"][-1] == 994
    assert "vendors_legitimate_interest" not in fields


def _random_model(rng: random.Random, ranges: bool) -> TcModel:
    created = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
        seconds=rng.randint(0, 10**8), milliseconds=100 * rng.randint(0, 9)
    )
    return TcModel(
        created=created,
        last_updated=created + dt.timedelta(days=rng.randint(0, 30)),
        cmp_id=rng.randint(0, 4095),
        cmp_version=rng.randint(0, 4095),
        consent_screen=rng.randint(0, 63),
        consent_language=rng.choice(["EN", "FI", "ZZ"]),
        vendor_list_version=rng.randint(0, 4095),
        policy_version=rng.randint(0, 63),
        is_service_specific=rng.random() < 0.5,
        use_non_standard_texts=rng.random() < 0.5,
        special_feature_optins=sorted(rng.sample(range(1, 13), rng.randint(0, 12))),
        purposes_consented=sorted(rng.sample(range(1, 25), rng.randint(0, 24))),
        purposes_legitimate_interest=sorted(rng.sample(range(1, 25), rng.randint(0, 24))),
        purpose_one_treatment=rng.random() < 0.5,
        publisher_country_code=rng.choice(["AA", "FI", "SE"]),
        vendors_consented=sorted(rng.sample(range(1, 3000), rng.randint(0, 80))),
        vendors_legitimate_interest=sorted(rng.sample(range(1, 3000), rng.randint(0, 80))),
        ranges=ranges,
        publisher_segment=rng.choice(["", ".YAAAAAAAAMAA"]),
    )


@pytest.mark.parametrize("ranges", [False, True])
def test_strings_encoded_by_the_simulator_decode_to_its_model(ranges):
    rng = random.Random(7)
    for _ in range(200):
        model = _random_model(rng, ranges)
        fields, error = decode_tc_string(encode_tc_string(model))
        assert error is None
        assert fields == model.truth()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (BROKEN_TC_STRINGS[0], "version 1 is not TCF v2"),
        (BROKEN_TC_STRINGS[1], "the string ends inside field created (bit 6 of 36)"),
        (BROKEN_TC_STRINGS[2], "character ' ' is not base64url"),
        ("", "the string is empty"),
        (None, "expected a string, got NoneType"),
    ],
)
def test_strings_that_do_not_decode_say_why(text, error):
    assert decode_tc_string(text)[1] == error

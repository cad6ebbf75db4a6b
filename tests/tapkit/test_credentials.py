"""The credential rule (tapkit.credentials): which names it drops, at any depth, and that no declared
column of the five taps falls under it."""

from __future__ import annotations

import json
import logging
import typing as t
from pathlib import Path

import pytest

from tapkit.credentials import CredentialFilter, is_credential_name, mask_in_text
from tapkit.shaping import RecordShaper

ROOT = Path(__file__).resolve().parents[2]

CREDENTIALS = [
    "api key", "apikey", "api_key", "Api-Key", "API_KEY", "apiKey", "APIKey", "dataapikey", "api_keys",
    "token", "access_token", "accessToken", "refresh-token", "tokens", "consent_token",
    "secret", "client_secret", "ClientSecret", "secrets",
    "password", "PASSWORD", "passwd", "user.password",
    "authorization", "Authorization",
    "credential", "credentials", "Credentials",
    "private key", "private_key", "privateKey", "PrivateKey",
]  # fmt: skip
NOT_CREDENTIALS = [
    "token_count", "tokenCount", "password_changed_at", "secret_question_id", "api_key_id", "apikey_created",
    "key", "customer_key", "key_id", "key_value", "key_name", "key_count", "author_id", "authorized", "auth",
    "tokenized_email", "secretary", "passwords_reset_count", "private", "consent", "id", "",
]  # fmt: skip


@pytest.mark.parametrize("name", CREDENTIALS)
def test_names_that_say_credential_are_dropped(name):
    assert is_credential_name(name)


@pytest.mark.parametrize("name", NOT_CREDENTIALS)
def test_names_where_the_word_only_qualifies_another_are_kept(name):
    assert not is_credential_name(name)


def test_a_stream_adds_names_and_allows_names_in_the_normalised_form():
    rules = CredentialFilter(extra=["session_id"], allowed=["consent-token"])
    assert rules.drops("sessionId") and rules.drops("SESSION_ID")
    assert not rules.drops("consentToken") and not rules.drops("consent_token")
    assert rules.drops("apikey")  # the rule still holds for every other name


def every_declared_column(schema: dict, path: str = ""):
    for name, prop in (schema.get("properties") or {}).items():
        yield f"{path}{name}"
        yield from every_declared_column(prop, f"{path}{name}.")
    if isinstance(schema.get("items"), dict):
        yield from every_declared_column(schema["items"], f"{path}[].")


SCHEMA_FILES = sorted(ROOT.glob("taps/tap-*/tap_*/schemas/*.json"))


def test_no_declared_column_of_any_tap_falls_under_the_rule():
    assert len(SCHEMA_FILES) >= 10
    matched = [
        f"{path.relative_to(ROOT)}: {column}"
        for path in SCHEMA_FILES
        for column in every_declared_column(json.loads(path.read_text()))
        if is_credential_name(column.rsplit(".", 1)[-1])
    ]
    assert matched == []  # a real column named like a credential needs credential_allowed_fields


SCHEMA = {
    "properties": {
        "id": {"type": ["string"]},
        "token_count": {"type": ["integer", "null"]},
        "settings": {"type": ["object", "null"]},
        "members": {"type": ["array", "null"]},
        "_extra": {"type": ["object", "null"]},
    }
}
SENTINEL = "SENTINEL-vendor-credential"


def test_the_shaper_drops_credentials_at_every_depth_and_warns_once_per_field_without_the_value(caplog):
    shaper = RecordShaper("accounts", SCHEMA, logger=logging.getLogger("test.credentials"))
    row: dict[str, t.Any] = {
        "id": "a1",
        "apikey": SENTINEL,
        "token_count": 3,
        "settings": {"Api-Key": SENTINEL, "theme": "dark", "oauth": {"access_token": SENTINEL, "scope": "read"}},
        "members": [{"name": "x", "password": SENTINEL}, "plain"],
        "newField": {"client_secret": SENTINEL, "kept": 1},
        "_extra": {"dataapikey": SENTINEL, "note": "n"},
    }
    with caplog.at_level(logging.WARNING, logger="test.credentials"):
        first = shaper.shape(row)
        second = shaper.shape(row)
    expected = {
        "id": "a1",
        "token_count": 3,
        "settings": {"theme": "dark", "oauth": {"scope": "read"}},
        "members": [{"name": "x"}, "plain"],
        "_extra": {"note": "n", "newField": {"kept": 1}},
    }
    assert first == expected
    assert second == expected
    assert row["settings"]["Api-Key"] == SENTINEL  # the vendor row itself is not changed (it may be shared)
    dropped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Credential dropped")]
    named = sorted(message.split("vendor field '")[1].split("'")[0] for message in dropped)
    assert named == sorted(
        [
            "apikey",
            "settings.Api-Key",
            "settings.oauth.access_token",
            "members[].password",
            "newField.client_secret",
            "dataapikey",
        ]
    )
    assert all(SENTINEL not in record.getMessage() for record in caplog.records)


def test_a_credential_in_the_first_bytes_of_a_bad_body_is_masked():
    text = '[{"id":"a1","apikey":"' + SENTINEL + '","name":"Shop","dataApiKey":"' + SENTINEL[:9]
    masked = mask_in_text(text)
    assert SENTINEL[:9] not in masked
    assert masked == '[{"id":"a1","apikey":"***","name":"Shop","dataApiKey":"***"'

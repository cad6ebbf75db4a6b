"""The kit's judgement of config files and settings: exact lines, no server needed."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tapkit.config_files import check_singer_arguments, read_json_file
from tapkit.errors import ConfigError
from tapkit.settings_check import check_api_url, check_not_future, schema_problems, warn_unknown

SCHEMA = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "secret": True},
        "domains": {"type": "array", "items": {"type": "string"}},
        "request_timeout": {"type": ["number", "null"]},
        "lookback_hours": {"type": ["integer", "null"]},
    },
    "required": ["api_key", "domains"],
}


@pytest.mark.parametrize(
    ("config", "problems"),
    [
        ({}, ["setting api_key is required", "setting domains is required"]),
        (
            {"api_key": "k", "domains": "a.com", "request_timeout": "ten"},
            [
                'setting domains must be a list, got "a.com" (a text)',
                'setting request_timeout must be a number, got "ten" (a text)',
            ],
        ),
        (
            {"api_key": 1234567, "domains": [3]},
            ["setting api_key must be a text, got a number", "setting domains[0] must be a text, got 3 (a number)"],
        ),
        (
            {"api_key": "k", "domains": [], "lookback_hours": 1.5},
            ["setting lookback_hours must be a whole number, got 1.5 (a number)"],
        ),
        ({"api_key": "k", "domains": ["a.com"]}, []),
    ],
)
def test_schema_problems_name_the_setting_the_type_and_what_was_given(config, problems):
    assert schema_problems(config, SCHEMA, secret_names=["api_key"]) == problems


def test_an_unknown_setting_is_warned_once_with_the_closest_name(caplog):
    known = SCHEMA["properties"]
    with caplog.at_level(logging.WARNING, logger="tapkit.settings"):
        first = warn_unknown({"lookback_hour": 3, "zzz": 1, "api_key": "k"}, known, "tap-test-unknown")
        warn_unknown({"lookback_hour": 3}, known, "tap-test-unknown")
    assert first == [
        "setting lookback_hour is not a setting of tap-test-unknown and is ignored; did you mean lookback_hours?",
        "setting zzz is not a setting of tap-test-unknown and is ignored",
    ]
    assert [record.getMessage() for record in caplog.records] == first


@pytest.mark.parametrize("url", ["localhost:8080/x", "ftp://h/x", "http://", "api.example.com", "file:///etc"])
def test_an_api_url_that_is_no_http_url_with_a_host_is_refused(url):
    with pytest.raises(ConfigError) as caught:
        check_api_url(url, example="https://api.example.com")
    assert str(caught.value) == (
        f"setting api_url must be an http(s) URL with a host, such as https://api.example.com, got {url!r}"
    )


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "https://api.example.com", None])
def test_an_http_url_with_a_host_passes(url):
    check_api_url(url, example="https://api.example.com")


def test_a_start_date_after_tomorrow_is_refused():
    today = dt.date(2026, 12, 7)
    check_not_future("start_date", dt.date(2026, 12, 8), today)  # tomorrow: a time zone east of UTC
    with pytest.raises(
        ConfigError, match=r"setting start_date \(2026-12-09\) is in the future \(today is 2026-12-07 UTC\)"
    ):
        check_not_future("start_date", dt.date(2026, 12, 9), today)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "does not exist"),
        ("", "is empty; expected JSON (an object)"),
        ("  \n", "is empty; expected JSON (an object)"),
        (
            "{not json",
            "is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)); "
            "expected an object",
        ),
        ("[1]", "holds a list; expected an object"),
        ("true", "holds a boolean; expected an object"),
        ("null", "holds null; expected an object"),
    ],
)
def test_a_bad_file_is_named_with_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "config.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_json_file(path, "config")
    assert str(caught.value) == f"config file {path} {problem}"


def test_a_singer_command_line_has_each_file_judged(tmp_path):
    (tmp_path / "a.json").write_text('{"x": 1}')
    (tmp_path / "b.json").write_text('{"x": 2, "y": 3}')
    (tmp_path / "catalog.json").write_text('{"streams": [{"tap_stream_id": "s"}]}')
    (tmp_path / "state.json").write_text("[]")
    argv = ["--config", str(tmp_path / "a.json"), "--config=" + str(tmp_path / "b.json"), "--config", "ENV"]
    assert check_singer_arguments([*argv, "--catalog", str(tmp_path / "catalog.json")]) == {"x": 2, "y": 3}
    with pytest.raises(ConfigError, match=r"state file .*state\.json holds a list; expected an object"):
        check_singer_arguments([*argv, "--state", str(tmp_path / "state.json")])
    (tmp_path / "catalog.json").write_text("{}")
    with pytest.raises(
        ConfigError, match=r'catalog file .*catalog\.json has no list of streams \(its "streams" is none\)'
    ):
        check_singer_arguments([*argv, "--catalog", str(tmp_path / "catalog.json")])

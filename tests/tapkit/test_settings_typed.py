"""Settings typed once (tapkit.settings): each tap's settings class names exactly the settings its
`config_jsonschema` documents, with agreeing types; a config where every documented setting differs from
its default reaches the settings object, the HTTP client, the api, the streams and the probe unchanged;
and no code outside the tap's validation reads the raw config."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import importlib
import typing as t
from pathlib import Path

import pytest

from tapkit.settings import DayWindowSettings, KitSettings
from tapkit.streams import VendorStream
from tapkit.tap import VendorTap
from tapkit.windows import DayWindowStream
from tests.reliability.taps import TAPS

ROOT = Path(__file__).resolve().parents[2]
VENDORS = sorted(TAPS)

#: a value other than the default for the text, list and date settings a test profile leaves at their
#: default or unset (numbers and booleans are derived from the default: see `non_default_config`)
NON_DEFAULT: dict[str, t.Any] = {
    "gravito_version": "v4",
    "table": "content",
    "key_header": "X-Test-Key",
    "secret_header": "X-Test-Secret",
    "cluster_id": "eu-test-1",
    "api_version": "v2",
    "datasets": ["0b7e1c52-4f0e-4d7a-9a51-3d2f6c1e8a01"],
    "export_ids": ["export-test-1"],
    "start_date": "2024-01-15",  # any past day: nothing here makes a request
    "aws_profile": "test-profile",
    "gcs_endpoint_url": "http://127.0.0.1:9/gcs",
}


def tap_class(vendor: str) -> type[VendorTap]:
    module = importlib.import_module(f"tap_{vendor}.tap")
    return next(obj for obj in vars(module).values() if getattr(obj, "name", None) == f"tap-{vendor}")


def documented(vendor: str) -> dict[str, dict]:
    """The tap's own settings (singer-sdk adds its built-in ones, stream_maps ..., to the schema once a tap
    is built; those are the SDK's, not typed by the kit)."""
    builtin: dict = {"properties": {}}
    tap_class(vendor).append_builtin_config(builtin)
    properties = tap_class(vendor).config_jsonschema["properties"]
    return {name: prop for name, prop in properties.items() if name not in builtin["properties"]}


# -- one declaration for users, one typed view: the same names, agreeing types ----------------------------

KIT_FIELDS = {field.name for field in dataclasses.fields(KitSettings)}
JSON_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "array": tuple}


def python_type(hint: t.Any) -> tuple[type, bool]:
    """(the plain type, whether None is allowed) of a settings field's annotation."""
    if t.get_origin(hint) is t.Annotated:
        hint = t.get_args(hint)[0]
    args = t.get_args(hint)
    optional = type(None) in args
    if optional:
        (hint,) = [arg for arg in args if arg is not type(None)]
    return (t.get_origin(hint) or hint), optional


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_settings_class_names_every_documented_setting_with_its_type(vendor):
    settings_class = tap_class(vendor).settings_class
    assert settings_class is not KitSettings, f"tap-{vendor} names its own settings class"
    hints = t.get_type_hints(settings_class, include_extras=True)
    properties = documented(vendor)
    assert sorted(hints) == sorted(properties)
    for name, prop in properties.items():
        kind, optional = python_type(hints[name])
        json_type = prop["type"] if isinstance(prop["type"], str) else next(x for x in prop["type"] if x != "null")
        expected = dt.date if prop.get("format") == "date" else JSON_TYPES[json_type]
        assert kind is expected, f"{vendor}: {name} is {kind.__name__} in the class, {json_type} in the schema"
        may_be_unset = name not in tap_class(vendor).config_jsonschema.get("required", []) and "default" not in prop
        if name in getattr(settings_class, "computed_defaults", ()):  # a default relative to today, say
            may_be_unset = False
        if may_be_unset:
            assert optional, f"{vendor}: {name} may be unset, but its type does not allow None"
        elif optional:  # a kit setting some tap leaves unset (api_url: voyado builds it from cluster_id)
            assert name in KIT_FIELDS, f"{vendor}: {name} is always set, but its type allows None"


# -- every documented setting reaches the code that uses it --------------------------------------------


def non_default_config(vendor: str, tmp_path: Path) -> dict[str, t.Any]:
    """The test profile's config, with every documented setting set and different from its default."""

    class NoSandbox:  # nothing here makes a request
        base_url = "http://127.0.0.1:9"

    config = TAPS[vendor].config(NoSandbox, tmp_path)
    for name, prop in documented(vendor).items():
        default = prop.get("default")
        if name in config and config[name] != default:
            continue
        if name in NON_DEFAULT:
            config[name] = NON_DEFAULT[name]
        elif prop["type"] == "boolean" or "boolean" in prop["type"]:
            config[name] = not default
        elif prop["type"] in ("integer", ["integer", "null"]):
            config[name] = (default or 0) + 3
        elif prop["type"] in ("number", ["number", "null"]):
            config[name] = (default or 7) + 0.5
        elif name == "end_date":
            config[name] = (dt.date.fromisoformat(config["start_date"]) + dt.timedelta(days=1)).isoformat()
        elif name == "customer_keys_file":
            keys = tmp_path / "keys.txt"
            keys.write_text("# one more key\nfile-key-1\n")
            config[name] = str(keys)
        else:
            raise AssertionError(f"{vendor}: give {name} a non-default value in NON_DEFAULT")
        assert config[name] != default
    return config


def as_config_value(value: t.Any) -> t.Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [as_config_value(item) for item in value]
    return value


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_documented_setting_reaches_the_settings_the_api_and_the_http_client(vendor, tmp_path):
    config = non_default_config(vendor, tmp_path)
    tap = tap_class(vendor)(config=config, setup_mapper=False)
    settings = tap.settings
    assert {name: as_config_value(getattr(settings, name)) for name in documented(vendor)} == config
    assert tap.settings is settings  # built once per run
    # the kit's settings, where the kit uses them
    http = tap.http_client
    assert (http.timeout, http.max_attempts, http.backoff_base) == (
        config["request_timeout"],
        config["retry_max_attempts"],
        config["retry_backoff_seconds"],
    )
    assert http.rate_limiter.interval == 1 / config["max_requests_per_second"]
    assert http.base_url == config["api_url"]
    prefetch = tap.prefetch([], lambda key: [key])
    assert prefetch.workers == config["max_concurrency"] != 4
    # the tap's api holds the same object, and sends the configured credentials
    assert tap.api.settings is settings and tap.api.for_stream("x").settings is settings
    session = getattr(tap.api, "session", None)  # didomi: the credentials buy a token (POST /sessions), not sent
    sent = dict(session.credentials) if session is not None else {**tap.api.auth_headers(), **tap.api.auth_params()}
    for name in tap_class(vendor).auth_settings:
        assert config[name] in sent.values(), f"{vendor}: {name} is not sent"
    for header in ("key_header", "secret_header"):
        if header in config:
            assert config[header] in sent


@pytest.mark.parametrize("vendor", ["consentmanager", "gravito", "voyado", "didomi"])  # discovery without requests
def test_every_stream_holds_the_runs_settings_and_a_day_window_reads_its_bounds(vendor, tmp_path):
    config = non_default_config(vendor, tmp_path)
    tap = tap_class(vendor)(config=config, setup_mapper=False)
    streams = list(tap.streams.values())
    assert streams and all(isinstance(stream, VendorStream) and stream.settings is tap.settings for stream in streams)
    for stream in streams:
        if isinstance(stream, DayWindowStream):
            assert isinstance(tap.settings, DayWindowSettings)
            assert stream.start_day().isoformat() == config["start_date"]
            assert stream.end_day().isoformat() == config["end_date"]
            assert stream.lookback_days == config["lookback_days"]
            assert stream.max_concurrency == config["max_concurrency"]


def test_a_bound_is_one_line_naming_the_setting(tmp_path):
    from tapkit.errors import ConfigError

    config = non_default_config("gravito", tmp_path)
    for name, value, message in (
        ("lookback_hours", -1, "setting lookback_hours must be 0 or more, got -1"),
        ("max_concurrency", 0, "setting max_concurrency must be at least 1, got 0"),
        ("request_timeout", 0, "setting request_timeout must be a positive number, got 0"),
    ):
        with pytest.raises(ConfigError) as failure:
            tap_class("gravito")(config={**config, name: value}, setup_mapper=False)
        assert str(failure.value) == message


# -- nothing reads the raw config but the tap's validation ------------------------------------------------

#: (module, function) pairs that may read `.config`: the validation before the settings exist
RAW_CONFIG_READERS = {
    ("tapkit/tap.py", "validate_settings"),  # warns about unknown settings, judges the schema
    ("tapkit/tap.py", "register_secrets"),  # secrets first, before anything is typed
    ("tapkit/tap.py", "settings"),  # the one place the typed settings are built
}


def kit_and_tap_modules() -> list[Path]:
    return sorted((ROOT / "taps").glob("tapkit/tapkit/**/*.py")) + sorted((ROOT / "taps").glob("tap-*/tap_*/**/*.py"))


def is_tap_or_stream(node: ast.expr) -> bool:
    """`self.config`, `tap.config`, `self.tap.config` (an argparse namespace's `config` is a path)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "tap"
    return isinstance(node, ast.Name) and node.id in ("self", "tap")


def test_no_code_reads_the_raw_config_outside_the_validation():
    readers = set()
    for path in kit_and_tap_modules():
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Attribute) and node.attr == "config" and is_tap_or_stream(node.value):
                    readers.add((f"{path.parent.name}/{path.name}", function.name))
    assert readers == RAW_CONFIG_READERS


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_typed_setting_is_read_by_some_code(vendor):
    """A documented setting that no code reads does nothing: each is read as `<settings>.<name>`."""
    read = set()
    package = ROOT / "taps" / f"tap-{vendor}" / f"tap_{vendor}"
    for path in [*package.glob("*.py"), *sorted((ROOT / "taps/tapkit/tapkit").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Attribute, ast.Name)):
                owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
                if owner == "settings":
                    read.add(node.attr)
    fields = {field.name for field in dataclasses.fields(tap_class(vendor).settings_class)}
    assert fields - read == set()

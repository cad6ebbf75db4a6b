"""Settings judged before any request, each fault one line that names the setting and what is wrong.

singer-sdk's own validation says "'ten' is not of type 'number', 'null' in config['request_timeout']"
and says nothing of a setting it does not know. Here:

- a required setting that is absent: "setting domains is required";
- a value of the wrong type: "setting request_timeout must be a number, got "ten" (a text)" (a secret
  setting's value is never shown, only its kind);
- a setting the tap does not have: a warning naming it and the closest known name ("did you mean
  lookback_hours?"); the run goes on (Meltano and old configs carry extra keys);
- `api_url` that is not an http(s) URL with a host: an error (requests would fail later with
  InvalidSchema, naming neither the setting nor the value);
- a `start_date` after today (UTC, one day of slack for time zones): an error, since such a run would
  read nothing and exit 0 (docs/reliability.md, "Bad configuration").
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import typing as t
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, ValidationError

from tapkit.config_files import json_kind
from tapkit.errors import ConfigError

logger = logging.getLogger("tapkit.settings")

#: how an error names the JSON Schema types
TYPE_NAMES = {
    "array": "a list",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "object": "an object",
    "string": "a text",
    "null": "null",
}
#: how far ahead of today (UTC) a start date may be: a person east of UTC is already in tomorrow
START_SLACK = dt.timedelta(days=1)

_warned: set[tuple[str, str]] = set()


def schema_problems(config: t.Mapping[str, t.Any], schema: dict, secret_names: t.Collection[str] = ()) -> list[str]:
    """One line per setting the JSON schema refuses, the required ones first."""
    errors = sorted(Draft7Validator(schema).iter_errors(dict(config)), key=_order)
    return [describe(error, secret_names) for error in errors]


def _order(error: ValidationError) -> tuple[int, str]:
    return (0 if error.validator == "required" else 1, setting_path(error))


def setting_path(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def describe(error: ValidationError, secret_names: t.Collection[str]) -> str:
    path = setting_path(error)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"setting {path + '.' if path else ''}{missing} is required"
    top = str(error.absolute_path[0]) if error.absolute_path else ""
    secret = top in secret_names
    got = f"got {json_kind(error.instance)}" if secret else f"got {shown(error.instance)}"
    rule: t.Any = error.validator_value
    if error.validator == "type":
        types = rule if isinstance(rule, list) else [rule]
        expected = " or ".join(TYPE_NAMES.get(str(kind), str(kind)) for kind in types if kind != "null")
        return f"setting {path} must be {expected}, {got}"
    if error.validator == "enum":
        return f"setting {path} must be one of {', '.join(map(str, rule))}, {got}"
    if error.validator == "format":
        return f"setting {path} must be a {rule}, {got}"
    return f"setting {path}: {f'{error.validator} not met' if secret else error.message}"


def shown(value: t.Any) -> str:
    text = json.dumps(value, default=str)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({json_kind(value)})"


def warn_unknown(config: t.Mapping[str, t.Any], known: t.Collection[str], program: str) -> list[str]:
    """Warn once per process for each setting the tap does not have; returns the warnings."""
    warnings = []
    for name in sorted(set(config) - set(known)):
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        warning = f"setting {name} is not a setting of {program} and is ignored{hint}"
        warnings.append(warning)
        if (program, name) not in _warned:
            _warned.add((program, name))
            logger.warning("%s", warning)
    return warnings


def check_api_url(value: t.Any, *, example: str, name: str = "api_url") -> None:
    """An http(s) URL with a host."""
    if value is None:
        return
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # An unset environment variable in a Meltano setting (`${CONSENT_SANDBOX_URL}/lytics`) leaves a bare path.
        unset = " (is an environment variable it is made from unset?)" if str(value).startswith("/") else ""
        raise ConfigError(f"setting {name} must be an http(s) URL with a host, such as {example}, got {value!r}{unset}")


def check_not_future(name: str, day: dt.date | None, today: dt.date) -> None:
    if day is not None and day > today + START_SLACK:
        raise ConfigError(
            f"setting {name} ({day.isoformat()}) is in the future (today is {today.isoformat()} UTC): "
            "the run would read nothing; set a past date"
        )

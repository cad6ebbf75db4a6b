"""The bad-configuration scenarios of the matrix: those every tap shares (derived from its settings
schema) and each vendor profile's own `bad_configs`. No vendor is named here."""

from __future__ import annotations

import datetime as dt
import typing as t

from tests.reliability.taps import TAPS, TapProfile

#: a fault, given the sandbox: (the change to the config (None deletes a setting), fragments of the error line)
Fault = t.Callable[[t.Any], tuple[dict, list[str]]]

#: scenarios of the files and the connection, for every tap (tests/reliability/test_config.py)
FILE_SCENARIOS = {
    "config: bad config file": "a config file missing, empty, not JSON or a list, in every mode: one line naming it",
    "config: bad catalog or state file": "a catalog or state file missing, empty, not JSON or of the wrong kind "
    "(sync and Airbyte read): one line naming it",
    "config: unknown setting": "a misspelt setting, in every mode: a warning naming it and the setting meant",
    "config: cannot connect": "nothing listening at api_url: the last line names the host and api_url",
}
#: the setting scenarios every tap shares (where it has the setting), in every mode
SHARED_SETTING_SCENARIOS = {
    "config: missing setting": "a required setting missing, in every mode: one line naming it, no request",
    "config: wrong type": "a text where a number belongs, a number where a secret text belongs, in every mode: "
    "one line naming the setting, the type expected and the value's kind (never a secret's value)",
    "config: api_url not http(s)": "an api_url without scheme, or ftp://, in every mode: one line, no request",
    "config: start_date in the future": "a start_date a month ahead, in every mode: one line, no request",
}


def settings_schema(profile: TapProfile) -> dict:
    return profile.load_tap_class().config_jsonschema


def future_day(sandbox: t.Any) -> str:
    """A month after the later of the sandbox's today and the tap's clock (the machine's UTC date)."""
    return (max(sandbox.today(), dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=30)).isoformat()


def shared_faults(profile: TapProfile) -> dict[str, list[Fault]]:
    schema = settings_schema(profile)
    secret = profile.secrets[0]
    faults: dict[str, list[Fault]] = {
        "config: wrong type": [
            lambda _: ({"request_timeout": "ten"}, ['setting request_timeout must be a number, got "ten" (a text)']),
            lambda _: ({secret: 424242}, [f"setting {secret} must be a text, got a number"]),
        ],
        "config: api_url not http(s)": [
            lambda _: (
                {"api_url": "127.0.0.1:9/x"},
                ["setting api_url must be an http(s) URL with a host", "'127.0.0.1:9/x'"],
            ),
            lambda _: ({"api_url": "ftp://127.0.0.1/x"}, ["setting api_url must be an http(s) URL"]),
        ],
    }
    # a required setting (not api_url, which must keep pointing at the sandbox)
    required = sorted(name for name in schema.get("required", []) if name != "api_url")
    if required:
        name = required[-1]
        faults["config: missing setting"] = [lambda _: ({name: None}, [f"setting {name} is required"])]
    if "start_date" in schema["properties"]:

        def future(sandbox: t.Any) -> tuple[dict, list[str]]:
            day = future_day(sandbox)
            return {"start_date": day}, [f"setting start_date ({day}) is in the future"]

        faults["config: start_date in the future"] = [future]
    return faults


def setting_faults(profile: TapProfile) -> dict[str, list[Fault]]:
    """scenario -> its faults: the shared ones, then the profile's own."""
    faults = shared_faults(profile)
    for label, change, message in profile.bad_configs:

        def fault(_: t.Any, c: dict = change, m: str = message) -> tuple[dict, list[str]]:
            return c, [m]

        faults.setdefault(f"config: {label}", []).append(fault)
    return faults


def bad_config_scenarios(vendor: str) -> list[str]:
    return [*FILE_SCENARIOS, *setting_faults(TAPS[vendor])]

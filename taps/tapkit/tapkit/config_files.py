"""The files a run is given (config, catalog, state), read and judged before singer-sdk opens them.

singer-sdk reads `--config`, `--catalog` and `--state` itself and trusts them: an empty file or one
that is not JSON ends in a bare JSONDecodeError, and a JSON list is merged into the config as if it
were empty. Each file is therefore read here first, and a fault is one line that names the file and
what is wrong with it (`ConfigError`). `check_singer_arguments` does this for a Singer command line.
"""

from __future__ import annotations

import argparse
import json
import typing as t
from pathlib import Path

from tapkit.errors import ConfigError

#: how a fault names a JSON value's kind
JSON_KINDS = {dict: "an object", list: "a list", str: "a text", bool: "a boolean", int: "a number", float: "a number"}


def json_kind(value: t.Any) -> str:
    return JSON_KINDS.get(type(value), "null")


def read_json_file(path: str | Path, what: str, *, expected: tuple[type, ...] = (dict,)) -> t.Any:
    """The JSON value of the `what` file (config, catalog, state) at `path`, of one of the `expected` kinds."""
    wanted = " or ".join(JSON_KINDS[kind] for kind in expected)
    name = f"{what} file {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{name} is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name} is not UTF-8 text; expected JSON ({wanted})") from None
    except OSError as exc:
        raise ConfigError(f"{name} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not text.strip():
        raise ConfigError(f"{name} is empty; expected JSON ({wanted})")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{name} is not JSON ({exc}); expected {wanted}") from None
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        raise ConfigError(f"{name} holds {json_kind(value)}; expected {wanted}")
    return value


def read_config_files(paths: t.Iterable[str]) -> dict:
    """The settings of every config file, later files winning (as singer-sdk merges them); `ENV` is skipped."""
    config: dict = {}
    for path in paths:
        if path != "ENV":
            config.update(read_json_file(path, "config"))
    return config


def check_catalog(catalog: dict, path: str) -> None:
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        shown = "none" if streams is None else json_kind(streams)
        raise ConfigError(
            f'catalog file {path} has no list of streams (its "streams" is {shown}); expected a Singer catalog'
        )
    for number, entry in enumerate(streams, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("tap_stream_id") or entry.get("stream"), str):
            raise ConfigError(f"catalog file {path}: stream entry {number} names no stream (tap_stream_id)")


class SingerArguments(t.NamedTuple):
    configs: list[str]
    catalog: str | None
    state: str | None


def singer_arguments(argv: t.Sequence[str]) -> SingerArguments:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--config", action="append", default=[])
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    options, _ = parser.parse_known_args(list(argv))
    return SingerArguments(options.config, options.catalog, options.state)


def check_singer_arguments(argv: t.Sequence[str]) -> dict:
    """Read every file a Singer command line names; raise `ConfigError` for the first fault. Returns the config."""
    arguments = singer_arguments(argv)
    config = read_config_files(arguments.configs)
    if arguments.catalog is not None:
        check_catalog(read_json_file(arguments.catalog, "catalog"), arguments.catalog)
    if arguments.state is not None:
        read_json_file(arguments.state, "state")
    return config

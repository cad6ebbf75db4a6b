"""The customer keys to export: the `customer_keys` list plus the lines of `customer_keys_file`."""

from __future__ import annotations

import typing as t
from pathlib import Path

from tapkit import ConfigError

if t.TYPE_CHECKING:
    from tap_voyado.settings import VoyadoSettings


def read_keys_file(path: str) -> list[str]:
    """One key per line; blank lines and lines starting with '#' are ignored."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"setting customer_keys_file: no such file: {path}")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"setting customer_keys_file: cannot read {path}: {exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def configured_keys(settings: VoyadoSettings) -> list[str]:
    """Every configured key once, in the order given (list first, then file)."""
    keys = [key.strip() for key in settings.customer_keys or ()]
    if settings.customer_keys_file:
        keys += read_keys_file(settings.customer_keys_file)
    return list(dict.fromkeys(key for key in keys if key))

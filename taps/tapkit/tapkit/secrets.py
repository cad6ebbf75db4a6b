"""Keep secret setting values out of every output.

A `Scrubber` knows the values of the tap's secret settings (and their URL-encoded forms, since
consentmanager's key travels in a query string) and replaces them with `***`. Installing it puts
a filter on every logging handler and wraps stderr, so logs, warnings and tracebacks are covered
without each call site having to remember.
"""

from __future__ import annotations

import io
import logging
import sys
import typing as t
from urllib.parse import quote, quote_plus

from typing_extensions import override

MASK = "***"
# Shorter values would mask ordinary words in logs; no real credential is this short.
MIN_SECRET_LENGTH = 4


class Scrubber:
    """Replace known secret values in text."""

    def __init__(self, secrets: t.Iterable[str] = ()) -> None:
        self._needles: list[str] = []
        self.add(secrets)

    def add(self, secrets: t.Iterable[str]) -> None:
        for secret in secrets:
            if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
                continue
            for variant in (secret, quote_plus(secret), quote(secret, safe="")):
                if variant not in self._needles:
                    self._needles.append(variant)
        # Longest first, so a secret containing another is masked whole.
        self._needles.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def scrub(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text


class _ScrubbingFilter(logging.Filter):
    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        # Render once, then scrub the final text; args may hold URLs or exceptions.
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.scrubber.scrub(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.scrubber.scrub(record.exc_text)
        return True


class _ScrubbingStream(io.TextIOBase):
    """A text stream that scrubs what passes through it (used for stderr)."""

    def __init__(self, wrapped: t.TextIO, scrubber: Scrubber) -> None:
        self._wrapped = wrapped
        self._scrubber = scrubber

    @override
    def write(self, text: str) -> int:
        self._wrapped.write(self._scrubber.scrub(text))
        return len(text)

    @override
    def flush(self) -> None:
        self._wrapped.flush()

    @override
    def fileno(self) -> int:
        return self._wrapped.fileno()

    @override
    def isatty(self) -> bool:
        return self._wrapped.isatty()

    @property
    @override
    def encoding(self) -> str:  # type: ignore[override]  # TextIO declares a plain attribute; a read-only view here
        return getattr(self._wrapped, "encoding", "utf-8")


_GLOBAL = Scrubber()
_installed = False


def global_scrubber() -> Scrubber:
    return _GLOBAL


def install(secrets: t.Iterable[str]) -> Scrubber:
    """Register secret values process-wide: logging handlers and stderr scrub them from now on."""
    global _installed
    _GLOBAL.add(secrets)
    if not _installed:
        _installed = True
        sys.stderr = _ScrubbingStream(sys.stderr, _GLOBAL)
    _attach_filters()
    return _GLOBAL


def _attach_filters() -> None:
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, _ScrubbingFilter) for f in handler.filters):
                handler.addFilter(_ScrubbingFilter(_GLOBAL))


def secret_setting_names(config_jsonschema: dict) -> list[str]:
    """The settings a tap's schema marks `secret=True` (their values are scrubbed from every output)."""
    return [name for name, prop in config_jsonschema.get("properties", {}).items() if prop.get("secret")]


def scrub(text: str) -> str:
    return _GLOBAL.scrub(text)

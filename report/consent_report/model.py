"""What a section of the page is made of: a question, charts, tables of the numbers, a note."""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

NONE = "–"  # a number that does not exist (a rate over zero, an unknown age)


def count(value: t.Any) -> str:
    return NONE if value is None else str(int(value))


def rate(numerator: float | None, denominator: float | None) -> float | None:
    return None if not denominator or numerator is None else numerator / denominator


def percent(value: float | None) -> str:
    """A share as shown: percent with one decimal (the page's one rounding)."""
    return NONE if value is None else f"{100 * value:.1f}%"


def points(value: float | None) -> str:
    """A change of a share, in percentage points with a sign."""
    return NONE if value is None else f"{100 * value:+.1f} pt"


def day(value: t.Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@dataclass
class Table:
    key: str  # data-table attribute: what the tests read
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    key: str
    title: str
    question: str
    how: list[str]  # the mart, the formula, the source's caveats (one paragraph each)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (label, svg)
    tables: list[Table] = field(default_factory=list)
    empty: str | None = None  # said in words when the section's data is empty

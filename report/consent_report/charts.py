"""Charts as inline SVG: Vega-Lite specs built with altair, rendered in-process by vl-convert.

No JavaScript reaches the page, so it opens offline from a file and prints as it looks.
"""

from __future__ import annotations

import typing as t

import altair as alt
import vl_convert

WIDTH = 560  # the SVG scales down to a phone's width (the page sets max-width: 100%)


def _svg(chart: alt.TopLevelMixin) -> str:
    return vl_convert.vegalite_to_svg(chart.to_dict())


def lines(rows: list[dict[str, t.Any]], x: str, y: str, series: str, title: str, percent: bool = False) -> str:
    axis = alt.Axis(format="%") if percent else alt.Axis()
    chart = (
        alt.Chart(alt.Data(values=rows), title=title, width=WIDTH, height=220)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=None),
            y=alt.Y(f"{y}:Q", title=None, axis=axis),
            color=alt.Color(f"{series}:N", title=None, legend=alt.Legend(orient="bottom")),
        )
    )
    return _svg(chart)


def stacked_bars(rows: list[dict[str, t.Any]], category: str, value: str, part: str, title: str) -> str:
    """Horizontal bars, one per category, split into parts (shares of the whole bar)."""
    chart = (
        alt.Chart(alt.Data(values=rows), title=title, width=WIDTH - 120)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None, sort=None),
            x=alt.X(f"{value}:Q", title=None, stack="normalize", axis=alt.Axis(format="%")),
            color=alt.Color(f"{part}:N", title=None, legend=alt.Legend(orient="bottom")),
        )
    )
    return _svg(chart)


def bars(rows: list[dict[str, t.Any]], category: str, value: str, title: str, percent: bool = False) -> str:
    axis = alt.Axis(format="%") if percent else alt.Axis()
    chart = (
        alt.Chart(alt.Data(values=rows), title=title, width=WIDTH - 120)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", title=None, sort=None),
            x=alt.X(f"{value}:Q", title=None, axis=axis),
        )
    )
    return _svg(chart)

"""The page: one HTML file, its CSS and SVG charts inline (nothing to fetch)."""

from __future__ import annotations

import datetime as dt

import jinja2

from consent_report.model import Section


def page(sections: list[Section], warehouse: str, as_of: dt.date, built: dt.datetime) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("consent_report", "templates"), autoescape=True, keep_trailing_newline=True
    )
    return environment.get_template("report.html.j2").render(
        sections=sections, warehouse=warehouse, as_of=as_of.isoformat(), built=f"{built:%Y-%m-%d %H:%M} UTC"
    )

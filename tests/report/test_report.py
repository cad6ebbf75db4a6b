"""The consent report, built by its command from a warehouse the real pipeline loaded, looked at in Debian's
headless Chromium: it loads offline without errors, every section and chart is visible at a phone's and a
desktop's width with nothing cut off, and the numbers read from its DOM equal the marts queried directly."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import psycopg
import pytest
from selenium.webdriver.common.by import By

from tests.report import browser, expected
from tests.report.conftest import SCREENSHOTS, Built

pytestmark = [pytest.mark.pipeline, pytest.mark.xdist_group("meltano-project")]

LOCAL_SCHEMES = ("file", "data", "chrome", "chrome-untrusted", "about", "blob")
SECTIONS = ("consent", "tcf", "requests", "audiences", "health")
#: (section, chart) every page built from a loaded warehouse shows
CHARTS = {
    "consent: daily trend",
    "consent: choices by country",
    "tcf: purposes",
    "tcf: vendors",
    "requests: open and closed",
    "audiences: size over time",
}
READ_TABLES = """
return Object.fromEntries([...document.querySelectorAll('table[data-table]')].map(table => [
    table.dataset.table,
    [...table.tBodies[0].rows].map(row => [...row.cells].map(cell => cell.textContent.trim()))]));
"""


def build_report(built: Built, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "consent_report.cli", *built.args, "--meltano-db", str(built.meltano_db)]
    command += ["--logs", str(built.log), "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def duckdb_page(duckdb_warehouse, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "index.html"
    proc = build_report(duckdb_warehouse, out)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    for name in ("consent overview", "TCF", "subject requests", "audiences", "data health"):  # a progress line each
        assert any(line.startswith(f"  {name}: ok in ") for line in lines), proc.stderr
    return out


@pytest.fixture
def page(request):
    """Chromium at a width (fails, never skips, when Debian's chromium is missing: scripts/test installs it)."""
    missing = browser.available()
    assert missing is None, f"the report's browser tests need Debian's chromium: {missing}"
    width, height = request.param
    opened = browser.launch(width, height)
    opened.requests()  # the browser's own start-up requests (its new-tab page), before the report
    yield opened
    opened.quit()


def open_page(opened: browser.Browser, path: Path) -> None:
    opened.driver.get(path.as_uri())
    requests = opened.requests()
    assert path.as_uri() in requests
    # every request stays on the machine: the page's file, inline data, the browser's own chrome:// pages
    assert [url for url in requests if urlsplit(url).scheme not in LOCAL_SCHEMES] == []
    assert [entry for entry in opened.console() if entry["level"] in ("SEVERE", "WARNING")] == []


def dom_tables(opened: browser.Browser) -> dict[str, list[list[str]]]:
    return opened.driver.execute_script(READ_TABLES)


def as_of(opened: browser.Browser) -> dt.date:
    return dt.date.fromisoformat(opened.driver.find_element(By.CSS_SELECTOR, "[data-as-of]").text)


@pytest.mark.parametrize("page", [browser.PHONE, browser.DESKTOP], ids=["phone", "desktop"], indirect=True)
def test_every_section_and_chart_is_visible_and_nothing_is_cut_off(page, duckdb_page):
    open_page(page, duckdb_page)
    driver = page.driver
    width = driver.execute_script("return document.documentElement.clientWidth")
    assert width == page.width  # the phone's 390 px really are the page's width
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width  # no sideways scrolling
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for key in SECTIONS:
        section = driver.find_element(By.ID, key)
        driver.execute_script("arguments[0].scrollIntoView()", section)
        assert section.is_displayed() and section.size["height"] > 0
        assert section.find_element(By.CSS_SELECTOR, ".question").is_displayed()
        assert section.find_element(By.CSS_SELECTOR, ".how").is_displayed()
        assert section.find_elements(By.CSS_SELECTOR, "[data-empty]") == []  # the loaded warehouse has data everywhere
        right = section.rect["x"] + section.rect["width"]
        for figure in section.find_elements(By.CSS_SELECTOR, "figure svg"):
            assert figure.is_displayed() and figure.size["width"] > 100 and figure.size["height"] > 50
            assert section.rect["x"] <= figure.rect["x"] and figure.rect["x"] + figure.rect["width"] <= right + 0.5
        page.screenshot(section, SCREENSHOTS / f"{width}px-{key}.png")
    charts = {
        figure.get_attribute("data-chart") for figure in driver.find_elements(By.CSS_SELECTOR, "figure[data-chart]")
    }
    assert charts == CHARTS


@pytest.mark.parametrize("page", [browser.DESKTOP], ids=["desktop"], indirect=True)
def test_numbers_in_the_page_equal_the_marts_on_duckdb(page, duckdb_page, duckdb_warehouse):
    open_page(page, duckdb_page)

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(duckdb_warehouse.args[1], read_only=True) as conn:
            return conn.execute(sql).fetchall()

    shown = dom_tables(page)
    assert_tables(shown, query)
    assert sorted(shown["consent-daily"]) == sorted(expected.consent_daily(query))
    health = expected.health(query, duckdb_warehouse.meltano_db, duckdb_warehouse.log, as_of(page))
    assert sorted(shown["health-sources"]) == sorted(health)
    assert sorted(shown["health-warnings"]) == sorted(expected.warnings(duckdb_warehouse.log))


def assert_tables(shown: dict[str, list[list[str]]], query) -> None:
    assert shown["consent-kpis"] == expected.consent_kpis(query)
    splits = (
        ("source", "source"),
        ("cmp_id", "CMP"),
        ("site", "site"),
        ("country", "country"),
        ("device_id", "device"),
    )
    for column, label in splits:
        assert sorted(shown[f"consent-by-{label}"]) == sorted(expected.consent_split(query, column)), label
    assert {row[0] for row in shown["consent-by-source"]} == {"consentmanager", "didomi"}
    assert sorted(shown["tcf-purposes"]) == sorted(expected.tcf(query, "purpose"))
    assert sorted(shown["tcf-vendors"]) == sorted(expected.tcf(query, "vendor"))
    assert sorted(shown["requests-by-system"]) == sorted(expected.requests(query))
    assert sorted(shown["audiences-latest"]) == sorted(expected.audiences(query))
    assert all(len(rows) > 0 for rows in shown.values()), {key: len(rows) for key, rows in shown.items()}


@pytest.mark.parametrize("page", [browser.DESKTOP], ids=["desktop"], indirect=True)
def test_the_report_on_postgres_equals_its_marts(page, postgres_warehouse, tmp_path):
    out = tmp_path / "index.html"
    proc = build_report(postgres_warehouse, out)
    assert proc.returncode == 0, proc.stderr
    assert postgres_warehouse.uri not in proc.stderr + out.read_text()  # the URI (it may hold a password) never shows
    open_page(page, out)

    def query(sql: str) -> list[tuple]:
        with psycopg.connect(postgres_warehouse.uri) as conn:
            return [tuple(expected.plain(value) for value in row) for row in conn.execute(sql).fetchall()]

    shown = dom_tables(page)
    assert_tables(shown, query)
    assert sorted(shown["consent-daily"]) == sorted(expected.consent_daily(query))
    health = expected.health(query, postgres_warehouse.meltano_db, postgres_warehouse.log, as_of(page))
    assert sorted(shown["health-sources"]) == sorted(health)


@pytest.mark.parametrize("page", [browser.PHONE], ids=["phone"], indirect=True)
def test_an_empty_warehouse_says_so_in_words(page, tmp_path):
    """A warehouse no tap has loaded: every section says in a sentence that it has no data, and draws no chart."""
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    built = Built(["--duckdb", str(empty)], tmp_path / "no-meltano.db", tmp_path / "no.log")
    proc = build_report(built, tmp_path / "index.html")
    assert proc.returncode == 0, proc.stderr
    assert all(
        f"  {name}: empty in " in proc.stderr for name in ("consent overview", "TCF", "audiences", "data health")
    )
    open_page(page, tmp_path / "index.html")
    for key in SECTIONS:
        section = page.driver.find_element(By.ID, key)
        message = section.find_element(By.CSS_SELECTOR, "[data-empty]")
        assert message.is_displayed() and message.text.startswith("No ")
        assert section.find_elements(By.CSS_SELECTOR, "figure") == []


def test_a_missing_warehouse_is_one_line(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "consent_report.cli",
            "--duckdb",
            str(tmp_path / "nothing.duckdb"),
            "--out",
            str(tmp_path / "x.html"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"consent-report: no warehouse at {tmp_path / 'nothing.duckdb'}: run ./scripts/main-job first"
    ]
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.html").exists()

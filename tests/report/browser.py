"""Debian's headless Chromium driven by selenium (chromedriver), for looking at the report as a person would.

Every request the page makes is recorded from Chromium's performance log (CDP Network events), and the
console from its browser log, so a test can say that nothing left the machine and nothing failed.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
PHONE, DESKTOP = (390, 844), (1280, 900)


def available() -> str | None:
    """Why Chromium cannot run here (None: it can). scripts/test installs it when it is missing."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return f"missing {', '.join(missing)} (apt-get install chromium chromium-driver)" if missing else None


@dataclass
class Browser:
    driver: webdriver.Chrome
    profile: str
    width: int

    def requests(self) -> list[str]:
        """The URL of every request the page made since the last call (CDP Network.requestWillBeSent)."""
        urls = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def console(self) -> list[dict[str, t.Any]]:
        return list(self.driver.get_log("browser"))

    def screenshot(self, element: t.Any, path: Path) -> None:
        """The whole element, also where it is taller than the window (CDP Page.captureScreenshot with a clip)."""
        x, y, width, height = self.driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];",
            element,
        )
        clip = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def quit(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


def launch(width: int, height: int) -> Browser:
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    # a window is never narrower than ~500 px; the viewport of a phone is set the way DevTools' device mode does
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    return Browser(driver, profile, width)

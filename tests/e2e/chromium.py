"""Headless Chromium for the pages' browser tests: Debian's chromium driven by Selenium
through the system's chromedriver (no browser download: the network is closed), and the
colour helpers the tests compare with. The `browser` fixture is in conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The network is closed: without the background-networking flags Chromium waits on refused connections.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1440,1200",
)
KEY_STORAGE = "citybrain.dashboard.apiKey"  # where the pages keep the key they asked for


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def css_rgb(css: str) -> tuple[int, int, int]:
    # "rgb(255, 126, 0)" or "rgba(255, 126, 0, 1)"
    parts = css[css.index("(") + 1 : css.index(")")].split(",")
    return int(parts[0]), int(parts[1]), int(parts[2])


def chromium(profile: Path):
    """A fresh browser (its own profile: no key stored yet) logging the console."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing on CI: .ci/run installs chromium and chromium-driver")
        pytest.skip("no /usr/bin/chromium here (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(profile / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def save_whole_page(driver, path: Path) -> None:
    """A screenshot of the whole page: the window grown until its viewport holds the document."""
    for _ in range(3):
        page_height, viewport = driver.execute_script(
            "return [document.documentElement.scrollHeight, window.innerHeight]"
        )
        if viewport >= page_height:
            break
        width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
        driver.set_window_size(width, min(height + page_height - viewport, 8000))
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]

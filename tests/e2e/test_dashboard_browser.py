"""The operations dashboard in a real browser: Debian's headless Chromium, driven by
Selenium through the system's chromedriver, against the demo district (conftest's `demo`,
its feed quickened). The page asks for a key, draws its charts, shows an alert opened
over the API within one refresh, paints each town's tile in the colour of its HJ 633-2026
level, and logs no error to the console. The last view is saved as build/dashboard.png.

Skipped when /usr/bin/chromium is absent, except on CI (CI=true), where .ci/run installs it
and a missing browser fails."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from citybrain.core.timeutil import now_ms, parse_instant
from citybrain.sensing.aqi import air_quality, level
from tests.e2e.chromium import KEY_STORAGE, console_errors, css_rgb, rgb, save_whole_page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "dashboard.png"
REFRESH_SECONDS = 2  # the page's default is 30; ?refresh= shortens it for the test
SLOW_REQUEST = 15  # what one refresh's request may take on a busy machine (the demo feed runs meanwhile)

# In one go, so that no refresh comes between: which overview is drawn, and how it lists the alert.
NEWEST_OVERVIEW = """
var overview = document.getElementById('overview');
var row = document.querySelector('#alerts tr[data-alert-id="' + arguments[0] + '"]');
var tile = document.querySelector('#towns .tile[data-town="' + arguments[1] + '"] .tile-alerts');
return {
  generated: overview.getAttribute('data-generated-at'),
  row: row && {
    device: row.querySelector('.device-name').textContent,
    severity: row.querySelector('.chip').textContent,
    town: row.children[4].textContent
  },
  markup: document.querySelectorAll('#alerts b').length,
  town_alerts: tile && tile.textContent
};
"""

TILES = """
return Array.from(document.querySelectorAll('#towns .tile')).map(function (tile) {
  var concentrations = {};
  tile.querySelectorAll('.concentration').forEach(function (item) {
    concentrations[item.getAttribute('data-pollutant')] = Number(item.getAttribute('data-value'));
  });
  return {
    town: tile.getAttribute('data-town'),
    background: getComputedStyle(tile).backgroundColor,
    aqi: tile.querySelector('.tile-aqi').textContent,
    level: tile.querySelector('.tile-level').textContent,
    concentrations: concentrations
  };
});
"""


def test_the_dashboard_in_chromium_on_the_demo_district(demo, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    keys = json.loads((demo.local_dir / "demo-keys.json").read_text())["departments"]
    key = keys["environment"]["api_key"]
    address = f"{demo.api_url}/dashboard"
    demo.eventually(lambda: address in demo.log_path.read_text(), timeout=30, what=f"{address} printed by the demo")

    def wait(seconds: float):
        return WebDriverWait(browser, seconds, poll_frequency=0.2)

    # A fresh browser: the page asks for the key first, and reads nothing before it has one.
    browser.get(f"{demo.api_url}/dashboard?refresh={REFRESH_SECONDS}")
    wait(20).until(shown.visibility_of_element_located((By.ID, "key-prompt")))
    assert not browser.find_element(By.ID, "overview").is_displayed()
    assert browser.find_element(By.ID, "refresh-seconds").text == str(REFRESH_SECONDS)
    browser.find_element(By.ID, "key-input").send_keys(key)
    browser.find_element(By.ID, "key-submit").click()
    wait(20).until(shown.visibility_of_element_located((By.ID, "overview")))
    assert not browser.find_element(By.ID, "key-prompt").is_displayed()
    assert browser.execute_script(f"return localStorage.getItem('{KEY_STORAGE}')") == key

    # Every town's tile, each with an AQI once its station has reported (every 1.5 s in the quickened demo).
    def rated_tiles(driver):
        tiles = driver.execute_script(TILES)
        return tiles if len(tiles) == 7 and all(t["concentrations"] for t in tiles) else False

    tiles = wait(90).until(rated_tiles, "every town's tile with an AQI")

    # Each tile is painted in the colour HJ 633-2026 gives the AQI of the concentrations it shows.
    for tile in tiles:
        expected = air_quality(tile["concentrations"])
        assert expected is not None, tile
        found = level(expected["airQualityIndex"])
        assert tile["aqi"] == str(expected["airQualityIndex"]), tile
        assert tile["level"] == found.name, tile
        assert css_rgb(tile["background"]) == rgb(found.rgb), (tile, found)

    # The charts: inline SVG with a size, holding what they draw.
    charts = {"trend-aqi": "rect.bar", "trend-speed": "path.line", "trend-water": "path.line", "town-chart": "rect.bar"}
    for chart, mark in charts.items():
        svg = browser.find_element(By.CSS_SELECTOR, f"#{chart} svg")
        assert svg.size["width"] > 0 and svg.size["height"] > 0, chart
        assert svg.find_elements(By.CSS_SELECTOR, mark), f"{chart} draws no {mark}"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#town-chart rect.bar")) == 7
    assert len(browser.find_elements(By.CSS_SELECTOR, "#domains .card")) == 6

    # A gauge of the safety department crosses its warning level, reported over the API as gateways do.
    safety = keys["safety"]["api_key"]
    gauge = f"e2e-dash-{uuid.uuid4().hex[:8]}"
    name = "<b>西江大堤</b>九江段测试水位站"  # shown as text, never as markup
    demo.device(
        safety,
        gauge,
        "water_level",
        "safety",
        "九江镇",
        name=name,
        thresholds={"warning": 1.0, "guarantee": 2.0},
    )
    reading = {"device_id": gauge, "observed_at": now_ms(), "values": {"waterLevel": 1.5}}
    assert demo.post("/v1/readings", safety, {"readings": [reading]}).status_code == 202

    def stored_alert():
        items = demo.get("/v1/alerts", safety, device=gauge).json()["items"]
        return items[0] if items else None

    alert = demo.eventually(stored_alert, timeout=60, interval=0.2, what=f"the floodRisk alert of {gauge}")
    stored_at, started = now_ms(), time.monotonic()

    # The first overview the page draws after that (one refresh later) must list it.
    def next_overview(driver):
        drawn = driver.execute_script(NEWEST_OVERVIEW, alert["id"], "九江镇")
        return drawn if drawn["generated"] and parse_instant(drawn["generated"]) > stored_at else False

    drawn = wait(REFRESH_SECONDS + SLOW_REQUEST).until(next_overview, "the next refresh")
    assert drawn["row"], f"the overview of {drawn['generated']} does not show alert {alert['id']}, stored before it"
    assert time.monotonic() - started <= REFRESH_SECONDS + SLOW_REQUEST
    assert drawn["row"] == {"device": name, "severity": "严重", "town": "九江镇"}  # high, its name as text
    assert drawn["markup"] == 0
    assert drawn["town_alerts"].startswith("告警 ")

    # The key stays with the browser: a reload shows the overview without asking again.
    browser.refresh()
    wait(20).until(shown.visibility_of_element_located((By.ID, "overview")))
    assert not browser.find_element(By.ID, "key-prompt").is_displayed()
    wait(20).until(shown.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-alert-id='{alert['id']}']")))

    save_whole_page(browser, SCREENSHOT)
    errors = console_errors(browser)
    assert errors == [], errors

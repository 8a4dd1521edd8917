"""The big-safety view in a real browser: Debian's headless Chromium, driven by Selenium
through the system's chromedriver, against the local stack's empty district (conftest's
`stack`). A water gauge in 九江镇 bound to a major risk point reads over its guarantee level,
so an alert opens and fusion makes the point's incident; a case is reported and dispatched.
The page asks for a key, draws the seven towns as an SVG map with the risk point's marker in
its level's colour, lists the incident in its grade's colour and the department's on-time
bars, sets names as text, and logs no error to the console. The view is saved as
build/safety.png.

Skipped when /usr/bin/chromium is absent, except on CI (CI=true), where .ci/run installs it
and a missing browser fails."""

from __future__ import annotations

import uuid

from citybrain.core.timeutil import now_ms
from citybrain.core.vocabulary import Town
from tests.e2e.chromium import KEY_STORAGE, console_errors, css_rgb, rgb, save_whole_page
from tests.e2e.conftest import ROOT

SCREENSHOT = ROOT / "build" / "safety.png"
REFRESH_SECONDS = 2
FUSED_WITHIN = 60

DRAWN = """
var overview = document.getElementById('overview');
var marker = document.querySelector('#map g.marker[data-risk-point="' + arguments[0] + '"]');
var item = document.querySelector('#incidents li[data-incident-id="' + arguments[1] + '"]');
var rate = document.querySelector('#rates g.rate[data-department="' + arguments[2] + '"]');
var row = document.querySelector('#points tr[data-risk-point="' + arguments[0] + '"]');
return {
  generated: overview.getAttribute('data-generated-at'),
  towns: Array.from(document.querySelectorAll('#map svg path.town')).map(function (t) {
    return t.getAttribute('data-town');
  }),
  marker: marker && {
    state: marker.getAttribute('data-state'),
    level: marker.getAttribute('data-level'),
    fill: getComputedStyle(marker.querySelector('circle.dot')).fill,
    halos: marker.querySelectorAll('circle.halo').length,
    title: marker.querySelector('title').textContent
  },
  incident: item && {
    chip: item.querySelector('.grade-chip').textContent,
    background: getComputedStyle(item.querySelector('.grade-chip')).backgroundColor,
    town: item.querySelector('.incident-town').textContent
  },
  grade_tile: getComputedStyle(document.querySelector('#grades [data-grade="III"]')).backgroundColor,
  rate: rate && rate.querySelectorAll('rect.bar').length,
  row_name: row && row.querySelector('.point-name').textContent,
  markup: document.querySelectorAll('#overview b').length
};
"""


def test_the_big_safety_view_in_chromium(stack, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    suffix = uuid.uuid4().hex[:6]
    water_id = f"e2e-sv-water-{suffix}"
    water = stack.department(water_id, "区水利局（态势）")
    gauge = f"e2e-sv-jj-{suffix}"
    stack.device(
        water,
        gauge,
        type_="water_level",
        domain="urban",
        town="九江镇",
        location={"lat": 22.85, "lon": 113.04},
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    name = "<b>九江</b>下穿隧道（态势）"  # shown as text, never as markup
    point = stack.post(
        "/v1/risk-points",
        water,
        {
            "name": name,
            "category": "natural_disaster",
            "kind": "下穿隧道",
            "town": "九江镇",
            "location": {"lat": 22.85, "lon": 113.04},
            "risk_level": "major",
            "devices": [gauge],
        },
    )
    assert point.status_code == 201, point.text
    point_id = point.json()["id"]
    reading = {"device_id": gauge, "observed_at": now_ms(), "values": {"waterLevel": 6.9}}
    assert stack.post("/v1/readings", water, {"readings": [reading]}).status_code == 202

    def fused():
        items = stack.get("/v1/incidents", water, town="九江镇", status="open").json()["items"]
        return [i for i in items if point_id in i["risk_points"]]

    (incident,) = stack.eventually(fused, timeout=FUSED_WITHIN, interval=1, what="the risk point's incident")
    assert incident["grade"] == "III"

    case = stack.post(
        "/v1/cases",
        water,
        {
            "category": "事件",
            "subcategory": "下穿隧道积水",
            "description": "九江下穿隧道积水，需封闭抽排",
            "town": "九江镇",
            "location": {"lat": 22.85, "lon": 113.04},
            "grade": "III",
            "incident_id": incident["id"],
        },
    )
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    assert stack.post(f"/v1/cases/{case_id}/register", stack.admin_key, {}).status_code == 200
    dispatched = stack.post(f"/v1/cases/{case_id}/dispatch", stack.admin_key, {"lead": water_id})
    assert dispatched.status_code == 200, dispatched.text

    def wait(seconds: float):
        return WebDriverWait(browser, seconds, poll_frequency=0.2)

    # A fresh browser: the page asks for the key first.
    browser.get(f"{stack.api_url}/dashboard/safety?refresh={REFRESH_SECONDS}")
    wait(20).until(shown.visibility_of_element_located((By.ID, "key-prompt")))
    assert not browser.find_element(By.ID, "overview").is_displayed()
    assert browser.find_element(By.ID, "refresh-seconds").text == str(REFRESH_SECONDS)
    browser.find_element(By.ID, "key-input").send_keys(water)
    browser.find_element(By.ID, "key-submit").click()
    wait(20).until(shown.visibility_of_element_located((By.ID, "overview")))
    assert browser.execute_script(f"return localStorage.getItem('{KEY_STORAGE}')") == water

    def drawn(driver):
        found = driver.execute_script(DRAWN, point_id, incident["id"], water_id)
        return found if found["marker"] and found["incident"] and found["rate"] else False

    found = wait(REFRESH_SECONDS + 20).until(drawn, "the risk point, its incident and the department's rates")
    assert sorted(found["towns"]) == sorted(t.value for t in Town)  # the seven towns, each a region
    assert found["marker"]["state"] == "incident" and found["marker"]["level"] == "major"
    assert css_rgb(found["marker"]["fill"]) == rgb("#D7191C")  # 重大风险: red
    assert found["marker"]["halos"] == 2 and found["marker"]["title"].startswith(name)
    assert found["incident"]["chip"] == "III 级 较大" and found["incident"]["town"] == "九江镇"
    assert css_rgb(found["incident"]["background"]) == rgb("#FFD700")  # 较大: yellow
    assert css_rgb(found["grade_tile"]) == rgb("#FFD700")
    assert found["rate"] == 2  # acknowledged on time, closed on time
    assert found["row_name"] == name and found["markup"] == 0

    # The marker sits inside 九江镇's region on the map.
    marker = browser.find_element(By.CSS_SELECTOR, f"#map g.marker[data-risk-point='{point_id}'] circle.dot")
    region = browser.find_element(By.CSS_SELECTOR, "#map path.town[data-town='九江镇']")
    inside = browser.execute_script(
        "var r = arguments[1].getBoundingClientRect(), m = arguments[0].getBoundingClientRect();"
        "var x = m.left + m.width / 2, y = m.top + m.height / 2;"
        "return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;",
        marker,
        region,
    )
    assert inside

    # The link back to the operations dashboard.
    link = browser.find_element(By.CSS_SELECTOR, "a.nav-link")
    assert link.get_attribute("href") == f"{stack.api_url}/dashboard"

    save_whole_page(browser, SCREENSHOT)
    errors = console_errors(browser)
    assert errors == [], errors

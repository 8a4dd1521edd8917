"""The dashboard through the API on the emulated AWS: the public page and its assets, and
the overview its script reads with a department's key, from readings posted over HTTP."""

from __future__ import annotations

from citybrain.core import timeutil
from citybrain.dashboard.page import ASSETS, CONTENT_SECURITY_POLICY
from citybrain.sensing.aqi import air_quality, level
from tests.integration.helpers import department, device, headers, post, process_all


def test_the_page_is_public_and_served_with_its_policy(api):
    response = api.http.get("/dashboard")
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.body.decode("utf-8")
    assert html.startswith("<!doctype html>") and "城市运行总览" in html
    assert 'data-refresh-seconds="30"' in html

    quick = api.http.get("/dashboard?refresh=5")
    assert quick.status_code == 200 and 'data-refresh-seconds="5"' in quick.body.decode("utf-8")
    bad = api.http.get("/dashboard?refresh=0")
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "refresh"


def test_each_asset_is_served_with_its_content_type_and_nothing_else_is(api):
    for name, content_type in ASSETS.items():
        response = api.http.get(f"/dashboard/{name}")
        assert response.status_code == 200, (name, response.body)
        assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8", name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.body
    for path in ("/dashboard/index.html", "/dashboard/service.py", "/dashboard/..%2Fpage.py", "/dashboard/static"):
        assert api.http.get(path).status_code in (403, 404), path


def test_the_overview_needs_a_key(api):
    assert api.http.get("/v1/dashboard").status_code == 401
    assert api.http.get("/v1/dashboard", headers=headers("cb_not_a_key")).status_code == 401


def test_the_overview_shows_towns_aqi_by_2026_alerts_and_trends_from_posted_readings(api):
    environment = department(api, "environment", "区生态环境局")
    safety = department(api, "safety", "区应急管理局")
    health = department(api, "health", "区卫生健康局")  # any department reads the overview
    device(api, environment, "gc-air-01", name="桂城空气站")
    device(api, environment, "gc-air-02")
    device(api, environment, "dl-air-01", town="大沥镇")  # never reports
    device(
        api,
        safety,
        "jj-water-01",
        type_="water_level",
        domain="safety",
        town="九江镇",
        name="西江大堤<九江段>",
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    t = timeutil.now_ms() - 30_000
    for station, pm25 in (("gc-air-01", [20.0, 40.0]), ("gc-air-02", [100.0, 120.0])):
        readings = [{"device_id": station, "observed_at": t + i, "values": {"pm25": v}} for i, v in enumerate(pm25)]
        assert post(api, "/v1/readings", environment, {"readings": readings}).status_code == 202
    water = [{"device_id": "jj-water-01", "observed_at": t, "values": {"waterLevel": 5.4}}]
    assert post(api, "/v1/readings", safety, {"readings": water}).status_code == 202
    process_all(api)

    response = api.http.get("/v1/dashboard", headers=headers(health))
    assert response.status_code == 200, response.body
    overview = response.json_body
    towns = {town["town"]: town for town in overview["towns"]}
    guicheng = towns["桂城街道"]["air"]
    # The stations' hourly means are 30 and 110 µg/m³: the town's 70 is 轻度污染 under HJ 633-2026.
    expected = air_quality({"pm25": 70.0})
    assert guicheng["concentrations"] == {"pm25": 70.0} and guicheng["stations"] == 2
    assert (guicheng["aqi"], guicheng["level"]) == (expected["airQualityIndex"], "轻度污染")
    assert guicheng["rgb"] == level(expected["airQualityIndex"]).rgb == "#FF7E00"
    assert guicheng["hour"] == timeutil.local_hour(t)
    assert (towns["大沥镇"]["air"], towns["大沥镇"]["air_label"], towns["大沥镇"]["stations"]) == (None, "无数据", 1)

    [alert] = overview["alerts"]["items"]
    assert (alert["subCategory"], alert["severity"], alert["status"]) == ("floodRisk", "high", "open")
    assert alert["device_name"] == "西江大堤<九江段>" and alert["town"] == "九江镇"
    assert towns["九江镇"]["alerts"]["active"] == 1 and overview["district"]["alerts"]["worst_severity"] == "high"
    assert overview["district"]["water"]["at_or_above_warning"] == 1
    assert overview["district"]["devices"] == {"devices": 4, "online": 3, "offline": 0, "never_reported": 1}
    trends = overview["trends"]
    hour = trends["hours"].index(timeutil.local_hour(t))  # the current hour, or the last one just after it turned
    assert trends["air"][hour]["aqi"] == guicheng["aqi"]  # the district is 桂城 alone
    assert trends["water_margin_m"][hour] == 0.4
    assert overview["exchange"]["date"] == timeutil.local_date(timeutil.now_ms())
    assert overview["generated_at"].endswith("+08:00")

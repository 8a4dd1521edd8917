"""The operations dashboard's overview on in-memory readers, and its page and assets."""

from __future__ import annotations

import re
from typing import Any

import pytest

from citybrain.core import timeutil
from citybrain.core.errors import ValidationFailed
from citybrain.core.responses import shaped
from citybrain.core.vocabulary import Town
from citybrain.dashboard import page, service
from citybrain.dashboard.responses import DashboardOverview
from citybrain.dashboard.service import Dashboard, area_air
from citybrain.sensing.aqi import air_quality, level

NOW = timeutil.parse_instant("2026-11-27T14:20:00+08:00")
HOUR = "2026-11-27T14"


def rollup(device_id: str, hour: str, values: dict[str, list[float]]) -> dict[str, Any]:
    """A stored rollup of the readings `values` lists per value name."""
    return {
        "device_id": device_id,
        "hour": hour,
        "count": max(len(v) for v in values.values()),
        "values": {
            name: {"n": len(series), "sum": sum(series), "min": min(series), "max": max(series)}
            for name, series in values.items()
        },
    }


def device(device_id: str, type_: str, town: str = "桂城街道", domain: str = "environment", **extra) -> dict:
    return {"id": device_id, "type": type_, "domain": domain, "town": town, "reporting_interval_seconds": 600, **extra}


class Registry:
    def __init__(self, devices: list[dict]):
        self.devices = sorted(devices, key=lambda d: d["id"])
        self.pages = 0

    def list(self, filters, limit, cursor):
        self.pages += 1
        start = (
            next((i for i, d in enumerate(self.devices) if d["id"] > cursor["id"]), len(self.devices)) if cursor else 0
        )
        page = self.devices[start : start + limit]
        more = start + limit < len(self.devices)
        return page, ({"id": page[-1]["id"]} if more else None)


class Readings:
    def __init__(self, rollups: list[dict] = (), states: dict[str, dict] | None = None):
        self.stored = {(r["device_id"], r["hour"]): r for r in rollups}
        self.stored_states = states or {}
        self.asked: list[tuple[list[str], list[str]]] = []

    def rollups(self, device_ids, hours):
        device_ids, hours = list(device_ids), list(hours)
        self.asked.append((device_ids, hours))
        return {(d, h): self.stored[(d, h)] for d in device_ids for h in hours if (d, h) in self.stored}

    def states(self, device_ids):
        return {d: self.stored_states[d] for d in device_ids if d in self.stored_states}


class Alerts:
    """The alert store's active-index: only open and acknowledged alerts, newest first."""

    def __init__(self, alerts: list[dict]):
        self.alerts = sorted(alerts, key=lambda a: a["issued_ms"], reverse=True)

    def active_alerts(self):
        return [a for a in self.alerts if a["status"] in ("open", "acknowledged")]


class Stats:
    def __init__(self, days: dict[str, list[dict]] | None = None):
        self.days = days or {}

    def day(self, day):
        return self.days.get(day, [])


class Departments:
    def names(self):
        return {"environment": "区生态环境局", "health": "区卫生健康局"}


def alert(
    alert_id: str,
    issued: str,
    *,
    status: str = "open",
    severity: str = "high",
    town: str = "桂城街道",
    domain: str = "environment",
    device_id: str = "gc-air-1",
    rule: str = "aqi",
) -> dict:
    at = timeutil.parse_instant(issued)
    return {
        "id": alert_id,
        "type": "Alert",
        "category": "environment",
        "subCategory": "airPollution",
        "severity": severity,
        "status": status,
        "rule": rule,
        "device_id": device_id,
        "alertSource": device_id,
        "town": town,
        "domain": domain,
        "description": "AQI 超过阈值",
        "issued_ms": at,
        "dateIssued": timeutil.local_iso(at),
        "lastSeen": timeutil.local_iso(at),
        "last_seen_ms": at,
        "peakAt": timeutil.local_iso(at),
        "peakValue": 230,
        "occurrences": 2,
        "data": {},
        "version": 3,
        "history": [],
    }


def dashboard(devices=(), rollups=(), states=None, alerts=(), stats=None) -> Dashboard:
    return Dashboard(
        Registry(list(devices)),
        Readings(list(rollups), states),
        Alerts(list(alerts)),
        Stats(stats),
        Departments(),
        clock=lambda: NOW,
    )


def town(overview: dict, name: str) -> dict:
    return next(t for t in overview["towns"] if t["town"] == name)


# -- air, by HJ 633-2026 ------------------------------------------------------------------
def test_a_town_s_aqi_is_computed_from_the_mean_of_its_stations_hourly_means_by_the_2026_table():
    # Hourly means 30 and 110 µg/m³ PM2.5: the town's mean is 70. Under HJ 633-2026 70 is
    # 轻度污染 (IAQI 110, the 100 breakpoint is 60); the 2012 table (75 at 100) said 良 (94).
    # The mean of the two stations' AQIs (43 and 146) would have been 良 as well.
    stations = [device("gc-air-1", "air_quality"), device("gc-air-2", "air_quality")]
    rollups = [
        rollup("gc-air-1", HOUR, {"pm25": [20.0, 40.0]}),
        rollup("gc-air-2", HOUR, {"pm25": [100.0, 120.0]}),
    ]
    # The stored index of the latest readings is the 2012 one: the overview must not show it.
    old = {"airQualityIndex": 94, "airQualityLevel": "良"}
    states = {d["id"]: {"device_id": d["id"], "t": NOW - 60_000, "values": {"pm25": 70.0}, **old} for d in stations}
    overview = dashboard(stations, rollups, states).overview()
    air = town(overview, "桂城街道")["air"]
    assert air["concentrations"] == {"pm25": 70.0}
    assert (air["aqi"], air["level"], air["grade"], air["level_number"]) == (110, "轻度污染", "三级", 3)
    assert (air["colour"], air["rgb"]) == ("橙色", "#FF7E00")
    assert air["primary_pollutants"] == ["pm25"] and air["standard"] == "HJ 633-2026"
    assert (air["hour"], air["hour_label"], air["stations"]) == (HOUR, "14:00", 2)
    assert town(overview, "桂城街道")["air_label"] == "轻度污染"
    assert overview["district"]["air"]["aqi"] == 110


def test_pm25_at_70_is_lightly_polluted_under_2026_where_2012_said_good():
    found = area_air({("s", HOUR): rollup("s", HOUR, {"pm25": [70.0]})}, ["s"], HOUR)
    assert found is not None and found["level"] == "轻度污染" and found["aqi"] == 110
    assert found["rgb"] == level(110).rgb == "#FF7E00"


def test_each_pollutant_is_averaged_over_the_stations_that_measured_it():
    rollups = {
        ("a", HOUR): rollup("a", HOUR, {"pm25": [40.0], "o3": [150.0]}),
        ("b", HOUR): rollup("b", HOUR, {"pm25": [50.0], "co": [1.234, 1.24]}),
    }
    found = area_air(rollups, ["a", "b"], HOUR)
    assert found["concentrations"] == {"pm25": 45.0, "o3": 150.0, "co": 1.24}
    assert found["aqi"] == air_quality(found["concentrations"])["airQualityIndex"]
    assert found["stations"] == 2


def test_the_index_is_that_of_the_concentrations_as_shown():
    # 60.04 µg/m³ is shown as 60.0, which is IAQI 100 (良); unrounded it would be 101.
    found = area_air({("a", HOUR): rollup("a", HOUR, {"pm25": [60.04]})}, ["a"], HOUR)
    assert found["concentrations"] == {"pm25": 60.0} and (found["aqi"], found["level"]) == (100, "良")


def test_a_town_shows_the_latest_local_hour_in_which_one_of_its_stations_reported():
    stations = [device("gc-air-1", "air_quality")]
    rollups = [
        rollup("gc-air-1", "2026-11-27T12", {"pm25": [200.0]}),
        rollup("gc-air-1", "2026-11-27T13", {"pm25": [30.0]}),
    ]
    air = town(dashboard(stations, rollups).overview(), "桂城街道")["air"]
    assert (air["hour"], air["hour_label"], air["aqi"], air["level"]) == ("2026-11-27T13", "13:00", 43, "优")


def test_towns_without_data_in_the_last_24_hours_show_no_data():
    stations = [
        device("gc-air-1", "air_quality"),
        device("dl-air-1", "air_quality", town="大沥镇"),  # reported 25 hours ago only
    ]
    rollups = [
        rollup("gc-air-1", HOUR, {"pm25": [20.0]}),
        rollup("dl-air-1", "2026-11-26T13", {"pm25": [20.0]}),
    ]
    overview = dashboard(stations, rollups).overview()
    assert town(overview, "大沥镇")["air"] is None and town(overview, "大沥镇")["air_label"] == "无数据"
    assert town(overview, "大沥镇")["stations"] == 1
    lishui = town(overview, "里水镇")  # no station at all
    assert (lishui["air"], lishui["air_label"], lishui["stations"]) == (None, "无数据", 0)
    assert [t["town"] for t in overview["towns"]] == [t.value for t in Town]  # every town, in the district's order


def test_an_empty_district_has_no_data_anywhere_and_still_fits_its_model():
    overview = dashboard().overview()
    assert overview["district"]["air"] is None and overview["district"]["air_label"] == "无数据"
    assert all(t["air_label"] == "无数据" for t in overview["towns"])
    assert overview["trends"]["air"] == [None] * 24 and overview["trends"]["speed_kmh"] == [None] * 24
    assert overview["alerts"] == {"total": 0, "items": []}
    shaped(DashboardOverview, overview)


# -- trends -------------------------------------------------------------------------------
def test_the_trends_cover_the_24_local_hours_ending_with_the_current_one():
    devices = [
        device("gc-air-1", "air_quality"),
        device("gc-road-1", "traffic_flow", domain="traffic"),
        device("gc-road-2", "traffic_flow", domain="traffic"),
        device("gc-gauge", "water_level", domain="safety", thresholds={"warning": 2.3, "guarantee": 3.1}),
        device("ls-gauge", "water_level", "里水镇", "safety", thresholds={"warning": 6.9, "guarantee": 8.6}),
        device("gc-noise", "noise"),
    ]
    rollups = [
        rollup("gc-air-1", "2026-11-26T15", {"pm25": [30.0]}),
        rollup("gc-air-1", HOUR, {"pm25": [80.0], "pm10": [100.0]}),
        rollup("gc-road-1", HOUR, {"averageVehicleSpeed": [40.0, 50.0]}),
        rollup("gc-road-2", HOUR, {"averageVehicleSpeed": [20.0]}),
        rollup("gc-road-1", "2026-11-27T13", {"averageVehicleSpeed": [55.0]}),
        # Margins over each gauge's own warning level: 2.5 - 2.3 = 0.2 and 6.0 - 6.9 = -0.9.
        rollup("gc-gauge", HOUR, {"waterLevel": [2.1, 2.5]}),
        rollup("ls-gauge", HOUR, {"waterLevel": [6.0]}),
        rollup("ls-gauge", "2026-11-27T13", {"waterLevel": [6.4]}),
    ]
    board = dashboard(devices, rollups)
    trends = board.overview()["trends"]
    assert trends["hours"][0] == "2026-11-26T15" and trends["hours"][-1] == HOUR and len(trends["hours"]) == 24
    assert trends["labels"][0] == "15:00" and trends["labels"][-1] == "14:00"
    assert trends["air"][0]["aqi"] == 43 and trends["air"][1] is None
    assert trends["air"][-1]["aqi"] == air_quality({"pm25": 80.0, "pm10": 100.0})["airQualityIndex"]
    assert trends["speed_kmh"][-1] == 32.5  # the mean of the sensors' means, 45 and 20
    assert trends["speed_kmh"][-2] == 55.0 and trends["speed_kmh"][0] is None
    assert trends["water_margin_m"][-1] == 0.2 and trends["water_margin_m"][-2] == -0.5
    # Only air, traffic and water devices' rollups are read, once, for those 24 hours.
    ((asked_devices, asked_hours),) = board.readings.asked
    assert sorted(asked_devices) == ["gc-air-1", "gc-gauge", "gc-road-1", "gc-road-2", "ls-gauge"]
    assert asked_hours == trends["hours"]


def test_the_district_s_traffic_figure_is_its_latest_hour_with_a_speed():
    devices = [device("gc-road-1", "traffic_flow", domain="traffic")]
    rollups = [rollup("gc-road-1", "2026-11-27T12", {"averageVehicleSpeed": [36.0]})]
    traffic = dashboard(devices, rollups).overview()["district"]["traffic"]
    assert traffic == {"sensors": 1, "speed_kmh": 36.0, "hour_label": "12:00"}


def test_local_hours_do_not_follow_utc():
    # 00:30 local on 2026-11-28 is 16:30 UTC on the 27th: the current local hour is "2026-11-28T00".
    hours = service.last_hours(timeutil.parse_instant("2026-11-28T00:30:00+08:00"))
    assert hours[-1] == "2026-11-28T00" and hours[0] == "2026-11-27T01"


# -- devices and alerts -------------------------------------------------------------------
def test_devices_are_online_offline_or_never_reported_as_the_registry_says():
    devices = [
        device("gc-air-1", "air_quality"),
        device("gc-air-2", "air_quality"),
        device("gc-road-1", "traffic_flow", domain="traffic", reporting_interval_seconds=10),
    ]
    states = {
        "gc-air-1": {"device_id": "gc-air-1", "t": NOW - 600_000, "values": {}},  # within 3 x 600 s
        "gc-road-1": {"device_id": "gc-road-1", "t": NOW - 31_000, "values": {}},  # silent over 3 x 10 s
    }
    overview = dashboard(devices, states=states).overview()
    expected = {"devices": 3, "online": 1, "offline": 1, "never_reported": 1}
    assert overview["district"]["devices"] == expected
    assert town(overview, "桂城街道")["devices"] == expected
    domains = {d["domain"]: d for d in overview["domains"]}
    assert domains["traffic"]["devices"] == {"devices": 1, "online": 0, "offline": 1, "never_reported": 0}
    assert domains["traffic"]["name"] == "交通" and domains["environment"]["name"] == "环保"
    assert list(domains) == ["traffic", "environment", "urban", "housing", "health", "safety"]


def test_every_active_alert_is_counted_and_the_newest_are_listed_with_their_device_names():
    devices = [
        device("gc-air-1", "air_quality", name="<b>桂城</b>站"),
        device("dl-air-1", "air_quality", town="大沥镇"),
    ]
    alerts = [
        alert("al-1", "2026-11-27T09:00:00+08:00", severity="critical"),
        alert("al-2", "2026-11-27T10:00:00+08:00", status="acknowledged", severity="medium"),
        alert("al-3", "2026-11-27T11:00:00+08:00", status="resolved", severity="critical"),
        alert("al-4", "2026-11-27T14:19:00+08:00", town="大沥镇", device_id="dl-air-1"),
        alert("al-5", "2026-10-01T08:00:00+08:00", rule="offline", severity="medium", domain="traffic"),
    ]
    board = dashboard(devices, alerts=alerts)
    overview = board.overview()
    listed = overview["alerts"]
    assert listed["total"] == 4
    assert [a["id"] for a in listed["items"]] == ["al-4", "al-2", "al-1", "al-5"]
    first = listed["items"][0]
    assert first["device_name"] == "dl-air-1"  # no name: its id
    assert listed["items"][1]["device_name"] == "<b>桂城</b>站"  # as registered; the page sets it as text
    assert "version" not in first and "history" not in first and "data" not in first
    district = overview["district"]["alerts"]
    assert (district["active"], district["open"], district["acknowledged"]) == (4, 3, 1)
    assert district["worst_severity"] == "critical"
    assert district["by_severity"] == {"informational": 0, "low": 0, "medium": 2, "high": 1, "critical": 1}
    guicheng = town(overview, "桂城街道")["alerts"]
    assert (guicheng["active"], guicheng["worst_severity"]) == (3, "critical")
    assert town(overview, "九江镇")["alerts"]["worst_severity"] is None
    domains = {d["domain"]: d["alerts"]["active"] for d in overview["domains"]}
    assert domains == {"traffic": 1, "environment": 3, "urban": 0, "housing": 0, "health": 0, "safety": 0}


def test_an_alert_opened_a_moment_ago_is_in_the_next_overview():
    alerts = Alerts([])
    board = Dashboard(Registry([]), Readings(), alerts, Stats(), Departments(), clock=lambda: NOW)
    assert board.overview()["alerts"]["total"] == 0
    alerts.alerts.insert(0, alert("al-new", "2026-11-27T14:19:59+08:00"))
    assert [a["id"] for a in board.overview()["alerts"]["items"]] == ["al-new"]


def test_the_registry_is_read_page_after_page(monkeypatch):
    monkeypatch.setattr(service, "DEVICE_PAGE", 2)
    devices = [device(f"gc-air-{n}", "air_quality") for n in range(5)]
    board = dashboard(devices)
    assert board.overview()["district"]["devices"]["devices"] == 5
    assert board.devices.pages == 3


def test_water_gauges_at_or_above_their_levels_now():
    gauges = [
        device("a", "water_level", domain="safety", thresholds={"warning": 2.0, "guarantee": 3.0}),
        device("b", "water_level", domain="safety", thresholds={"warning": 5.0, "guarantee": 6.0}),
        device("c", "water_level", domain="safety", thresholds={"warning": 1.0, "guarantee": 2.0}),
    ]
    states = {
        "a": {"device_id": "a", "t": NOW, "values": {"waterLevel": 3.0}},
        "b": {"device_id": "b", "t": NOW, "values": {"waterLevel": 4.99}},
    }
    water = dashboard(gauges, states=states).overview()["district"]["water"]
    assert water == {"gauges": 3, "reporting": 2, "at_or_above_warning": 1, "at_or_above_guarantee": 1}


# -- the exchange of the day --------------------------------------------------------------
def test_the_exchange_figures_are_the_local_day_s_counters():
    # One item per subject and day, as citybrain.exchange.stats_store keeps them.
    day = {"period": "2026-11-27"}
    rows = [
        {**day, "subject": "dept#environment", "department": "environment", "datasets_published": 2, "approved": 2}
        | {"rejected": 1, "rows_provided": 45},
        {**day, "subject": "dept#health", "department": "health", "requests_made": 3, "refused": 1}
        | {"rows_received": 40},
        {**day, "subject": "pair#environment#health", "provider": "environment", "consumer": "health"}
        | {"requests": 3, "pulls": 4, "rows": 40},
        {**day, "subject": "pair#environment#market", "provider": "environment", "consumer": "market"}
        | {"pulls": 1, "rows": 5},
    ]
    exchange = dashboard(stats={"2026-11-27": rows, "2026-11-26": [rows[0]]}).overview()["exchange"]
    assert {k: v for k, v in exchange.items() if k != "top_pairs"} == {
        "date": "2026-11-27",
        "datasets_published": 2,
        "requests": 3,
        "approved": 2,
        "rejected": 1,
        "rows": 45,
        "refused": 1,
        "pulls": 5,
    }
    top = exchange["top_pairs"][0]
    assert (top["provider_name"], top["consumer_name"]) == ("区生态环境局", "区卫生健康局")
    assert (top["requests"], top["pulls"], top["rows"]) == (3, 4, 40)
    assert exchange["top_pairs"][-1]["consumer_name"] == "market"  # no name known: its id


def test_every_time_is_local():
    overview = dashboard(alerts=[alert("al-1", "2026-11-27T06:00:00Z")]).overview()
    assert overview["generated_at"] == "2026-11-27T14:20:00+08:00" and overview["date"] == "2026-11-27"
    assert overview["alerts"]["items"][0]["dateIssued"] == "2026-11-27T14:00:00+08:00"


def test_the_overview_fits_its_response_model_strictly(monkeypatch):
    monkeypatch.setenv("CITYBRAIN_STRICT_RESPONSES", "1")
    devices = [device("gc-air-1", "air_quality"), device("gc-road-1", "traffic_flow", domain="traffic")]
    rollups = [rollup("gc-air-1", HOUR, {"pm25": [70.0]}), rollup("gc-road-1", HOUR, {"averageVehicleSpeed": [30.0]})]
    overview = dashboard(devices, rollups, alerts=[alert("al-1", "2026-11-27T14:00:00+08:00")]).overview()
    assert shaped(DashboardOverview, overview) == overview


# -- the page and its assets --------------------------------------------------------------
def test_the_page_refreshes_every_30_seconds_unless_asked_otherwise():
    assert 'data-refresh-seconds="30"' in page.page({})
    assert 'data-refresh-seconds="30"' in page.page({"refresh": ""})
    assert 'data-refresh-seconds="2"' in page.page({"refresh": "2"})
    for bad in ("1", "3601", "abc", "-5", "2.5", "٥"):
        with pytest.raises(ValidationFailed) as raised:
            page.page({"refresh": bad})
        assert raised.value.errors[0]["field"] == "refresh"


def test_the_page_loads_only_its_own_assets_and_runs_no_inline_code():
    html = page.page({})
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    own = ("live.js", "dashboard.js", "dashboard.css", "icon.svg")
    assert sorted(referenced) == sorted([*(f"dashboard/{name}" for name in own), "dashboard/safety"])  # + the link
    # The big-safety view at /dashboard/safety: relative to /dashboard/, the same icon and style sheet, its own
    # script and styles, and the link back.
    safety = page.page({}, page.SAFETY_PAGE)
    referenced = re.findall(r'(?:src|href)="([^"]+)"', safety)
    assert sorted(referenced) == sorted(
        ["icon.svg", "dashboard.css", "safety.css", "live.js", "safety.js", "../dashboard"]
    )
    assert set(referenced) - {"../dashboard"} <= set(page.ASSETS)
    for text in (html, safety):
        assert not re.search(r"<script(?![^>]*\bsrc=)", text)  # no inline script
        assert not re.search(r"<style|\sstyle=|\son\w+=", text)  # no inline style or handler
    with pytest.raises(KeyError):
        page.page({}, "safety.js")
    for name in ("index.html", page.SAFETY_PAGE, *page.ASSETS):
        text = (page.STATIC / name).read_text(encoding="utf-8")
        outside = set(re.findall(r"(?:https?:)?//[\w.-]+\.\w+", text)) - {"http://www.w3.org"}
        assert not outside, (name, outside)  # no CDN, no web font: the network is closed
        assert "@import" not in text and "url(" not in text


def test_the_script_never_writes_data_as_html():
    for name in ("live.js", "dashboard.js", "safety.js"):
        script = page.asset(name)
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in script, (name, sink)
    assert "textContent" in page.asset("live.js")  # the pages' one way to put data on screen


def test_only_the_known_assets_are_served():
    assert page.asset("dashboard.css").startswith("/*")
    for name in ("index.html", "../service.py", "dashboard.js/../../page.py", "", "DASHBOARD.JS"):
        with pytest.raises(KeyError):
            page.asset(name)


def test_the_content_security_policy_allows_this_origin_only():
    policy = dict(part.split(" ", 1) for part in page.CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert "unsafe-inline" not in page.CONTENT_SECURITY_POLICY and "unsafe-eval" not in page.CONTENT_SECURITY_POLICY
    assert policy["frame-ancestors"] == "'none'"

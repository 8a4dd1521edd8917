"""Reports on the emulated AWS: asked for over HTTP or fired by the schedules, built by the
report function from the reports queue, kept with their JSON, CSV and HTML artifacts."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from urllib.parse import urlparse

import boto3
import pytest

from citybrain.core import timeutil
from infra.local.runtime import scheduled_event
from tests.integration.helpers import department, device, headers, post, process_all, receive_event

DAY = "2026-11-26"
REPORTS_QUEUE = "CITYBRAIN_REPORTS_QUEUE"


def at(local: str) -> int:
    return timeutil.parse_instant(f"{local}+08:00")


def hourly_readings(device_id: str, hours: range, values: dict, day: str = DAY) -> list[dict]:
    return [{"device_id": device_id, "observed_at": at(f"{day}T{h:02d}:30:00"), "values": values} for h in hours]


@pytest.fixture
def district(api):
    """Three air stations (one short of data), a road sensor and a water gauge, with a day of readings."""
    env = department(api, "environment", "区生态环境局")
    transport = department(api, "transport", "区交通运输局")
    water = department(api, "water", "区住建水利局")
    device(api, env, "aq-1", name="桂城<b>一号</b>站")
    device(api, env, "aq-2", name="桂城二号站")
    device(api, env, "aq-3", town="九江镇", name="九江站")
    device(api, transport, "road-1", type_="traffic_flow", domain="traffic", name="佛山大道")
    device(
        api,
        water,
        "gauge-1",
        type_="water_level",
        domain="urban",
        town="九江镇",
        name="九江水闸",
        thresholds={"warning": 5.0, "guarantee": 6.5},
    )
    batches = [
        (env, hourly_readings("aq-1", range(24), {"pm25": 70, "pm10": 80})),
        (env, hourly_readings("aq-2", range(19), {"pm25": 50, "pm10": 60})),  # 19 hours, and 23:59 below: 20
        (env, hourly_readings("aq-3", range(19), {"pm25": 200})),  # 19 hours: 数据不足
        # 23:59 local belongs to the day; 00:30 local of the next day does not
        (env, [{"device_id": "aq-2", "observed_at": at(f"{DAY}T23:59:00"), "values": {"pm25": 50, "pm10": 60}}]),
        (env, [{"device_id": "aq-1", "observed_at": at("2026-11-27T00:30:00"), "values": {"pm25": 900}}]),
        (transport, hourly_readings("road-1", range(24), {"averageVehicleSpeed": 42.0, "intensity": 300})),
        (water, hourly_readings("gauge-1", range(24), {"waterLevel": 4.0}) + hourly_readings("gauge-1", range(3), {})),
    ]
    for key, readings in batches:
        readings = [r for r in readings if r["values"]]
        response = post(api, "/v1/readings", key, {"readings": readings})
        assert response.status_code == 202 and response.json_body["rejected"] == [], response.body
    process_all(api)
    return {"env": env, "transport": transport}


def build_all(api) -> list:
    return process_all(api, "make_report", REPORTS_QUEUE)


def artifact(link: str) -> bytes:
    """The object a presigned link names (moto serves S3 in-process, not on a socket)."""
    parsed = urlparse(link)
    bucket = os.environ["CITYBRAIN_REPORTS_BUCKET"]
    key = parsed.path.lstrip("/").removeprefix(bucket + "/")
    from urllib.parse import unquote

    return boto3.client("s3").get_object(Bucket=bucket, Key=unquote(key))["Body"].read()


def test_a_daily_report_on_demand_has_every_figure_in_three_artifacts(api, district):
    response = post(api, "/v1/reports", district["env"], {"kind": "daily", "date": DAY})
    assert response.status_code == 202, response.body
    queued = response.json_body
    assert queued["status"] == "queued" and queued["period"]["label"] == DAY and queued["requested_by"] == "environment"

    build_all(api)
    report = api.http.get(f"/v1/reports/{queued['id']}", headers=headers(district["transport"])).json_body
    assert report["status"] == "done", report
    assert set(report["links"]) == {"json", "csv", "html"}
    assert report["title"] == f"城市运行日报 {DAY} · 全区"

    content = json.loads(artifact(report["links"]["json"]))
    air = content["sections"]["air"]
    assert air["standard"] == "HJ 633-2026"
    stations = {s["device_id"]: s for s in air["stations"]}
    # aq-1: 24 hours of 70; the 00:30 reading of the next day (900) is not in its day
    assert stations["aq-1"]["concentrations"]["pm25"]["value"] == pytest.approx(70)
    assert stations["aq-1"]["concentrations"]["pm25"]["count"] == 24
    assert stations["aq-1"]["aqi"]["airQualityLevel"] == "轻度污染"  # 70 > 60, the 2026 PM2.5 24-hour 100 breakpoint
    assert stations["aq-2"]["concentrations"]["pm25"]["count"] == 20  # just valid, thanks to 23:59
    assert stations["aq-2"]["aqi"] is not None
    assert (
        stations["aq-3"]["aqi"] is None and stations["aq-3"]["concentrations"]["pm25"]["shown"] == "数据不足（19/20）"
    )
    # the town: mean of its stations' daily means (70, 50) = 60 -> IAQI 100 (良), not a mean of AQIs
    guicheng = air["towns"]["桂城街道"]
    assert guicheng["concentrations"]["pm25"]["value"] == pytest.approx(60)
    assert guicheng["aqi"]["airQualityIndex"] == 100 and guicheng["aqi"]["airQualityLevel"] == "良"
    assert air["towns"]["九江镇"]["aqi"] is None
    assert air["worst_stations"] == ["aq-1"]
    assert len(air["trend"]) == 24

    traffic = content["sections"]["traffic"]
    assert traffic["roads"][0]["mean_speed_kmh"] == pytest.approx(42.0)
    water = content["sections"]["water"]
    assert water["gauges"][0]["max_level_m"] == pytest.approx(4.0)
    assert content["sections"]["devices"]
    assert "exchange" in content["sections"]

    table = artifact(report["links"]["csv"])
    assert table.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(table.decode("utf-8-sig"))))
    assert rows[0] == ["板块", "对象", "指标", "数值"]
    assert any(r[0] == "空气质量" for r in rows)

    page = artifact(report["links"]["html"]).decode("utf-8")
    assert "<svg" in page and "全区空气质量指数（AQI）趋势" in page and "各站点" in page
    assert "桂城&lt;b&gt;一号&lt;/b&gt;站" in page and "<b>一号</b>" not in page


def test_a_town_and_domain_report_keeps_to_its_scope(api, district):
    body = {"kind": "daily", "date": DAY, "town": "九江镇", "domain": "urban"}
    report_id = post(api, "/v1/reports", district["env"], body).json_body["id"]
    build_all(api)
    report = api.http.get(f"/v1/reports/{report_id}", headers=headers(district["env"])).json_body
    content = json.loads(artifact(report["links"]["json"]))
    assert content["scope"] == {"town": "九江镇", "domain": "urban"}
    assert set(content["sections"]) == {"water", "devices", "alerts"}  # no air or traffic device in scope
    assert report["title"].endswith("九江镇 · urban")


def test_an_empty_period_is_a_report_of_zeros_and_no_data(api, district):
    report_id = post(api, "/v1/reports", district["env"], {"kind": "daily", "date": "2026-06-01"}).json_body["id"]
    build_all(api)
    report = api.http.get(f"/v1/reports/{report_id}", headers=headers(district["env"])).json_body
    assert report["status"] == "done"
    content = json.loads(artifact(report["links"]["json"]))
    assert content["sections"]["air"]["district"]["aqi"] is None
    assert content["sections"]["alerts"]["opened"] == 0
    assert "无数据" in artifact(report["links"]["html"]).decode("utf-8")


def test_the_schedules_make_one_report_per_period(api, district):
    fired = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 00:30 local on 11-27
    first = api.lambda_.invoke("daily_report", scheduled_event("daily_report", fired, "ap-east-1")).payload
    again = api.lambda_.invoke("daily_report", scheduled_event("daily_report", fired, "ap-east-1")).payload
    assert first == {"id": f"rpt_daily_{DAY}_district", "period": DAY, "created": True}
    assert again["created"] is False
    hourly = api.lambda_.invoke(
        "hourly_report", scheduled_event("hourly_report", datetime(2026, 11, 26, 2, 5, tzinfo=UTC), "ap-east-1")
    ).payload
    assert hourly["period"] == f"{DAY}T09"  # fired 10:05 local: the hour 09:00-10:00
    assert _queued() == 2  # one message per report, not per firing
    build_all(api)

    listed = api.http.get(f"/v1/reports?date={DAY}", headers=headers(district["env"])).json_body["items"]
    assert {r["id"] for r in listed} == {first["id"], hourly["id"]}
    assert all(r["status"] == "done" and r["requested_by"] == "schedule" for r in listed)
    daily_only = api.http.get("/v1/reports?kind=daily", headers=headers(district["env"])).json_body["items"]
    assert [r["id"] for r in daily_only] == [first["id"]]

    hour = api.http.get(f"/v1/reports/{hourly['id']}", headers=headers(district["env"])).json_body
    content = json.loads(artifact(hour["links"]["json"]))
    air = content["sections"]["air"]
    assert air["hour"] == f"{DAY}T09"
    # the real-time index of the hour's means: pm25 70 -> IAQI 110 (60..115 -> 100..150), 轻度污染
    aq1 = air["stations"][0]
    assert aq1["device_id"] == "aq-1" and aq1["aqi"]["airQualityIndex"] == 110
    assert aq1["aqi"]["airQualityStandard"] == "HJ 633-2026"
    # the town: mean of the stations' hourly means (70, 50) = 60 -> IAQI 100
    assert air["towns"]["桂城街道"]["aqi"]["airQualityIndex"] == 100


def test_listing_pages_newest_first(api, district):
    ids = [
        post(api, "/v1/reports", district["env"], {"kind": "daily", "date": f"2026-11-{day:02d}"}).json_body["id"]
        for day in (20, 21, 22)
    ]
    first = api.http.get("/v1/reports?limit=2", headers=headers(district["env"])).json_body
    assert [r["id"] for r in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    rest = api.http.get(f"/v1/reports?limit=2&cursor={first['next_cursor']}", headers=headers(district["env"]))
    assert [r["id"] for r in rest.json_body["items"]] == [ids[0]] and rest.json_body["next_cursor"] is None


def _queued() -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=os.environ[REPORTS_QUEUE], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _reports_state():
    table = boto3.client("dynamodb").scan(TableName=os.environ["CITYBRAIN_REPORTS_TABLE"])["Items"]
    return len(table), len(receive_event(REPORTS_QUEUE)["Records"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "daily", "date": "2026-02-30"}, "date"),
        ({"kind": "daily", "date": "2999-01-01"}, "date"),
        ({"kind": "range", "from": "2026-01-01", "to": "2026-04-03"}, "to"),
        ({"kind": "weekly"}, "kind"),
        ({"kind": "daily", "town": "火星镇"}, "town"),
        ({"kind": "hourly", "hour": "2026-11-26T25"}, "hour"),
    ],
)
def test_an_impossible_report_is_a_400_naming_its_field_and_records_nothing(api, district, body, field):
    response = post(api, "/v1/reports", district["env"], body)
    assert response.status_code == 400, response.body
    assert field in [e["field"] for e in response.json_body["errors"]]
    assert _reports_state() == (0, 0)


def test_unknown_and_malformed_report_ids(api, district):
    assert api.http.get("/v1/reports/rpt_nothing", headers=headers(district["env"])).status_code == 404
    bad = api.http.get("/v1/reports/..%2F..", headers=headers(district["env"]))
    assert bad.status_code == 400 and bad.json_body["errors"][0]["field"] == "report_id"
    assert api.http.get("/v1/reports?cursor=abc", headers=headers(district["env"])).status_code == 400
    assert api.http.get("/v1/reports?date=2026-13-01", headers=headers(district["env"])).status_code == 400
    assert api.http.get("/v1/reports").status_code == 401

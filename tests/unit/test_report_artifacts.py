"""A composed report as officials read it: the HTML's charts and tables per section, and the
CSV of every figure, from in-memory rollups (no AWS)."""

import csv
import io
import json
import xml.etree.ElementTree as ElementTree
from datetime import date

from citybrain.reports.artifacts import csv_artifact, html_artifact, json_bytes
from citybrain.reports.content import compose
from citybrain.reports.models import days_period, hourly_period
from citybrain.sensing.rollups import add_reading, new_rollup

DAY = date(2026, 11, 26)
DEVICES = [
    {"id": "aq-1", "type": "air_quality", "town": "桂城街道", "domain": "environment", "name": "<script>x</script>站"},
    {"id": "aq-2", "type": "air_quality", "town": "九江镇", "domain": "environment", "name": "九江站"},
    {"id": "rd-1", "type": "traffic_flow", "town": "桂城街道", "domain": "traffic", "name": "佛山大道"},
    {
        "id": "ns-1",
        "type": "noise",
        "town": "桂城街道",
        "domain": "environment",
        "name": "噪声站",
        "acoustic_zone": "2",
    },
    {
        "id": "wl-1",
        "type": "water_level",
        "town": "九江镇",
        "domain": "urban",
        "name": "九江水闸",
        "thresholds": {"warning": 5.0, "guarantee": 6.5},
    },
]


class Sources:
    def __init__(self, rollups):
        self.stored = rollups

    def devices(self):
        return DEVICES

    def rollups(self, device_ids, hours):
        wanted = set(device_ids)
        return {k: v for k, v in self.stored.items() if k[0] in wanted and k[1] in set(hours)}

    def alerts(self, start_ms, end_ms):
        return []

    def exchange_rows(self, day):
        return []


def rollups_of_day(day=DAY, hours=range(24)):
    stored = {}
    for i in hours:
        hour = f"{day.isoformat()}T{i:02d}"
        for device, values in (
            ("aq-1", {"pm25": 70, "pm10": 80}),
            ("aq-2", {"pm25": 30, "pm10": 40}),
            ("rd-1", {"averageVehicleSpeed": 35, "intensity": 300, "occupancy": 0.3}),
            ("ns-1", {"LAeq": 52}),
            ("wl-1", {"waterLevel": 5.5 if i == 12 else 4.0}),
        ):
            stored[(device, hour)] = add_reading(new_rollup(), values)
    return stored


def daily(rollups=None, **scope):
    period = days_period("daily", DAY, DAY)
    return compose(
        period, scope.get("town"), scope.get("domain"), Sources(rollups_of_day() if rollups is None else rollups)
    )


def test_the_daily_page_has_its_charts_and_a_table_per_section_with_names_escaped():
    page = html_artifact("城市运行日报", daily()).decode("utf-8")
    for heading in ("空气质量", "声环境", "交通", "水位", "设备在线", "告警", "数据共享交换", "各站点", "各镇街"):
        assert f">{heading}<" in page
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;站" in page
    svgs = [page[i : page.index("</svg>", i) + 6] for i in range(len(page)) if page.startswith("<svg", i)]
    assert len(svgs) == 2  # the 24-hour trend and the towns' bars
    trend = ElementTree.fromstring(svgs[0])
    columns = [r for r in trend.iter("{http://www.w3.org/2000/svg}rect") if r.get("stroke") == "#333"]
    assert len(columns) == 24
    # the district's hourly AQI: PM2.5 mean of (70, 30) = 50 -> IAQI 80 (35..60 -> 50..100), 良, yellow
    assert {c.get("fill") for c in columns} == {"#FFFF00"}
    assert "轻度污染" in page  # aq-1's day: PM2.5 70 over the 2026 breakpoint of 60
    assert "12:00" in page or "11-26 12:00" in page  # the hour of the water maximum


def test_an_empty_day_is_a_page_of_no_data_not_an_error():
    page = html_artifact("城市运行日报", daily(rollups={})).decode("utf-8")
    assert "无数据" in page and "<svg" in page


def test_a_range_page_has_a_row_per_day_and_the_days_per_level():
    period = days_period("range", date(2026, 11, 25), date(2026, 11, 26))
    content = compose(period, None, None, Sources(rollups_of_day()))
    page = html_artifact("城市运行时段报告", content).decode("utf-8")
    assert "2026-11-25" in page and "2026-11-26" in page and ">天数<" in page
    assert content["sections"]["air"]["district_days_unrated"] == 1  # no readings on the 25th


def test_the_hourly_page_shows_the_real_time_index_of_the_hour():
    content = compose(
        hourly_period(int(days_period("daily", DAY, DAY).start_ms + 8 * 3_600_000)),
        None,
        None,
        Sources(rollups_of_day()),
    )
    stations = {s["device_id"]: s for s in content["sections"]["air"]["stations"]}
    assert stations["aq-1"]["aqi"]["airQualityIndex"] == 110  # 1-hour PM2.5 70
    assert "各站点" in html_artifact("城市运行小时报", content).decode("utf-8")


def test_the_csv_holds_every_figure_with_a_bom_and_the_json_is_complete():
    content = daily()
    rows = list(csv.reader(io.StringIO(csv_artifact(content).decode("utf-8-sig"))))
    assert csv_artifact(content).startswith(b"\xef\xbb\xbf") and rows[0] == ["板块", "对象", "指标", "数值"]
    sections = {r[0] for r in rows[1:]}
    assert {"空气质量", "声环境", "交通", "水位", "设备在线", "告警", "数据共享交换"} <= sections
    assert json.loads(json_bytes(content)) == json.loads(json.dumps(content))

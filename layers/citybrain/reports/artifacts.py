"""A report's three artifacts from its content (citybrain.reports.content):

- JSON: the whole content, every figure with its unit, its standard and its count;
- CSV: one row per figure (section, subject, figure, value), Chinese labels, UTF-8 with
  BOM (citybrain.reports.render.csv_bytes);
- HTML: self-contained and printable on A4: the AQI trend over the level bands, the
  towns' AQI bars in the level colours, and a table per section; every name escaped.

The CSV and the tables are read off the content generically (a section's lists of
records become tables, its scalar figures key/value rows), so a figure added to a
section appears in every artifact without a second description of it here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from citybrain.core.vocabulary import DOMAIN_NAMES
from citybrain.reports.render import bar_chart_svg, csv_bytes, escape, page, table, trend_chart_svg
from citybrain.sensing.aqi import LEVELS, level

SECTION_NAMES = {
    "air": "空气质量",
    "noise": "声环境",
    "traffic": "交通",
    "water": "水位",
    "structures": "建筑与桥梁结构",
    "devices": "设备在线",
    "alerts": "告警",
    "exchange": "数据共享交换",
}
LABELS = {
    "device_id": "设备",
    "name": "名称",
    "town": "镇街",
    "type": "类型",
    "date": "日期",
    "hour": "小时",
    "aqi": "AQI",
    "airQualityIndex": "AQI",
    "airQualityLevel": "级别",
    "primaryPollutant": "首要污染物",
    "colour": "颜色",
    "stations": "站点数",
    "devices": "设备数",
    "opened": "新增",
    "acknowledged": "已确认",
    "resolved": "已处置",
    "still_open": "期末未关闭",
    "mean_minutes_to_acknowledge": "平均确认时长(分钟)",
    "mean_minutes_to_resolve": "平均处置时长(分钟)",
    "mean": "均值",
    "max": "最大值",
    "min": "最小值",
    "count": "数据量",
    "shown": "显示值",
    "unit": "单位",
    "standard": "依据标准",
}
NO_DATA = "无数据"
# Names officials read for the vocabularies' values (the JSON keeps the values themselves).
VALUE_NAMES = {
    "air_quality": "空气质量监测",
    "traffic_flow": "交通流量",
    "noise": "噪声",
    "water_level": "水位",
    "structure": "结构安全",
    **DOMAIN_NAMES,
    "critical": "严重",
    "high": "高",
    "medium": "中等",
    "low": "低",
    "informational": "提示",
}


def json_bytes(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def label(key: str) -> str:
    return LABELS.get(key, key)


def _figures(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf of the content with the keys leading to it (lists of scalars stay one cell)."""
    if isinstance(value, Mapping):
        for key in value:
            yield from _figures(value[key], (*path, str(key)))
    elif isinstance(value, list) and any(isinstance(v, (Mapping, list)) for v in value):
        for index, item in enumerate(value):
            name = item.get("device_id") or item.get("date") or item.get("hour") if isinstance(item, Mapping) else None
            yield from _figures(item, (*path, str(name or index + 1)))
    else:
        yield path, "、".join(map(str, value)) if isinstance(value, list) else value


def csv_artifact(content: Mapping[str, Any]) -> bytes:
    period = content["period"]
    rows: list[list[Any]] = [
        ["报告", "period", f"{period['from']} — {period['to']}", ""],
        ["报告", "scope", content["scope"].get("town") or "全区", content["scope"].get("domain") or "全部领域"],
    ]
    for section, figures in content["sections"].items():
        for path, value in _figures(figures, ()):
            rows.append(
                [SECTION_NAMES.get(section, section), " / ".join(label(p) for p in path[:-1]), label(path[-1]), value]
            )
    return csv_bytes(["板块", "对象", "指标", "数值"], rows)


def html_artifact(title: str, content: Mapping[str, Any]) -> bytes:
    period = content["period"]
    scope = content["scope"]
    parts = [
        "<p>"
        f"时段：{escape(period['from'])} — {escape(period['to'])}（北京时间）；"
        f"范围：{escape(scope.get('town') or '全区')} · {escape(scope.get('domain') or '全部领域')}"
        "</p>"
    ]
    for name, figures in content["sections"].items():
        parts.append(f"<h2>{escape(SECTION_NAMES.get(name, name))}</h2>")
        if figures.get("standard"):
            parts.append(f'<p class="insufficient">依据：{escape(figures["standard"])}</p>')
        shown = SECTION_PAGES.get(name)
        parts.append(shown(figures) if shown else _html_of(figures))
    return page(title, parts).encode("utf-8")


POLLUTANT_NAMES = {"pm25": "PM2.5", "pm10": "PM10", "so2": "SO₂", "no2": "NO₂", "o3": "O₃", "co": "CO"}


def _aqi_cells(aqi: Mapping[str, Any] | None) -> list[str]:
    if not aqi:
        return [NO_DATA, "", ""]
    primary = "、".join(POLLUTANT_NAMES.get(p, p) for p in aqi.get("primaryPollutant") or []) or "—"
    return [str(aqi["airQualityIndex"]), aqi["airQualityLevel"], primary]


def _concentration(figures: Mapping[str, Any], pollutant: str) -> str:
    found = figures.get("concentrations", {}).get(pollutant)
    if not found:
        return "—"
    if "shown" in found:  # a daily statistic: its value, or 数据不足（n/m）
        shown = found["shown"]
        return shown if isinstance(shown, str) else _cell(shown)
    return _cell(found.get("mean"))


AIR_COLUMNS = ["pm25", "pm10", "so2", "no2", "o3", "co"]
AIR_HEADER = ["AQI", "级别", "首要污染物", *(POLLUTANT_NAMES[p] for p in AIR_COLUMNS)]


def _air_page(air: Mapping[str, Any]) -> str:
    parts = [_air_charts(air)]
    if "days" in air:  # a range: one row per day
        rows = [[d["date"], *_aqi_cells(d["district"]["aqi"]), d["district"]["stations"]] for d in air["days"]]
        parts.append(table(["日期", "AQI", "级别", "首要污染物", "站点数"], rows))
        levels = [[level, days] for level, days in air["district_days_per_level"].items()]
        parts.append(table(["级别", "天数"], levels + [["数据不足", air["district_days_unrated"]]]))
        return "".join(parts)
    district = air.get("district") or {}
    parts.append("<h3>全区</h3>")
    parts.append(
        table(AIR_HEADER, [[*_aqi_cells(district.get("aqi")), *(_concentration(district, p) for p in AIR_COLUMNS)]])
    )
    towns = air.get("towns") or {}
    if towns:
        parts.append("<h3>各镇街</h3>")
        rows = [
            [
                town,
                figures["stations"],
                *_aqi_cells(figures.get("aqi")),
                *(_concentration(figures, p) for p in AIR_COLUMNS),
            ]
            for town, figures in towns.items()
        ]
        parts.append(table(["镇街", "站点数", *AIR_HEADER], rows))
    stations = air.get("stations") or []
    parts.append("<h3>各站点</h3>")
    rows = [
        [s["name"], s["town"], *_aqi_cells(s.get("aqi")), *(_concentration(s, p) for p in AIR_COLUMNS)]
        for s in stations
    ]
    parts.append(table(["站点", "镇街", *AIR_HEADER], rows) if rows else f"<p>{NO_DATA}</p>")
    if stations and "hours_per_level" in stations[0]:
        level_names = list(stations[0]["hours_per_level"])
        parts.append("<h3>各级别小时数</h3>")
        parts.append(table(["站点", *level_names], [[s["name"], *s["hours_per_level"].values()] for s in stations]))
    if air.get("worst_stations"):
        names = {s["device_id"]: s["name"] for s in stations}
        parts.append(f"<p>污染最重站点：{escape('、'.join(names.get(i, i) for i in air['worst_stations']))}</p>")
    parts.append(
        '<p class="insufficient">浓度单位：µg/m³（CO 为 mg/m³）；日报 O₃ 为日最大 8 小时滑动平均；'
        "有效数据不足时显示“数据不足（有效数/所需数）”。</p>"
    )
    return "".join(parts)


def _hour(hour: str | None) -> str:
    """2026-11-26T08 -> 11-26 08:00"""
    return f"{hour[5:10]} {hour[-2:]}:00" if hour else "—"


def _traffic_page(traffic: Mapping[str, Any]) -> str:
    rows = [
        [r["name"], r["town"], _cell(r["mean_speed_kmh"]), r["congested_hours"], r["hours_measured"]]
        for r in traffic.get("roads", [])
    ]
    parts = [table(["路段传感器", "镇街", "平均车速(km/h)", "拥堵小时数", "有数据小时数"], rows) if rows else ""]
    busiest = traffic.get("busiest_hours") or []
    if busiest:
        parts.append("<h3>车流最大的小时</h3>")
        parts.append(
            table(
                ["小时", "车流强度(辆/小时)", "传感器数"],
                [[_hour(b["hour"]), _cell(b["intensity_vehicles_per_h"]), b["sensors"]] for b in busiest],
            )
        )
    return "".join(parts) or f"<p>{NO_DATA}</p>"


def _water_page(water: Mapping[str, Any]) -> str:
    rows = []
    for g in water.get("gauges", []):
        rows.append(
            [
                g.get("name"),
                g.get("town"),
                _cell(g.get("max_level_m")),
                _hour(g.get("max_at")),
                _cell(g.get("warning_m")),
                _cell(g.get("guarantee_m")),
                g.get("hours_at_or_above_warning"),
                g.get("hours_at_or_above_guarantee"),
            ]
        )
    header = ["水位站", "镇街", "最高水位(m)", "出现时间", "警戒水位(m)", "保证水位(m)", "超警戒小时数", "超保证小时数"]
    return table(header, rows) if rows else f"<p>{NO_DATA}</p>"


def _noise_page(noise: Mapping[str, Any]) -> str:
    rows = []
    for s in noise.get("sensors", []):
        day, night = s["day"], s["night"]
        rows.append(
            [
                s["name"],
                s["town"],
                s["zone"],
                day["shown"],
                day["limit_db"],
                day["hours_exceeded"],
                night["shown"],
                night["limit_db"],
                night["hours_exceeded"],
                night.get("sudden_noise_hours", 0),
            ]
        )
    header = [
        "监测点",
        "镇街",
        "声环境功能区",
        "昼间 Ld",
        "昼间限值",
        "昼间超标小时",
        "夜间 Ln",
        "夜间限值",
        "夜间超标小时",
        "夜间突发噪声小时",
    ]
    parts = [table(header, rows) if rows else f"<p>{NO_DATA}</p>"]
    zones = noise.get("zones") or {}
    if zones:
        parts.append("<h3>各声环境功能区</h3>")
        zone_rows = [
            [
                zone,
                z["devices"],
                z["day"]["hours_rated"],
                z["day"]["hours_exceeded"],
                z["night"]["hours_rated"],
                z["night"]["hours_exceeded"],
            ]
            for zone, z in zones.items()
        ]
        parts.append(
            table(["功能区", "监测点", "昼间有效小时", "昼间超标小时", "夜间有效小时", "夜间超标小时"], zone_rows)
        )
    parts.append('<p class="insufficient">单位 dB(A)；昼间 06:00–22:00，夜间 22:00–06:00。</p>')
    return "".join(parts)


def _structures_page(structures: Mapping[str, Any]) -> str:
    rows = []
    for s in structures.get("sensors", []):
        for name, v in s.get("values", {}).items():
            rows.append(
                [
                    s["name"],
                    s["town"],
                    name,
                    _cell(v.get("extreme")),
                    _cell(v.get("limit")),
                    v.get("unit"),
                    v.get("hours_over_limit"),
                    "是" if v.get("over_limit") else "否",
                ]
            )
    header = ["监测对象", "镇街", "指标", "极值", "限值", "单位", "超限小时数", "是否超限"]
    return table(header, rows) if rows else f"<p>{NO_DATA}</p>"


def _devices_page(devices: Mapping[str, Any]) -> str:
    def rows_of(groups: Mapping[str, Any]) -> list[list[Any]]:
        return [
            [name, g["devices"], g["reported"], g["silent"], f"{g['online_percent']}%"] for name, g in groups.items()
        ]

    header = ["设备数", "有数据", "全时段无数据", "在线率"]
    parts = [
        table(
            header, [[devices["registered"], devices["reported"], devices["silent"], f"{devices['online_percent']}%"]]
        ),
        "<h3>各镇街</h3>",
        table(["镇街", *header], rows_of(devices.get("by_town", {}))),
        "<h3>各类型</h3>",
        table(["类型", *header], rows_of(devices.get("by_type", {}))),
    ]
    silent = devices.get("silent_devices") or []
    if silent:
        parts.append("<h3>全时段无数据的设备</h3>")
        parts.append(
            table(
                ["设备", "名称", "镇街", "类型"],
                [[d["device_id"], d["name"], d["town"], VALUE_NAMES.get(d["type"], d["type"])] for d in silent],
            )
        )
    return "".join(parts)


ALERT_HEADER = ["新增", "已确认", "已处置", "期末未关闭", "平均确认时长(分钟)", "平均处置时长(分钟)"]
ALERT_FIELDS = [
    "opened",
    "acknowledged",
    "resolved",
    "still_open",
    "mean_minutes_to_acknowledge",
    "mean_minutes_to_resolve",
]


def _alerts_page(alerts: Mapping[str, Any]) -> str:
    parts = [table(ALERT_HEADER, [[_cell(alerts.get(f)) for f in ALERT_FIELDS]])]
    for key, title in (("by_department", "各部门"), ("by_domain", "各领域"), ("by_severity", "各级别")):
        groups = alerts.get(key) or {}
        if groups:
            parts.append(f"<h3>{title}</h3>")
            parts.append(
                table(
                    ["", *ALERT_HEADER],
                    [
                        [VALUE_NAMES.get(name, name), *(_cell(g.get(f)) for f in ALERT_FIELDS)]
                        for name, g in groups.items()
                    ],
                )
            )
    return "".join(parts)


def _exchange_page(exchange: Mapping[str, Any]) -> str:
    totals = exchange.get("totals") or {}
    header = ["发布数据集", "共享申请", "批准", "驳回", "数据调用", "共享记录数", "拒绝访问"]
    fields = ["datasets_published", "requests", "approved", "rejected", "pulls", "rows_shared", "refused"]
    parts = [table(header, [[_cell(totals.get(f)) for f in fields]])]
    pairs = exchange.get("pairs") or []
    if pairs:
        parts.append("<h3>部门之间</h3>")
        columns = [k for k in pairs[0] if not isinstance(pairs[0][k], (Mapping, list))]
        parts.append(table([label(c) for c in columns], [[_cell(p.get(c)) for c in columns] for p in pairs]))
    return "".join(parts)


SECTION_PAGES: dict[str, Any] = {
    "air": _air_page,
    "traffic": _traffic_page,
    "water": _water_page,
    "noise": _noise_page,
    "structures": _structures_page,
    "devices": _devices_page,
    "alerts": _alerts_page,
    "exchange": _exchange_page,
}


def _air_charts(air: Mapping[str, Any]) -> str:
    bands = [
        (low, high, found.rgb) for (low, (high, found)) in zip([0] + [h for h, _ in LEVELS[:-1]], LEVELS, strict=True)
    ]
    charts = []
    trend = air.get("trend") or []
    if trend:
        points = [(p["hour"][-2:] if "hour" in p else p["date"][5:], p["aqi"]) for p in trend]
        charts.append(
            trend_chart_svg(
                points,
                title="全区空气质量指数（AQI）趋势",
                bands=bands,
                floor=100,
                colour_of=lambda aqi: level(int(aqi)).rgb,
            )
        )
    towns = air.get("towns") or {}
    if towns and "days" not in air:
        bars = []
        for town, figures in towns.items():
            aqi = figures.get("aqi")
            bars.append((town, aqi["airQualityIndex"] if aqi else None, aqi["rgb"] if aqi else "#ccc"))
        charts.append(bar_chart_svg(bars, title="各镇街空气质量指数（AQI）"))
    return "".join(charts)


def _html_of(value: Any, depth: int = 0) -> str:
    """A section as tables: its scalar figures as one key/value table, each list of
    records as a table of their scalar fields, each nested mapping under a heading."""
    if not isinstance(value, Mapping):
        return f"<p>{escape(_cell(value))}</p>"
    scalars = [(label(k), _cell(v)) for k, v in value.items() if not isinstance(v, (Mapping, list)) or _flat(v)]
    parts = [table(["指标", "数值"], scalars)] if scalars else []
    for key, item in value.items():
        if isinstance(item, list) and item and all(isinstance(r, Mapping) for r in item):
            columns = [k for k in item[0] if not isinstance(item[0][k], (Mapping, list)) or _flat(item[0][k])]
            parts.append(f"<h3>{escape(label(key))}</h3>")
            parts.append(table([label(c) for c in columns], [[_cell(r.get(c)) for c in columns] for r in item]))
        elif isinstance(item, Mapping) and item and depth < 3:
            parts.append(f"<h3>{escape(label(key))}</h3>")
            parts.append(_html_of(item, depth + 1))
    if not parts:
        parts.append(f'<p class="insufficient">{NO_DATA}</p>')
    return "".join(parts)


def _flat(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, (Mapping, list)) for v in value)


def _cell(value: Any) -> str:
    if value is None:
        return NO_DATA
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "—"
    return str(value)

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

from citybrain.reports.render import bar_chart_svg, csv_bytes, escape, page, table, trend_chart_svg
from citybrain.sensing.aqi import LEVELS

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
    sections = content["sections"]
    if "air" in sections:
        parts.append(_air_charts(sections["air"]))
    for name, figures in sections.items():
        parts.append(f"<h2>{escape(SECTION_NAMES.get(name, name))}</h2>")
        parts.append(_html_of(figures))
    return page(title, parts).encode("utf-8")


def _air_charts(air: Mapping[str, Any]) -> str:
    bands = [
        (low, high, found.rgb) for (low, (high, found)) in zip([0] + [h for h, _ in LEVELS[:-1]], LEVELS, strict=True)
    ]
    charts = []
    trend = air.get("trend") or []
    if trend:
        points = [(str(p.get("hour", p.get("date", "")))[-5:], p["aqi"]) for p in trend]
        charts.append(trend_chart_svg(points, title="全区空气质量指数趋势", bands=bands))
    towns = air.get("towns") or {}
    if towns and "days" not in air:
        bars = []
        for town, figures in towns.items():
            aqi = figures.get("aqi")
            bars.append((town, aqi["airQualityIndex"] if aqi else None, aqi["rgb"] if aqi else "#ccc"))
        charts.append(bar_chart_svg(bars, title="各镇街空气质量指数"))
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

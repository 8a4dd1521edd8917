"""A report's artifacts beside its JSON: CSV that Excel in China opens without garbled
Chinese, and self-contained HTML (inline SVG, no outside asset) that prints on A4.

- CSV: UTF-8 with a byte-order mark (Excel reads a CSV without one in the system's
  ANSI code page, GBK, and turns UTF-8 Chinese into mojibake); CRLF line ends, as
  Excel writes; every cell that could start a formula (= + - @) is prefixed with
  an apostrophe, so a device named "=HYPERLINK(...)" stays text.
- HTML: every name a user gave (a device, a department, a dataset) is escaped; the
  page carries its styles inline and draws its charts as inline SVG; the AQI bars are
  painted in the standard's level colours (HJ 633-2026 Table 2).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file as Excel in China opens it: UTF-8 with BOM, CRLF, formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def escape(value: Any) -> str:
    """Text for HTML, quotes included (safe in attributes as in content)."""
    return html.escape("" if value is None else str(value), quote=True)


def bar_chart_svg(
    bars: Sequence[tuple[str, float | None, str]], *, title: str, unit: str = "", width: int = 640, bar_height: int = 22
) -> str:
    """Horizontal bars (label, value or None for no data, fill colour) as inline SVG."""
    label_width, gap, top = 140, 6, 28
    height = top + len(bars) * (bar_height + gap) + 10
    largest = max((v for _, v, _ in bars if v is not None), default=0) or 1
    scale = (width - label_width - 70) / largest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}">',
        f'<text x="0" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for index, (label, value, colour) in enumerate(bars):
        y = top + index * (bar_height + gap)
        parts.append(f'<text x="0" y="{y + bar_height - 6}" font-size="12">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_width}" y="{y + bar_height - 6}" font-size="12" fill="#666">无数据</text>')
            continue
        length = max(value * scale, 1.0)
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{escape(colour)}" stroke="#333" stroke-width="0.5"/>'
        )
        parts.append(
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 6}" font-size="12">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


PAGE_STYLE = (
    "@page{size:A4;margin:15mm}body{font-family:sans-serif;color:#222;max-width:180mm;margin:auto}"
    "table{border-collapse:collapse;width:100%;font-size:12px}th,td{border:1px solid #999;padding:3px 6px;"
    "text-align:left}h1{font-size:20px}"
    "h2{font-size:17px;margin-top:20px;border-bottom:2px solid #3a6ea5}h3{font-size:14px;margin:12px 0 4px}"
    ".insufficient{color:#666}"
)


def page(title: str, sections: Iterable[str]) -> str:
    """A self-contained HTML page: inline style, no script, no outside asset."""
    body = "".join(sections)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{PAGE_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def trend_chart_svg(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    bands: Sequence[tuple[float, float, str]] = (),
    floor: float = 0,
    colour_of: Callable[[float], str] | None = None,
    width: int = 640,
    height: int = 220,
) -> str:
    """A column per point (label, value or None) over horizontal bands (low, high, colour),
    e.g. the AQI level bands; a point without data is marked 无 under its axis."""
    left, right, top, bottom = 40, 10, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max([v for _, v in points if v is not None] + [1])
    # Room above the highest column, at least `floor` (the AQI shows its 优 and 良 bands), never
    # past the last band.
    ceiling = max(largest * 1.15, floor)
    if bands:
        ceiling = min(ceiling, max(high for _, high, _ in bands))

    def y(value: float) -> float:
        return top + plot_h - min(value, ceiling) / ceiling * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}">',
        f'<text x="0" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for low, high, colour in bands:
        if low >= ceiling:
            continue
        y_high, y_low = y(min(high, ceiling)), y(low)
        parts.append(
            f'<rect x="{left}" y="{y_high:.1f}" width="{plot_w}" height="{y_low - y_high:.1f}" '
            f'fill="{escape(colour)}" fill-opacity="0.18"/>'
        )
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>')
    parts.append(f'<text x="0" y="{top + 10}" font-size="10">{escape(_number(ceiling))}{escape(unit)}</text>')
    step = plot_w / max(len(points), 1)
    for index, (label, value) in enumerate(points):
        x = left + index * step
        if index % max(1, len(points) // 12) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 20}" font-size="9">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{x + 1:.1f}" y="{top + plot_h - 3}" font-size="8" fill="#666">无</text>')
            continue
        column_top = y(value)
        fill = colour_of(value) if colour_of else "#3a6ea5"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{column_top:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{top + plot_h - column_top:.1f}" fill="{escape(fill)}" stroke="#333" stroke-width="0.3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)

"""Report artifacts: CSV with BOM for Excel in China, escaped self-contained HTML with SVG bars."""

import csv
import io
import xml.etree.ElementTree as ElementTree

from citybrain.reports.render import BOM, bar_chart_svg, csv_bytes, escape, page, table


def test_csv_starts_with_a_bom_and_keeps_chinese():
    data = csv_bytes(["站点", "AQI"], [["桂城街道 一号站", 58], ["九江镇", None]])
    assert data.startswith(BOM.encode("utf-8")) and data[:3] == b"\xef\xbb\xbf"
    text = data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["站点", "AQI"], ["桂城街道 一号站", "58"], ["九江镇", ""]]
    assert "\r\n" in text


def test_csv_defuses_formulas_but_not_negative_numbers():
    data = csv_bytes(["name", "value"], [['=HYPERLINK("http://x")', -3.5], ["+1 区", "@SUM(A1)"]])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ['\'=HYPERLINK("http://x")', "-3.5"]
    assert rows[2] == ["'+1 区", "'@SUM(A1)"]


def test_user_names_are_escaped_in_html():
    assert escape('<script>alert("x")</script> & 区') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 区"
    assert escape(None) == ""
    html = page("<b>报告</b>", [table(["设备"], [["<img src=x onerror=alert(1)>"]])])
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<title>&lt;b&gt;报告&lt;/b&gt;</title>" in html


def test_the_page_is_self_contained():
    html = page("日报", ["<p>内容</p>"])
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html and "@page{size:A4" in html
    for outside in ("http://", "https://", "<script", "<link", "src="):
        assert outside not in html


def test_bar_chart_is_valid_svg_with_sized_bars_in_their_colours():
    svg = bar_chart_svg(
        [("桂城街道", 100, "#FFFF00"), ("九江镇", 200, "#FF0000"), ("<里水镇>", None, "#00E400")],
        title="各镇街 AQI",
    )
    root = ElementTree.fromstring(svg)
    namespace = "{http://www.w3.org/2000/svg}"
    bars = root.findall(f"{namespace}rect")
    assert [b.get("fill") for b in bars] == ["#FFFF00", "#FF0000"]
    widths = [float(b.get("width")) for b in bars]
    assert widths[1] == 2 * widths[0] > 0
    texts = [t.text for t in root.findall(f"{namespace}text")]
    assert "各镇街 AQI" in texts and "<里水镇>" in texts and "无数据" in texts


def test_an_empty_chart_is_still_an_svg():
    root = ElementTree.fromstring(bar_chart_svg([], title="无数据"))
    assert root.tag.endswith("svg") and not root.findall("{http://www.w3.org/2000/svg}rect")

"""Reports on the running local stack with the demo district: one asked for over HTTP and
one fired as its schedule fires it (`make invoke FN=daily_report EVENT=events/schedule.json`),
both built by the report function from the reports queue, with links that work."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

from citybrain.core import timeutil
from tests.e2e.conftest import ROOT

BUILT_WITHIN = 90


def done(stack, key, report_id):
    def check():
        response = stack.get(f"/v1/reports/{report_id}", key)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["status"] != "failed", report
        return report["status"] == "done" and report

    return stack.eventually(check, timeout=BUILT_WITHIN, interval=1, what=f"report {report_id} done")


def test_an_hourly_report_of_the_live_demo_district(demo):
    keys = json.loads((demo.local_dir / "demo-keys.json").read_text())
    key = keys["departments"]["environment"]["api_key"]
    hour = timeutil.local_hour(timeutil.now_ms())

    def stations_measured():
        response = demo.get("/v1/devices", key, type="air_quality", limit="100")
        return all(demo.get(f"/v1/devices/{d['id']}", key).json().get("latest") for d in response.json()["items"])

    demo.eventually(stations_measured, timeout=60, what="every station's first reading")
    response = demo.post("/v1/reports", key, {"kind": "hourly", "hour": hour})
    assert response.status_code == 202, response.text
    report = done(demo, key, response.json()["id"])

    content = demo.http.get(report["links"]["json"], timeout=30)
    assert content.status_code == 200
    air = content.json()["sections"]["air"]
    assert air["hour"] == hour and air["standard"] == "HJ 633-2026"
    assert len(air["stations"]) == 7 and len(air["towns"]) == 7  # a station in each town
    assert air["district"]["aqi"]["airQualityStandard"] == "HJ 633-2026"

    table = demo.http.get(report["links"]["csv"], timeout=30).content
    assert table.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(table.decode("utf-8-sig"))))[0] == ["板块", "对象", "指标", "数值"]
    page = demo.http.get(report["links"]["html"], timeout=30)
    assert page.headers["Content-Type"].startswith("text/html") and "<svg" in page.text


def test_the_daily_schedule_on_the_local_stack(demo):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CITYBRAIN_"))},
        "CITYBRAIN_AWS_PORT": str(demo.aws_port),
        "CITYBRAIN_API_PORT": str(demo.api_port),
    }
    ran = subprocess.run(
        [sys.executable, "-m", "infra.invoke", "daily_report", "events/schedule.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    # events/schedule.json fires at 2026-11-27T00:00Z, 08:00 local: the report of the day before
    assert '"rpt_daily_2026-11-26_district"' in ran.stdout, ran.stdout
    report = done(demo, demo.admin_key, "rpt_daily_2026-11-26_district")
    assert report["requested_by"] == "schedule" and report["period"]["label"] == "2026-11-26"
    listed = demo.get("/v1/reports", demo.admin_key, kind="daily", date="2026-11-26").json()["items"]
    assert [r["id"] for r in listed] == ["rpt_daily_2026-11-26_district"]

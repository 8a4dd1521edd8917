"""The demo district's big-safety side on `make up`: its risk registry, and its first flood
(at 九江's 西江 embankment) jamming the town's roads — water level and traffic fuse into one
incident, the command centre's duty officer takes it through its case, and closes both once
the alerts are resolved. Watched through the API as the emergency bureau watches it."""

from __future__ import annotations

import json

HANDLED_WITHIN = 240  # the quickened feed's first flood comes ~18 s in and passes within ~2 minutes


def test_the_demo_flood_becomes_one_incident_whose_case_the_command_centre_closes(demo):
    keys = json.loads((demo.local_dir / "demo-keys.json").read_text())["departments"]
    centre = keys["safety"]["api_key"]
    points = demo.get("/v1/risk-points", centre, limit="100").json()["items"]
    assert {"西江大堤九江段", "海八路下穿隧道", "狮山化工园区", "西樵山水库", "大沥布匹市场广场"} <= {
        p["name"] for p in points
    }
    embankment = next(p for p in points if p["name"] == "西江大堤九江段")

    def flood_incident():
        items = demo.get("/v1/incidents", centre, town="九江镇").json()["items"]
        return next(
            (i for i in items if embankment["id"] in i["risk_points"] and {"safety", "traffic"} <= set(i["domains"])),
            None,
        )

    incident = demo.eventually(flood_incident, timeout=HANDLED_WITHIN, interval=2, what="九江's cross-domain incident")
    assert incident["category"] == "natural_disaster"  # the embankment's

    def closed():
        found = demo.get(f"/v1/incidents/{incident['id']}", centre).json()
        return found["status"] == "closed" and found

    done = demo.eventually(closed, timeout=HANDLED_WITHIN, interval=2, what="the incident closed by the command centre")
    assert done["closed_by"] == "safety"
    cases = demo.get("/v1/cases", centre, limit="200").json()["items"]
    (case,) = [c for c in cases if c.get("incident_id") == incident["id"]]
    steps = [h["action"] for h in demo.get(f"/v1/cases/{case['id']}", centre).json()["history"]]
    assert steps[:3] == ["reported", "register", "dispatch"] and steps[-2:] == ["feedback", "close"]
    assert steps.count("acknowledge") == len(case["assignments"])
    urban = [c for c in cases if not c.get("incident_id")]
    assert {c["status"] for c in urban} == {"closed", "processing", "reported"}


def test_the_demo_manhole_case_carries_its_site_photos_from_report_and_feedback(demo):
    import requests

    from infra.local.safety_demo import site_photo

    keys = json.loads((demo.local_dir / "demo-keys.json").read_text())["departments"]
    centre = keys["safety"]["api_key"]
    cases = demo.get("/v1/cases", centre, limit="200").json()["items"]
    (listed,) = [c for c in cases if c["subcategory"] == "井盖缺失"]
    case = demo.get(f"/v1/cases/{listed['id']}", centre).json()
    assert [p["stage"] for p in case["photos"]] == ["report", "feedback"]
    feedback = next(h for h in case["history"] if h["action"] == "feedback")
    assert feedback["photos"] == [case["photos"][1]["id"]]
    for photo in case["photos"]:  # the links serve what the departments uploaded
        seen = requests.get(photo["url"], timeout=30)
        assert seen.status_code == 200 and seen.content == site_photo()
        assert seen.headers["Content-Type"] == "image/png"

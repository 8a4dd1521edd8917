"""The big-safety view's overview on in-memory readers: risk points' colours and states, open
incidents by grade, overdue cases (marked or not yet) and the departments' on-time rates."""

from __future__ import annotations

from typing import Any

from citybrain.core import timeutil
from citybrain.core.responses import shaped
from citybrain.core.vocabulary import Town
from citybrain.safety.incidents import shown as shown_incident
from citybrain.safety.overview import SafetyOverview
from citybrain.safety.responses import SafetyOverview as SafetyOverviewModel

NOW = timeutil.parse_instant("2026-12-01T15:00:00+08:00")
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


def point(point_id: str, town: str, level: str, devices: list[str], name: str = "风险点") -> dict[str, Any]:
    return {
        "id": point_id,
        "name": name,
        "category": "natural_disaster",
        "kind": "下穿隧道",
        "town": town,
        "location": {"lat": 22.84, "lon": 113.03},
        "risk_level": level,
        "department": "water",
        "contacts": [],
        "devices": devices,
        "bindings": [],
        "version": 1,
        "created_at": "2026-12-01T08:00:00+08:00",
        "created_by": "water",
        "updated_at": "2026-12-01T08:00:00+08:00",
        "updated_by": "water",
    }


def incident(incident_id: str, town: str, grade: str, points: list[str], opened_ms: int) -> dict[str, Any]:
    return shown_incident(
        {
            "id": incident_id,
            "source": "alerts",
            "status": "open",
            "town": town,
            "location": {"lat": 22.84, "lon": 113.03},
            "alerts": ["al-1", "al-2"],
            "risk_points": points,
            "domains": ["urban", "traffic"],
            "departments": ["water", "transport"],
            "timeline": [],
            "opened_at": timeutil.local_iso(opened_ms),
            "grade": grade,
            "category": "natural_disaster",
            "version": 2,
        }
    )


def alert(device_id: str, severity: str = "critical", rule: str = "water") -> dict[str, Any]:
    return {"id": f"al-{device_id}-{rule}", "device_id": device_id, "severity": severity, "rule": rule}


def case(case_id: str, status: str, dispatched_ms: int | None, **extra) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": case_id,
        "category": "事件",
        "subcategory": "占道经营",
        "town": "大沥镇",
        "status": status,
        "reported_ms": (dispatched_ms or NOW) - 10 * MINUTE,
        "assignments": [],
        "version": 3,
    }
    if dispatched_ms is not None:
        found.update(
            dispatched_ms=dispatched_ms,
            dispatched_at=timeutil.local_iso(dispatched_ms),
            acknowledge_by_ms=dispatched_ms + 60 * MINUTE,
            close_by_ms=dispatched_ms + 48 * HOUR,
        )
    found.update(extra)
    return found


class Registry:
    def __init__(self, points):
        self.points = sorted(points, key=lambda p: p["id"])

    def list(self, filters, limit, cursor):
        start = (
            next((i for i, p in enumerate(self.points) if p["id"] > cursor["id"]), len(self.points)) if cursor else 0
        )
        page = self.points[start : start + limit]
        return page, ({"id": page[-1]["id"]} if start + limit < len(self.points) else None)


class IncidentList:
    """Incidents.list: shown incidents, newest first, paged by an opaque cursor."""

    def __init__(self, incidents, page_size=2):
        self.incidents = incidents
        self.page_size = page_size
        self.asked: list[dict] = []

    def list(self, params):
        self.asked.append(dict(params))
        chosen = [i for i in self.incidents if i["status"] == params.get("status", i["status"])]
        start = int(params.get("cursor") or 0)
        page = chosen[start : start + self.page_size]
        more = start + self.page_size < len(chosen)
        return {"items": page, "next_cursor": str(start + self.page_size) if more else None}


class Alerts:
    def __init__(self, alerts):
        self.alerts = alerts

    def active_alerts(self):
        return self.alerts


class Cases:
    def __init__(self, cases):
        self.cases = cases
        self.windows: list[tuple[int, int]] = []

    def open_cases(self):
        return [c for c in self.cases if c["status"] not in ("closed", "cancelled")]

    def reported_between(self, start, end):
        self.windows.append((start, end))
        return [c for c in self.cases if start <= c["reported_ms"] <= end]


class Departments:
    def names(self):
        return {"water": "区水利局", "transport": "区交通运输局", "urban": "区城管局"}


def overview(points=(), incidents=(), alerts=(), cases=()) -> dict[str, Any]:
    built = SafetyOverview(
        Registry(list(points)),
        IncidentList(list(incidents)),
        Alerts(list(alerts)),
        Cases(list(cases)),
        Departments(),
        clock=lambda: NOW,
    ).overview()
    shaped(SafetyOverviewModel, built)  # strict: the response model lists every field
    return built


def test_an_empty_district_has_seven_towns_and_nothing_else():
    found = overview()
    assert [t["town"] for t in found["towns"]] == [t.value for t in Town]
    assert found["risk_points"] == {
        "total": 0,
        "by_level": {"major": 0, "large": 0, "general": 0, "low": 0},
        "by_state": {"normal": 0, "alerting": 0, "incident": 0},
        "items": [],
    }
    assert found["incidents"]["open"] == 0 and [g["count"] for g in found["incidents"]["by_grade"]] == [0] * 4
    assert found["cases"] == {"overdue": 0, "items": []}
    assert found["departments"]["items"] == [] and found["departments"]["days"] == 30
    assert [(lv["level"], lv["rgb"]) for lv in found["levels"]] == [
        ("major", "#D7191C"),
        ("large", "#FF8C00"),
        ("general", "#FFD700"),
        ("low", "#1F78B4"),
    ]


def test_risk_points_are_coloured_by_level_and_their_state_is_incident_alerting_or_normal():
    points = [
        point("rp-000000000001", "九江镇", "major", ["jj-water"], "九江下穿隧道"),
        point("rp-000000000002", "大沥镇", "general", ["dl-road"], "大沥市场"),
        point("rp-000000000003", "桂城街道", "low", ["gc-gauge"], "桂城泵站"),
        point("rp-000000000004", "西樵镇", "large", [], "西樵水库"),
    ]
    incidents = [incident("inc-20261201-aaaaaaaaaa", "九江镇", "III", ["rp-000000000001"], NOW - HOUR)]
    alerts = [alert("jj-water"), alert("dl-road", "high", "traffic"), alert("gc-gauge", "medium", "offline")]
    found = overview(points, incidents, alerts)
    rows = {r["id"]: r for r in found["risk_points"]["items"]}
    assert [r["id"] for r in found["risk_points"]["items"]] == [
        "rp-000000000001",  # incident first
        "rp-000000000002",  # then alerting
        "rp-000000000004",  # then by level: large before low
        "rp-000000000003",
    ]
    flood = rows["rp-000000000001"]
    assert (flood["state"], flood["state_name"], flood["rgb"], flood["colour"]) == (
        "incident",
        "事件处置中",
        "#D7191C",
        "红",
    )
    assert (flood["incident_id"], flood["incident_grade"], flood["open_alerts"]) == (
        "inc-20261201-aaaaaaaaaa",
        "III",
        1,
    )
    market = rows["rp-000000000002"]
    assert (market["state"], market["worst_severity"], market["rgb"]) == ("alerting", "high", "#FFD700")
    pump = rows["rp-000000000003"]  # a silent device is a maintenance matter, not an alert of the point
    assert (pump["state"], pump["open_alerts"], pump["silent_devices"]) == ("normal", 0, 1)
    assert pump["department_name"] == "区水利局" and pump["devices"] == 1
    assert found["risk_points"]["by_state"] == {"normal": 2, "alerting": 1, "incident": 1}
    assert found["risk_points"]["by_level"] == {"major": 1, "large": 1, "general": 1, "low": 1}
    jiujiang = next(t for t in found["towns"] if t["town"] == "九江镇")
    assert jiujiang == {
        "town": "九江镇",
        "risk_points": 1,
        "alerting": 0,
        "in_incident": 1,
        "open_incidents": 1,
        "worst_grade": "III",
        "worst_grade_rgb": "#FFD700",
    }


def test_open_incidents_are_read_page_by_page_and_counted_by_grade():
    incidents = [
        incident(f"inc-20261201-{n:010d}", town, grade, [], NOW - n * HOUR)
        for n, (town, grade) in enumerate(
            [("九江镇", "II"), ("九江镇", "IV"), ("桂城街道", "IV"), ("狮山镇", "III"), ("里水镇", "IV")]
        )
    ]
    closed = {**incident("inc-20261130-cccccccccc", "丹灶镇", "I", [], NOW - DAY), "status": "closed"}
    listing = IncidentList([*incidents, closed])
    built = SafetyOverview(Registry([]), listing, Alerts([]), Cases([]), Departments(), clock=lambda: NOW).overview()
    assert [p.get("status") for p in listing.asked] == ["open"] * 3 and listing.asked[1]["cursor"] == "2"
    assert built["incidents"]["open"] == 5
    assert [(g["grade"], g["grade_name"], g["rgb"], g["count"]) for g in built["incidents"]["by_grade"]] == [
        ("I", "特别重大", "#D7191C", 0),
        ("II", "重大", "#FF8C00", 1),
        ("III", "较大", "#FFD700", 1),
        ("IV", "一般", "#1F78B4", 3),
    ]
    first = built["incidents"]["items"][0]
    assert first["id"] == "inc-20261201-0000000000" and first["domain_names"] == ["城管", "交通"]
    assert first["departments"] == ["区水利局", "区交通运输局"] and first["alerts"] == 2
    assert next(t for t in built["towns"] if t["town"] == "九江镇")["worst_grade"] == "II"


def test_overdue_cases_are_those_with_a_step_past_its_deadline_marked_or_not_yet():
    lead_support = [{"department": "urban", "role": "lead"}, {"department": "transport", "role": "support"}]
    late_ack = case("case-20261201-0000000001", "dispatched", NOW - 90 * MINUTE, assignments=lead_support)
    marked = case(
        "case-20261129-0000000002",
        "processing",
        NOW - 3 * DAY,
        lead="urban",
        grade="III",
        assignments=[{"department": "urban", "role": "lead", "acknowledged_ms": NOW - 3 * DAY + MINUTE}],
        overdue=[{"step": "close", "department": None, "at": timeutil.local_iso(NOW - DAY)}],
    )
    in_time = case("case-20261201-0000000003", "dispatched", NOW - 30 * MINUTE, assignments=lead_support)
    waiting = case("case-20261201-0000000004", "registered", None)
    closed_late = case("case-20261120-0000000005", "closed", NOW - 10 * DAY, assignments=lead_support)
    found = overview(cases=[late_ack, marked, in_time, waiting, closed_late])["cases"]
    assert found["overdue"] == 2
    longest, late = found["items"]
    assert longest["id"] == "case-20261129-0000000002" and longest["grade"] == "III"
    (step,) = longest["steps"]
    assert (step["step"], step["step_name"], step["department"]) == ("close", "结案超时", None)
    assert step["marked_at"] == timeutil.local_iso(NOW - DAY) and step["overdue_minutes"] == 24 * 60
    assert longest["most_overdue_minutes"] == 24 * 60 and longest["lead_name"] == "区城管局"
    assert late["id"] == "case-20261201-0000000001" and late["status_name"] == "已派遣"
    assert [(s["step"], s["department_name"], s["overdue_minutes"]) for s in late["steps"]] == [
        ("acknowledge", "区交通运输局", 30),
        ("acknowledge", "区城管局", 30),
    ]
    assert all("marked_at" not in s for s in late["steps"])  # not yet marked by the scheduled check


def test_on_time_rates_come_from_the_cases_evaluation_of_the_last_30_days():
    def assigned(ack_after: int | None, lead_ack_after: int | None) -> list[dict]:
        out = [{"department": "urban", "role": "lead"}, {"department": "transport", "role": "support"}]
        for a, after in zip(out, (lead_ack_after, ack_after), strict=True):
            if after is not None:
                a["acknowledged_ms"] = NOW - 5 * DAY + after * MINUTE
        return out

    dispatched = NOW - 5 * DAY
    on_time = case(
        "case-20261126-0000000001",
        "closed",
        dispatched,
        assignments=assigned(30, 20),
        closed_ms=dispatched + 10 * HOUR,
    )
    late = case(
        "case-20261126-0000000002",
        "closed",
        dispatched,
        assignments=assigned(90, 70),
        closed_ms=dispatched + 50 * HOUR,
        sent_back=1,
    )
    open_one = case("case-20261126-0000000003", "processing", dispatched, assignments=assigned(None, 10))
    old = case("case-20261001-0000000004", "closed", NOW - 60 * DAY, assignments=assigned(1, 1), closed_ms=NOW)
    not_dispatched = case("case-20261201-0000000005", "reported", None)
    reader = Cases([on_time, late, open_one, old, not_dispatched])
    built = SafetyOverview(Registry([]), IncidentList([]), Alerts([]), reader, Departments(), clock=lambda: NOW)
    found = built.overview()["departments"]
    assert reader.windows == [(NOW - 30 * DAY, NOW)]
    assert (found["from"], found["to"]) == (timeutil.local_iso(NOW - 30 * DAY), timeutil.local_iso(NOW))
    transport, urban = found["items"]  # by cases received, then id
    assert urban["department"] == "urban" and urban["name"] == "区城管局"
    assert (urban["received"], urban["acknowledged_on_time"], urban["received_as_lead"]) == (3, 2, 3)
    assert (urban["closed_on_time"], urban["sent_back"]) == (1, 1)
    assert urban["acknowledged_on_time_rate"] == round(2 / 3, 4) and urban["closed_on_time_rate"] == round(1 / 3, 4)
    assert (transport["received"], transport["acknowledged_on_time"], transport["received_as_lead"]) == (3, 1, 0)
    assert transport["acknowledged_on_time_rate"] == round(1 / 3, 4) and transport["closed_on_time_rate"] is None

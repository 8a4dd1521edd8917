"""大安全态势: the big-safety view's figures, computed on each request from what the platform
already keeps — the risk registry, the open incidents, the active alerts, the open cases and
the cases reported in the last 30 days. Nothing is stored for it.

- Risk points: each with its level colour (重大/较大/一般/低风险, red/orange/yellow/blue) and
  its state now: `incident` when an open incident joins it, else `alerting` when one of its
  devices has an active (open or acknowledged) alert — offline alerts aside: a silent device
  is a maintenance matter, counted in `silent_devices` — else `normal`.
- Incidents: the open ones, newest first, counted per grade (I–IV with their colours).
- Overdue cases (超时): open cases with a step past its deadline now — marked by the
  scheduled check already or not yet (an assignment not acknowledged by `acknowledge_by`,
  the case not closed by `close_by`).
- Departments' on-time rates over the last 30 days, from the cases' evaluation
  (citybrain.cases.workflow.stats, over the dispatched cases reported in the window):
  acknowledged on time / received, and closed on time / received as lead department.

Pure apart from the readers it is given: tests run it on in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from citybrain.cases.workflow import overdue_steps, stats
from citybrain.core import timeutil
from citybrain.core.vocabulary import DOMAIN_NAMES, Town
from citybrain.safety.incidents import GRADE_NAMES, GRADES, NOT_FUSED, SEVERITY_ORDER
from citybrain.safety.risk_points import LEVEL_COLOURS, RiskLevel, shown

WINDOW_DAYS = 30
DAY_MS = 86_400_000
POINT_PAGE = 1000
INCIDENT_PAGE = "200"
STATES = ("normal", "alerting", "incident")
STATE_NAMES = {"normal": "正常", "alerting": "告警中", "incident": "事件处置中"}
CASE_STATUS_NAMES = {
    "reported": "已上报",
    "registered": "已立案",
    "dispatched": "已派遣",
    "processing": "处理中",
    "fed_back": "已反馈",
}
STEP_NAMES = {"acknowledge": "签收超时", "close": "结案超时"}


# -- what it reads ------------------------------------------------------------------
class RiskPointListing(Protocol):
    """The registry (citybrain.safety.risk_point_store)."""

    def list(self, filters: dict[str, str], limit: int, cursor: dict | None) -> tuple[list[dict], dict | None]: ...


class IncidentListing(Protocol):
    """The incidents service's listing (citybrain.safety.fusion.Incidents.list): shown incidents."""

    def list(self, params: Mapping[str, str]) -> dict[str, Any]: ...


class AlertListing(Protocol):
    """The active alerts (citybrain.alerts.store: a sparse index of the active ones)."""

    def active_alerts(self) -> list[dict[str, Any]]: ...


class CaseReader(Protocol):
    """The cases (citybrain.cases.store): the open ones (a sparse index) and those reported in a window."""

    def open_cases(self) -> list[dict[str, Any]]: ...
    def reported_between(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]: ...


class DepartmentNames(Protocol):
    def names(self) -> dict[str, str]: ...


# -- the figures ----------------------------------------------------------------------
def level_legend() -> list[dict[str, str]]:
    return [{"level": lvl.value, "name": c.name, "colour": c.colour, "rgb": c.rgb} for lvl, c in LEVEL_COLOURS.items()]


def worst_severity(alerts: Iterable[Mapping[str, Any]]) -> str | None:
    found = [a["severity"] for a in alerts if a.get("severity") in SEVERITY_ORDER]
    return min(found, key=SEVERITY_ORDER.index) if found else None


def point_row(
    point: Mapping[str, Any],
    alerts_by_device: Mapping[str, list[Mapping[str, Any]]],
    incident: Mapping[str, Any] | None,
    names: Mapping[str, str],
) -> dict[str, Any]:
    listed = shown(point)
    alerts = [a for d in point.get("devices", []) for a in alerts_by_device.get(d, [])]
    fused = [a for a in alerts if a.get("rule") not in NOT_FUSED]
    silent = {a["device_id"] for a in alerts if a.get("rule") in NOT_FUSED}
    state = "incident" if incident else ("alerting" if fused else "normal")
    row: dict[str, Any] = {
        name: listed[name]
        for name in (
            "id",
            "name",
            "category",
            "category_name",
            "kind",
            "town",
            "location",
            "risk_level",
            "risk_level_name",
            "colour",
            "rgb",
            "department",
        )
    }
    row.update(
        department_name=names.get(point["department"], point["department"]),
        devices=len(point.get("devices", [])),
        state=state,
        state_name=STATE_NAMES[state],
        open_alerts=len(fused),
        worst_severity=worst_severity(fused),
        silent_devices=len(silent),
        incident_id=incident["id"] if incident else None,
        incident_grade=incident["grade"] if incident else None,
    )
    return row


def incident_row(incident: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": incident["id"],
        "grade": incident["grade"],
        "grade_name": incident["grade_name"],
        "colour": incident["colour"],
        "rgb": incident["rgb"],
        "category": incident["category"],
        "category_name": incident["category_name"],
        "source": incident["source"],
        "town": incident["town"],
        **({"location": incident["location"]} if incident.get("location") else {}),  # absent, never null
        "domains": list(incident.get("domains", [])),
        "domain_names": [DOMAIN_NAMES.get(d, d) for d in incident.get("domains", [])],
        "departments": [names.get(d, d) for d in incident.get("departments", [])],
        "risk_points": list(incident.get("risk_points", [])),
        "alerts": len(incident.get("alerts", [])),
        "opened_at": incident["opened_at"],
    }


def by_grade(incidents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "grade": grade,
            "grade_name": GRADE_NAMES[grade].name,
            "colour": GRADE_NAMES[grade].colour,
            "rgb": GRADE_NAMES[grade].rgb,
            "count": sum(i["grade"] == grade for i in incidents),
        }
        for grade in GRADES
    ]


def overdue_case(case: Mapping[str, Any], now_ms: int, names: Mapping[str, str]) -> dict[str, Any] | None:
    """The case's steps past their deadline now (marked or not yet), or None when none is."""
    found: dict[tuple[str, str | None], dict[str, Any]] = {}
    for mark in case.get("overdue", []):
        found[(mark["step"], mark.get("department"))] = {"marked_at": mark["at"]}
    if case["status"] not in ("dispatched", "processing", "fed_back"):
        return None
    for newly in overdue_steps(case, now_ms):
        found.setdefault(newly, {})
    if not found:
        return None
    deadline = {"acknowledge": case.get("acknowledge_by_ms"), "close": case.get("close_by_ms")}
    steps = []
    for (step, department), extra in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        due = deadline[step]
        steps.append(
            {
                "step": step,
                "step_name": STEP_NAMES[step],
                "department": department,
                "department_name": names.get(department, department) if department else None,
                "deadline": timeutil.local_iso(int(due)) if due else None,
                "overdue_minutes": max(0, (now_ms - int(due)) // 60_000) if due else None,
                **extra,
            }
        )
    lead = case.get("lead")
    row: dict[str, Any] = {
        "id": case["id"],
        "category": case["category"],
        "subcategory": case["subcategory"],
        "town": case["town"],
        "status": case["status"],
        "status_name": CASE_STATUS_NAMES.get(case["status"], case["status"]),
        "lead": lead,
        "lead_name": names.get(lead, lead) if lead else None,
        "dispatched_at": case.get("dispatched_at"),
        "steps": steps,
        "most_overdue_minutes": max((s["overdue_minutes"] or 0) for s in steps),
    }
    for name in ("grade", "incident_id"):
        if case.get(name):
            row[name] = case[name]
    return row


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def on_time(cases: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per department (by name), its evaluation over the cases and its two on-time rates."""
    evaluation = stats(cases)
    as_lead: dict[str, int] = {}
    for case in cases:
        for a in case.get("assignments", []):
            if a["role"] == "lead":
                as_lead[a["department"]] = as_lead.get(a["department"], 0) + 1
    rows = []
    for department, figures in evaluation.items():
        lead = as_lead.get(department, 0)
        rows.append(
            {
                "department": department,
                "name": names.get(department, department),
                **figures,
                "received_as_lead": lead,
                "acknowledged_on_time_rate": rate(figures["acknowledged_on_time"], figures["received"]),
                "closed_on_time_rate": rate(figures["closed_on_time"], lead),
            }
        )
    rows.sort(key=lambda r: (-r["received"], r["department"]))
    return rows


# -- the overview ---------------------------------------------------------------------
class SafetyOverview:
    def __init__(
        self,
        risk_points: RiskPointListing,
        incidents: IncidentListing,
        alerts: AlertListing,
        cases: CaseReader,
        departments: DepartmentNames,
        clock: Callable[[], int] = timeutil.now_ms,
    ) -> None:
        self.risk_points = risk_points
        self.incidents = incidents
        self.alerts = alerts
        self.cases = cases
        self.departments = departments
        self.clock = clock

    def overview(self) -> dict[str, Any]:
        """GET /v1/safety/overview: risk points with their state, open incidents by grade,
        overdue cases and the departments' on-time rates of the last 30 days."""
        now = self.clock()
        names = self.departments.names()
        points = self._all_points()
        incidents = self._open_incidents()
        incident_of: dict[str, Mapping[str, Any]] = {}
        for incident in reversed(incidents):  # the newest wins when two name a point
            for point_id in incident.get("risk_points", []):
                incident_of[point_id] = incident
        alerts_by_device: dict[str, list[Mapping[str, Any]]] = {}
        for alert in self.alerts.active_alerts():
            alerts_by_device.setdefault(alert["device_id"], []).append(alert)
        rows = [point_row(p, alerts_by_device, incident_of.get(p["id"]), names) for p in points]
        rank = {lvl.value: i for i, lvl in enumerate(RiskLevel)}
        rows.sort(key=lambda r: (-STATES.index(r["state"]), rank[r["risk_level"]], r["town"], r["name"], r["id"]))

        overdue = [row for c in self.cases.open_cases() if (row := overdue_case(c, now, names))]
        overdue.sort(key=lambda r: (-r["most_overdue_minutes"], r["id"]))
        start = now - WINDOW_DAYS * DAY_MS
        dispatched = [c for c in self.cases.reported_between(start, now) if c.get("dispatched_ms")]

        return {
            "generated_at": timeutil.local_iso(now),
            "levels": level_legend(),
            "risk_points": {
                "total": len(rows),
                "by_level": {lvl.value: sum(r["risk_level"] == lvl.value for r in rows) for lvl in RiskLevel},
                "by_state": {s: sum(r["state"] == s for r in rows) for s in STATES},
                "items": rows,
            },
            "incidents": {
                "open": len(incidents),
                "by_grade": by_grade(incidents),
                "items": [incident_row(i, names) for i in incidents],
            },
            "towns": [self._town(town.value, rows, incidents) for town in Town],
            "cases": {"overdue": len(overdue), "items": overdue},
            "departments": {
                "from": timeutil.local_iso(start),
                "to": timeutil.local_iso(now),
                "days": WINDOW_DAYS,
                "items": on_time(dispatched, names),
            },
        }

    @staticmethod
    def _town(town: str, rows: Sequence[Mapping[str, Any]], incidents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        points = [r for r in rows if r["town"] == town]
        grades = [i["grade"] for i in incidents if i["town"] == town]
        worst = min(grades, key=GRADES.index) if grades else None
        return {
            "town": town,
            "risk_points": len(points),
            "alerting": sum(r["state"] == "alerting" for r in points),
            "in_incident": sum(r["state"] == "incident" for r in points),
            "open_incidents": len(grades),
            "worst_grade": worst,
            "worst_grade_rgb": GRADE_NAMES[worst].rgb if worst else None,
        }

    def _all_points(self) -> list[dict[str, Any]]:
        points: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.risk_points.list({}, POINT_PAGE, cursor)
            points += page
            if not cursor:
                return points

    def _open_incidents(self) -> list[dict[str, Any]]:
        """Every open incident, newest first, through the service's listing (paged)."""
        found: list[dict[str, Any]] = []
        params = {"status": "open", "limit": INCIDENT_PAGE}
        while True:
            page = self.incidents.list(params)
            found += [i for i in page["items"] if i["status"] == "open"]
            if not page.get("next_cursor"):
                return found
            params = {**params, "cursor": page["next_cursor"]}

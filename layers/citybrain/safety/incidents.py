"""Incidents (事件) of the big-safety platform: alerts of one place fused into one incident
with one record of what happened, graded as China's emergency response grades them.

Classification and grades:
- `category` per GB/T 35561-2017 (突发事件分类与编码), its four classes: 自然灾害
  (natural_disaster), 事故灾难 (accident), 公共卫生事件 (public_health), 社会安全事件
  (social_security). From the risk point's category when the incident has one (a
  natural-disaster point → 自然灾害; lifeline and production-safety points → 事故灾难;
  public-safety points → 社会安全事件; of several, the one of the highest risk level), else
  from its alerts (floodRisk → 自然灾害; the other sensing alerts — building risk, traffic
  jams, pollution, noise — → 事故灾难).
- `grade`: the four levels of the Emergency Response Law (突发事件应对法, art. 3): I 特别重大
  red, II 重大 orange, III 较大 yellow, IV 一般 blue. Fusion grades by GRADING below: the
  worst of its alerts' severities at the highest risk level among its points, raised one
  level when three or more domains are involved. Automatic grading stops at II: grade I is
  declared by people. A district changes cells of the table, and the number of domains that
  raises a grade, with CITYBRAIN_INCIDENT_GRADING (GradingTable.configured, e.g.
  `{"large": {"critical": "III"}, "raising_domains": 4}`).

Fusion, as each alert opens or escalates (never by a scan), in this order:
1. the alert's device is bound to a risk point that has an open incident → it joins it;
2. the alert's town has an open incident with activity within the fusion window → it joins;
3. the device is bound to a risk point → a new incident of that point (and of the town);
4. otherwise the alert waits in its town's window: when alerts of two or more domains are
   within the window, they open one cross-domain incident together.
The slots that make it race-free (a risk point's and a town's) are written in the same
transaction as the incident, each at the version it was read at, so two concurrent alerts
never open two incidents. Resolving every joined alert does not close an incident: people do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from citybrain.core import timeutil
from citybrain.core.validation import Note
from citybrain.core.vocabulary import Town
from citybrain.sensing.devices import Location

GRADES = ("I", "II", "III", "IV")  # most severe first


class Grade(NamedTuple):
    name: str
    colour: str
    rgb: str


GRADE_NAMES = {
    "I": Grade("特别重大", "红", "#D7191C"),
    "II": Grade("重大", "橙", "#FF8C00"),
    "III": Grade("较大", "黄", "#FFD700"),
    "IV": Grade("一般", "蓝", "#1F78B4"),
}
CATEGORY_NAMES = {
    "natural_disaster": "自然灾害",
    "accident": "事故灾难",
    "public_health": "公共卫生事件",
    "social_security": "社会安全事件",
}
RISK_POINT_CATEGORY = {
    "natural_disaster": "natural_disaster",
    "lifeline": "accident",
    "production_safety": "accident",
    "public_safety": "social_security",
}
ALERT_CATEGORY = {"floodRisk": "natural_disaster"}  # any other sensing alert: accident
# (risk level of the incident's points, or "none") x (worst alert severity) -> grade.
GRADING: dict[str, dict[str, str]] = {
    "major": {"critical": "III", "high": "IV", "medium": "IV", "low": "IV", "informational": "IV"},
    "large": {"critical": "IV", "high": "IV", "medium": "IV", "low": "IV", "informational": "IV"},
    "general": {"critical": "IV", "high": "IV", "medium": "IV", "low": "IV", "informational": "IV"},
    "low": {"critical": "IV", "high": "IV", "medium": "IV", "low": "IV", "informational": "IV"},
    "none": {"critical": "IV", "high": "IV", "medium": "IV", "low": "IV", "informational": "IV"},
}
RAISING_DOMAINS = 3  # this many domains at once raise the grade one level
HIGHEST_AUTOMATIC = "II"
RISK_ORDER = ("major", "large", "general", "low")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "informational")
FUSED_DOMAINS = 2  # alerts of this many domains in a town's window open an incident
NOT_FUSED = frozenset({"offline"})  # a silent device is a maintenance matter, not an incident


@dataclass(frozen=True)
class AlertFact:
    """What fusion needs of an alert (from its notification and its device)."""

    id: str
    rule: str
    sub_category: str
    severity: str
    domain: str
    town: str
    t: int  # when it was issued (or escalated), epoch ms
    device_id: str
    owner: str | None
    location: Mapping[str, Any] | None
    event: str  # opened | escalated


def alert_fact(message: Mapping[str, Any], device: Mapping[str, Any]) -> AlertFact:
    """What fusion needs of an alert notification and its device."""
    escalated = message.get("event") == "escalated"
    when = message.get("lastSeen") if escalated else message.get("dateIssued")
    return AlertFact(
        id=message["id"],
        rule=str(message.get("rule") or message["id"].split("-")[2]),  # al-<t>-<rule>-<device>
        sub_category=message["subCategory"],
        severity=message["severity"],
        domain=str(message.get("domain") or device.get("domain") or ""),
        town=str(message.get("town") or device.get("town") or ""),
        t=timeutil.parse_instant(when),
        device_id=message["alertSource"],
        owner=device.get("owner"),
        location=device.get("location"),
        event=str(message.get("event")),
    )


@dataclass(frozen=True)
class GradingTable:
    """GRADING and RAISING_DOMAINS, or a district's own cells of them."""

    cells: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: GRADING)
    raising_domains: int = RAISING_DOMAINS

    @classmethod
    def configured(cls, text: str) -> GradingTable:
        """The default table with the cells a JSON object changes; ValueError names what is wrong."""
        if not text.strip():
            return cls()
        try:
            changes = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"incident grading: not JSON ({exc.msg})") from None
        if not isinstance(changes, dict):
            raise ValueError("incident grading: a JSON object of risk level -> {severity: grade}")
        raising = changes.pop("raising_domains", RAISING_DOMAINS)
        if not isinstance(raising, int) or isinstance(raising, bool) or not 2 <= raising <= 6:
            raise ValueError("incident grading: raising_domains is a whole number from 2 to 6")
        cells = {level: dict(row) for level, row in GRADING.items()}
        for level, row in changes.items():
            if level not in cells or not isinstance(row, dict):
                raise ValueError(f"incident grading: {level!r} is not one of {', '.join(cells)}")
            for severity, grade in row.items():
                if severity not in SEVERITY_ORDER:
                    raise ValueError(f"incident grading: {level}.{severity} is not a severity")
                if grade not in GRADES[GRADES.index(HIGHEST_AUTOMATIC) :]:
                    raise ValueError(f"incident grading: {level}.{severity} = {grade!r}; one of II, III, IV")
                cells[level][severity] = grade
        return cls(cells, raising)

    def grade(self, risk_levels: Iterable[str], severities: Iterable[str], domains: int) -> str:
        levels = [lvl for lvl in risk_levels if lvl in RISK_ORDER]
        level = min(levels, key=RISK_ORDER.index) if levels else "none"
        worst = min(severities, key=SEVERITY_ORDER.index, default="informational")
        grade = self.cells[level][worst]
        if domains >= self.raising_domains:
            grade = GRADES[max(GRADES.index(grade) - 1, GRADES.index(HIGHEST_AUTOMATIC))]
        return grade


DEFAULT_GRADING = GradingTable()


def grade_of(
    risk_levels: Iterable[str], severities: Iterable[str], domains: int, table: GradingTable = DEFAULT_GRADING
) -> str:
    return table.grade(risk_levels, severities, domains)


def more_severe(a: str, b: str) -> str:
    return a if GRADES.index(a) <= GRADES.index(b) else b


@dataclass
class Fused:
    """The incident after an alert joined or opened it, and what to publish."""

    incident: dict[str, Any]
    created: bool
    grade_changed: bool
    joined: bool = True
    waiting: list[dict[str, Any]] = field(default_factory=list)


def new_incident(
    alerts: Sequence[AlertFact],
    points: Sequence[Mapping[str, Any]],
    window_ms: int,
    now_ms: int,
    grading: GradingTable = DEFAULT_GRADING,
) -> dict[str, Any]:
    first = alerts[0]
    incident: dict[str, Any] = {
        "id": f"inc-{timeutil.local_date(first.t).replace('-', '')}-{uuid.uuid4().hex[:10]}",
        "source": "alerts",
        "status": "open",
        "town": first.town,
        "location": dict(points[0]["location"]) if points else (dict(first.location) if first.location else None),
        "alerts": [],
        "risk_points": [],
        "domains": [],
        "departments": [],
        "severities": {},
        "risk_levels": {},
        "timeline": [],
        "opened_at": timeutil.local_iso(now_ms),
        "opened_ms": now_ms,
        "window_ms": window_ms,
    }
    incident["grade"] = "IV"
    for alert in alerts:
        join(incident, alert, points, now_ms, grading)
    incident["timeline"].insert(0, {"at": timeutil.local_iso(now_ms), "action": "opened", "by": "fusion"})
    return incident


class IncidentIn(BaseModel):
    """POST /v1/incidents: an incident a department reports (not from the sensors)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Literal["natural_disaster", "accident", "public_health", "social_security"]
    grade: Literal["I", "II", "III", "IV"]
    town: Town
    location: Location
    description: Note = Field(min_length=1)


def reported_incident(
    payload: IncidentIn, department: str, now_ms: int, source: str = "report", case_id: str | None = None
) -> dict[str, Any]:
    """An incident people report (or a case escalates): its grade and category are theirs."""
    at = timeutil.local_iso(now_ms)
    incident: dict[str, Any] = {
        **payload.model_dump(mode="json"),
        "id": f"inc-{timeutil.local_date(now_ms).replace('-', '')}-{uuid.uuid4().hex[:10]}",
        "source": source,
        "status": "open",
        "alerts": [],
        "risk_points": [],
        "domains": [],
        "departments": [department],
        "severities": {},
        "risk_levels": {},
        "category_source": "report",
        "reported_by": department,
        "timeline": [{"at": at, "action": "opened", "by": department}],
        "opened_at": at,
        "opened_ms": now_ms,
        "last_alert_ms": now_ms,
        "window_ms": 0,  # alerts are fused into the incidents of their risk points and towns, not into this one
    }
    if case_id:
        incident["case_id"] = case_id
    return incident


def join(
    incident: dict[str, Any],
    alert: AlertFact,
    points: Sequence[Mapping[str, Any]],
    now_ms: int,
    grading: GradingTable = DEFAULT_GRADING,
) -> tuple[bool, str]:
    """Fold an alert (and the risk points of its device) into the incident; (changed, previous grade)."""
    previous = incident["grade"]
    known = alert.id in incident["alerts"]
    if known and incident["severities"].get(alert.id) == alert.severity:
        return False, previous  # a redelivered notification
    if not known:
        incident["alerts"].append(alert.id)
    incident["severities"][alert.id] = alert.severity
    for value, key in ((alert.domain, "domains"), (alert.owner, "departments")):
        if value and value not in incident[key]:
            incident[key].append(value)
    for point in points:
        if point["id"] not in incident["risk_points"]:
            incident["risk_points"].append(point["id"])
        incident["risk_levels"][point["id"]] = point["risk_level"]
        if point["department"] not in incident["departments"]:
            incident["departments"].append(point["department"])
    if points:  # the category of its gravest risk point (the first of them on a tie)
        for point in points:
            incident.setdefault("risk_categories", {})[point["id"]] = point["category"]
        gravest = min(incident["risk_levels"], key=lambda p: RISK_ORDER.index(incident["risk_levels"][p]))
        incident["category"] = RISK_POINT_CATEGORY[incident["risk_categories"][gravest]]
        incident["category_source"] = "risk_point"
    elif incident.get("category_source") != "risk_point" and (
        "category" not in incident or alert.sub_category in ALERT_CATEGORY
    ):
        incident["category"] = ALERT_CATEGORY.get(alert.sub_category, "accident")
        incident["category_source"] = "alerts"
    grade = grading.grade(incident["risk_levels"].values(), incident["severities"].values(), len(incident["domains"]))
    incident["grade"] = more_severe(grade, previous)  # fusion never lowers a grade
    incident["last_alert_ms"] = max(incident.get("last_alert_ms", 0), alert.t)
    incident["timeline"].append(
        {
            "at": timeutil.local_iso(now_ms),
            "action": "alert escalated" if known else "alert joined",
            "by": "fusion",
            "alert_id": alert.id,
            "severity": alert.severity,
            "domain": alert.domain,
        }
    )
    if incident["grade"] != previous:
        incident["timeline"].append(
            {
                "at": timeutil.local_iso(now_ms),
                "action": "graded",
                "by": "fusion",
                "from": previous,
                "to": incident["grade"],
            }
        )
    return True, previous


def within_window(incident: Mapping[str, Any], t: int) -> bool:
    return incident["status"] == "open" and t - int(incident.get("last_alert_ms", 0)) <= int(incident["window_ms"])


def shown(incident: Mapping[str, Any]) -> dict[str, Any]:
    grade = GRADE_NAMES[incident["grade"]]
    hidden = (
        "risk_categories",
        "severities",
        "risk_levels",
        "opened_ms",
        "last_alert_ms",
        "window_ms",
        "version",
        "category_source",
        "notified_grade",
        "notified_closed",
        "feed",
        "opened_key",
    )
    return {
        **{k: v for k, v in incident.items() if k not in hidden},
        "grade_name": grade.name,
        "colour": grade.colour,
        "rgb": grade.rgb,
        "category_name": CATEGORY_NAMES[incident["category"]],
        "version": incident.get("version"),
    }

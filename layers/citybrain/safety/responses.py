"""Response models of the risk registry's routes (see citybrain.core.responses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from citybrain.alerts.responses import AlertSummary, Severity
from citybrain.core.responses import Instant, Open, Page, Shape, optional
from citybrain.core.vocabulary import Town
from citybrain.sensing.responses import LatestObservation, Position

Category = Literal["lifeline", "public_safety", "production_safety", "natural_disaster"]
Level = Literal["major", "large", "general", "low"]


class RiskContact(Shape):
    name: str
    phone: str
    role: str | None = optional()


class Binding(Shape):
    """A device of another department bound to the point: recorded with who bound it and when."""

    device_id: str
    owner: str | None = Field(description="the device's department")
    bound_by: str
    bound_at: Instant


class DeviceState(Shape):
    device_id: str
    latest: LatestObservation | None = Field(
        description="its newest reading with derived indicators; null until it reports"
    )


class RiskPointState(Shape):
    devices: list[DeviceState]
    open_alerts: list[AlertSummary] = Field(description="open or acknowledged alerts of the bound devices")
    open_incident: Incident | None = Field(description="the point's open incident, if any")


class RiskPoint(Shape):
    id: str
    name: str
    category: Category
    category_name: str = Field(description="城市生命线, 公共安全, 安全生产 or 自然灾害")
    kind: str
    town: Town
    location: Position
    risk_level: Level
    risk_level_name: str = Field(description="重大风险, 较大风险, 一般风险 or 低风险")
    colour: str = Field(description="红, 橙, 黄 or 蓝 (China's graded risk control colours)")
    rgb: str
    department: str = Field(description="the responsible department")
    contacts: list[RiskContact]
    devices: list[str]
    bindings: list[Binding]
    version: int = Field(description="send it back with a PUT")
    created_at: Instant
    created_by: str
    updated_at: Instant
    updated_by: str


class RiskPointDetail(RiskPoint):
    state: RiskPointState


class RiskPointPage(Page[RiskPoint]):
    pass


class TimelineEntry(Open):
    """What happened: opened, alert joined, alert escalated, graded, closed — by whom and when."""

    at: Instant
    action: str
    by: str = Field(description="fusion, or the department that acted")


class Incident(Shape):
    id: str
    source: Literal["alerts", "report", "case"]
    status: Literal["open", "closed"]
    category: Literal["natural_disaster", "accident", "public_health", "social_security"]
    category_name: str = Field(description="GB/T 35561-2017: 自然灾害, 事故灾难, 公共卫生事件 or 社会安全事件")
    grade: Literal["I", "II", "III", "IV"]
    grade_name: str = Field(description="特别重大, 重大, 较大 or 一般")
    colour: str = Field(description="红, 橙, 黄 or 蓝")
    rgb: str
    town: str
    location: Position | None = optional("its risk point's, else its first alert's device's")
    alerts: list[str] = Field(description="the alerts it joins")
    risk_points: list[str]
    domains: list[str]
    departments: list[str] = Field(description="the devices' and risk points' departments")
    timeline: list[TimelineEntry]
    opened_at: Instant
    description: str | None = optional("a reported incident's account")
    reported_by: str | None = optional("the department that reported it (or the command centre that escalated a case)")
    case_id: str | None = optional("the case it was escalated from")
    closed_at: Instant | None = optional()
    closed_by: str | None = optional()
    version: int


class IncidentPage(Page[Incident]):
    pass


RiskPointState.model_rebuild()
RiskPointDetail.model_rebuild()


# -- GET /v1/safety/overview (citybrain.safety.overview) ---------------------------------
Grade = Literal["I", "II", "III", "IV"]
PointState = Literal["normal", "alerting", "incident"]


class LevelLegend(Shape):
    level: Level
    name: str = Field(description="重大风险, 较大风险, 一般风险 or 低风险")
    colour: str = Field(description="红, 橙, 黄 or 蓝")
    rgb: str


class OverviewRiskPoint(Shape):
    """A risk point with its level colour and its state now."""

    id: str
    name: str
    category: Category
    category_name: str
    kind: str
    town: Town
    location: Position
    risk_level: Level
    risk_level_name: str
    colour: str
    rgb: str = Field(description="the level's colour, #RRGGBB")
    department: str
    department_name: str
    devices: int = Field(description="monitoring devices bound to it")
    state: PointState = Field(
        description="incident: an open incident joins it; alerting: an active alert of one of its devices "
        "(offline alerts aside); normal otherwise"
    )
    state_name: str = Field(description="正常, 告警中 or 事件处置中")
    open_alerts: int = Field(description="active alerts of its devices, offline alerts aside")
    worst_severity: Severity | None = Field(description="the worst of those; null without one")
    silent_devices: int = Field(description="bound devices with an active offline alert")
    incident_id: str | None = Field(description="its open incident; null without one")
    incident_grade: Grade | None


class RiskPointFigures(Shape):
    total: int
    by_level: dict[str, int] = Field(description="major, large, general, low")
    by_state: dict[str, int] = Field(description="normal, alerting, incident")
    items: list[OverviewRiskPoint] = Field(description="incident first, then alerting, then by level")


class GradeCount(Shape):
    grade: Grade
    grade_name: str = Field(description="特别重大, 重大, 较大 or 一般")
    colour: str = Field(description="红, 橙, 黄 or 蓝")
    rgb: str
    count: int = Field(description="open incidents of this grade")


class OverviewIncident(Shape):
    id: str
    grade: Grade
    grade_name: str
    colour: str
    rgb: str = Field(description="the grade's warning colour, #RRGGBB")
    category: Literal["natural_disaster", "accident", "public_health", "social_security"]
    category_name: str
    source: Literal["alerts", "report", "case"]
    town: str
    location: Position | None = optional("its risk point's, else its first alert's device's")
    domains: list[str]
    domain_names: list[str] = Field(description="交通, 环保, 城管, 住建, 卫健, 应急")
    departments: list[str] = Field(description="the departments involved, by name")
    risk_points: list[str]
    alerts: int = Field(description="alerts it joins")
    opened_at: Instant


class IncidentFigures(Shape):
    open: int
    by_grade: list[GradeCount] = Field(description="I to IV, each with its count (0 included)")
    items: list[OverviewIncident] = Field(description="every open incident, newest first")


class TownSafety(Shape):
    town: Town
    risk_points: int
    alerting: int = Field(description="its risk points alerting")
    in_incident: int = Field(description="its risk points in an open incident")
    open_incidents: int
    worst_grade: Grade | None = Field(description="the most severe grade of its open incidents")
    worst_grade_rgb: str | None


class OverdueStep(Shape):
    step: Literal["acknowledge", "close"]
    step_name: str = Field(description="签收超时 or 结案超时")
    department: str | None = Field(description="the department that has not acknowledged; null for closing")
    department_name: str | None
    deadline: Instant | None
    overdue_minutes: int | None = Field(description="minutes past the deadline now")
    marked_at: Instant | None = optional("when the scheduled check marked it (absent: not yet marked)")


class OverdueCase(Shape):
    id: str
    category: Literal["部件", "事件"]
    subcategory: str
    town: Town
    status: Literal["dispatched", "processing", "fed_back"]
    status_name: str
    grade: Grade | None = optional("big-safety cases")
    incident_id: str | None = optional()
    lead: str | None
    lead_name: str | None
    dispatched_at: Instant | None
    steps: list[OverdueStep]
    most_overdue_minutes: int


class OverdueCases(Shape):
    overdue: int = Field(description="open cases with a step past its deadline")
    items: list[OverdueCase] = Field(description="the longest overdue first")


class DepartmentOnTime(Shape):
    department: str
    name: str
    received: int = Field(description="cases dispatched to it (lead or support)")
    acknowledged_on_time: int
    received_as_lead: int
    closed_on_time: int = Field(description="as lead department")
    sent_back: int = Field(description="as lead department")
    mean_minutes_to_acknowledge: float | None
    mean_minutes_to_close: float | None
    acknowledged_on_time_rate: float | None = Field(description="acknowledged on time / received; null: none")
    closed_on_time_rate: float | None = Field(description="closed on time / received as lead; null: none")


class DepartmentRates(Shape):
    from_: Instant = Field(alias="from")
    to: Instant
    days: int
    items: list[DepartmentOnTime] = Field(description="departments with cases dispatched in the window")


class SafetyOverview(Shape):
    """大安全态势: the district's risk points, open incidents, overdue cases and departments' on-time rates."""

    generated_at: Instant
    levels: list[LevelLegend] = Field(description="the risk levels and their colours, for the legend")
    risk_points: RiskPointFigures
    incidents: IncidentFigures
    towns: list[TownSafety] = Field(description="the seven towns")
    cases: OverdueCases
    departments: DepartmentRates = Field(description="on-time rates over the cases reported in the last 30 days")

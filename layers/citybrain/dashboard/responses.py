"""Response models of the dashboard's routes (see citybrain.core.responses): the overview
GET /v1/dashboard answers (citybrain.dashboard.service) and the page and its assets,
which are text."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, RootModel

from citybrain.alerts.responses import Severity
from citybrain.core.responses import Day, Instant, Number, Shape, optional
from citybrain.core.vocabulary import Domain, Town


class AreaAir(Shape):
    """An area's AQI of one local hour by HJ 633-2026, from the mean of its stations'
    hourly means per pollutant (rounded as shown, then indexed)."""

    aqi: int = Field(description="空气质量指数 (AQI)")
    level: str = Field(description="空气质量指数类别: 优, 良, 轻度污染, 中度污染, 重度污染, 严重污染")
    level_en: str
    grade: str = Field(description="空气质量指数级别: 一级 … 六级")
    level_number: int = Field(ge=1, le=6)
    colour: str = Field(description="the level's colour as HJ 633-2026 Table 2 names it (绿色 … 褐红色)")
    rgb: str = Field(description="the same colour for a screen, #RRGGBB")
    primary_pollutants: list[str] = Field(description="首要污染物; none when the AQI is 50 or less")
    concentrations: dict[str, Number] = Field(description="the means indexed: µg/m³, co in mg/m³")
    hour: str = Field(description="the local hour, as 2026-11-27T14 (14:00-15:00 +08:00)")
    hour_label: str = Field(description="14:00")
    stations: int = Field(description="stations that measured in that hour")
    standard: Literal["HJ 633-2026"]


class DeviceCounts(Shape):
    devices: int
    online: int = Field(description="reported within 3x its reporting interval")
    offline: int
    never_reported: int


class AlertCounts(Shape):
    active: int = Field(description="open or acknowledged")
    open: int
    acknowledged: int
    by_severity: dict[str, int] = Field(description="active alerts per severity")
    worst_severity: Severity | None = Field(description="null without an active alert")


class TrafficNow(Shape):
    sensors: int
    speed_kmh: Number | None = Field(description="the mean of the road sensors' hourly means, latest hour with data")
    hour_label: str | None = Field(description="that local hour")


class WaterNow(Shape):
    gauges: int
    reporting: int = Field(description="gauges with a latest reading")
    at_or_above_warning: int = Field(description="latest level at or above 警戒水位")
    at_or_above_guarantee: int = Field(description="latest level at or above 保证水位")


class DistrictFigures(Shape):
    air: AreaAir | None = Field(description="the district's AQI of the latest local hour with data; null: none")
    air_label: str = Field(description="the AQI level's name, or 无数据")
    devices: DeviceCounts
    alerts: AlertCounts
    traffic: TrafficNow
    water: WaterNow


class DomainFigures(Shape):
    domain: Domain
    name: str = Field(description="交通, 环保, 城管, 住建, 卫健, 应急")
    devices: DeviceCounts
    alerts: AlertCounts


class TownFigures(Shape):
    town: Town
    stations: int = Field(description="air-quality stations in the town")
    air: AreaAir | None = Field(description="the town's AQI of its latest local hour with data; null: none in 24 h")
    air_label: str = Field(description="the AQI level's name, or 无数据")
    devices: DeviceCounts
    alerts: AlertCounts


class DashboardAlert(Shape):
    """An active alert as the dashboard lists it."""

    id: str
    severity: Severity
    status: Literal["open", "acknowledged"]
    rule: str
    category: str
    subCategory: str
    description: str | None = optional()
    device_id: str
    device_name: str = Field(description="the device's registered name (its id when it has none)")
    town: str | None = optional()
    domain: str | None = optional()
    dateIssued: Instant
    lastSeen: Instant
    peakValue: Number | None = optional()
    occurrences: int


class ActiveAlerts(Shape):
    total: int = Field(description="every active alert")
    items: list[DashboardAlert] = Field(description="the newest 50 of them")


class Trends(Shape):
    """The last 24 local hours, oldest first; null where an hour has no reading."""

    hours: list[str] = Field(description="local hours, as 2026-11-27T14")
    labels: list[str] = Field(description="14:00")
    air: list[AreaAir | None] = Field(description="the district's hourly AQI")
    speed_kmh: list[Number | None] = Field(description="mean of the road sensors' hourly mean speeds")
    water_margin_m: list[Number | None] = Field(
        description="the highest hourly maximum over its gauge's warning level (negative: below it), metres"
    )


class ExchangePair(Shape):
    provider: str
    provider_name: str
    consumer: str
    consumer_name: str
    requests: int
    pulls: int
    rows: int


class ExchangeToday(Shape):
    date: Day = Field(description="the local date")
    datasets_published: int
    requests: int = Field(description="access requests made")
    approved: int
    rejected: int
    pulls: int = Field(description="record pulls between departments")
    rows: int = Field(description="rows provided to other departments")
    refused: int = Field(description="pulls refused for want of a grant")
    top_pairs: list[ExchangePair] = Field(description="the day's busiest provider→consumer pairs, by rows")


class DashboardOverview(Shape):
    """城市运行总览: the district's operating state now, every time local (+08:00)."""

    generated_at: Instant
    date: Day = Field(description="the local date")
    standard: Literal["HJ 633-2026"] = Field(description="the air quality index standard followed")
    units: dict[str, str]
    district: DistrictFigures
    domains: list[DomainFigures]
    towns: list[TownFigures]
    alerts: ActiveAlerts
    trends: Trends
    exchange: ExchangeToday


class DashboardPage(RootModel[str]):
    """The dashboard's HTML page."""


class DashboardScript(RootModel[str]):
    """The dashboard's JavaScript."""


class DashboardStylesheet(RootModel[str]):
    """The dashboard's CSS."""


class DashboardIcon(RootModel[str]):
    """The dashboard's icon (SVG)."""

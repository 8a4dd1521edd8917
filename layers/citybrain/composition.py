"""The one place where stores meet services: each service wired to its AWS-backed
stores, built on first use (so a function pays only for what it calls, and no
client is made at import time). Handlers in functions/ call these, never stores."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from citybrain.alerts.service import AlertService
    from citybrain.cases.service import Cases
    from citybrain.dashboard.service import Dashboard
    from citybrain.departments.models import Principal
    from citybrain.departments.service import Departments
    from citybrain.exchange.anchors import ChainAnchors
    from citybrain.exchange.audit import AuditLog, RequestFacts
    from citybrain.exchange.service import Exchange
    from citybrain.reports.service import Reports
    from citybrain.safety.fusion import Incidents
    from citybrain.safety.overview import SafetyOverview
    from citybrain.safety.risk_points import RiskPoints
    from citybrain.sensing.devices import Devices
    from citybrain.sensing.ingest import ReadingIngest
    from citybrain.sensing.pipeline import ReadingPipeline
    from citybrain.uploads.models import S3Object, UploadReport
    from citybrain.uploads.service import UploadIntake, Uploads


@functools.cache
def departments() -> Departments:
    from citybrain.departments.service import Departments
    from citybrain.departments.store import DynamoDepartmentStore

    return Departments(DynamoDepartmentStore())


@functools.cache
def devices() -> Devices:
    from citybrain.core.config import get_settings
    from citybrain.sensing.device_store import DynamoDeviceStore
    from citybrain.sensing.devices import Devices
    from citybrain.sensing.reading_store import DynamoReadingStore

    return Devices(DynamoDeviceStore(), DynamoReadingStore(), get_settings().device_cache_seconds)


@functools.cache
def reading_ingest() -> ReadingIngest:
    from citybrain.core.config import get_settings
    from citybrain.core.rejections import RejectionStore
    from citybrain.sensing.ingest import ReadingIngest
    from citybrain.sensing.queue import enqueue_readings

    return ReadingIngest(
        devices().get_many,
        enqueue_readings,
        RejectionStore().record,
        get_settings().max_future_skew_seconds * 1000,
    )


@functools.cache
def reading_pipeline() -> ReadingPipeline:
    from citybrain.core.rejections import RejectionStore
    from citybrain.sensing.archive import archive_readings
    from citybrain.sensing.pipeline import ReadingPipeline
    from citybrain.sensing.reading_store import DynamoReadingStore

    return ReadingPipeline(
        DynamoReadingStore(),
        RejectionStore(),
        archive_readings,
        devices().get_many,
        lambda device, events: alert_service().apply(device, events),
    )


@functools.cache
def alert_service() -> AlertService:
    from citybrain.alerts.notifications import SnsPublisher
    from citybrain.alerts.service import AlertService
    from citybrain.alerts.store import AlertStore
    from citybrain.sensing.sweep_store import DeviceSweep

    return AlertService(AlertStore(), SnsPublisher(), DeviceSweep())


@functools.cache
def exchange() -> Exchange:
    from citybrain.core.rejections import RejectionStore
    from citybrain.exchange.access import Access
    from citybrain.exchange.access_store import DynamoAccessStore
    from citybrain.exchange.audit import AuditLog
    from citybrain.exchange.audit_store import DynamoAuditStore
    from citybrain.exchange.catalog import Catalog
    from citybrain.exchange.catalog_store import DynamoCatalogStore
    from citybrain.exchange.record_store import DynamoRecordStore
    from citybrain.exchange.records import Records
    from citybrain.exchange.service import Exchange
    from citybrain.exchange.stats import ExchangeStats
    from citybrain.exchange.stats_store import DynamoStatsStore

    stats = ExchangeStats(DynamoStatsStore())
    # The statistics are counted in each audit entry's own transaction.
    audit = AuditLog(DynamoAuditStore(), stats.writes)
    catalog = Catalog(DynamoCatalogStore(), audit)
    access = Access(catalog, DynamoAccessStore(), audit)
    records = Records(catalog, access, DynamoRecordStore(), audit, RejectionStore().record)
    return Exchange(catalog, access, records, audit, stats)


@functools.cache
def chain_anchors() -> ChainAnchors:
    """The audit chain's anchors (S3 Object Lock), its incremental verification and re-verification jobs."""
    from citybrain.exchange.anchor_store import DynamoVerificationStore, S3AnchorStore, SqsVerificationQueue
    from citybrain.exchange.anchors import ChainAnchors
    from citybrain.exchange.audit_store import DynamoAuditStore

    return ChainAnchors(DynamoAuditStore(), S3AnchorStore(), DynamoVerificationStore(), SqsVerificationQueue())


@functools.cache
def uploads() -> Uploads:
    from citybrain.core.config import get_settings
    from citybrain.uploads.service import Uploads
    from citybrain.uploads.store import DynamoUploadStore, presign_put

    return Uploads(DynamoUploadStore(), presign_put, get_settings().upload_url_expiry_seconds, _check_load_target)


def _check_load_target(principal: Principal, dataset_id: str, request: RequestFacts) -> None:
    # Imported here: announcing a file of readings never loads the exchange.
    from citybrain.exchange.loads import check_target

    check_target(exchange().records, principal, dataset_id, request)


@functools.cache
def upload_intake() -> UploadIntake:
    from citybrain.core.config import get_settings
    from citybrain.core.rejections import RejectionStore
    from citybrain.sensing import queue
    from citybrain.sensing.reading_files import ReadingFiles
    from citybrain.uploads.service import UploadIntake
    from citybrain.uploads.store import DynamoUploadStore, open_object

    rejections = RejectionStore()
    read_readings = ReadingFiles(
        devices().get_many,
        lambda readings, source, known: queue.send_messages(queue.pack_messages(readings, source, known)),
        rejections.record,
        get_settings().max_future_skew_seconds * 1000,
    )
    return UploadIntake(DynamoUploadStore(), open_object, read_readings, rejections.forget, _load_dataset)


def _load_dataset(chunks: Iterable[bytes], upload: dict[str, Any], s3_object: S3Object, source: str) -> UploadReport:
    # Imported here: a file of readings never loads the exchange.
    from citybrain.core.rejections import RejectionStore
    from citybrain.exchange.loads import DatasetUpload

    return DatasetUpload(exchange().records, RejectionStore().record).read(chunks, upload, s3_object, source)


def once_per_object(read, lambda_context=None):
    """`read(s3_object=...)` run at most once per uploaded object's content (Powertools idempotency)."""
    from citybrain.uploads.store import once_per_object

    return once_per_object(read, lambda_context)


def reset() -> None:
    for factory in (
        departments,
        devices,
        reading_ingest,
        reading_pipeline,
        alert_service,
        exchange,
        chain_anchors,
        uploads,
        upload_intake,
        reports,
        risk_points,
        incidents,
        cases,
        dashboard,
        safety_overview,
    ):
        factory.cache_clear()


class _ReportSources:
    """What reports read, each from its own feature's store."""

    ALERT_LOOKBACK_MS = 92 * 86_400_000  # alerts open longer before a period are not in its figures

    def __init__(self) -> None:
        from citybrain.alerts.store import AlertStore
        from citybrain.exchange.stats_store import DynamoStatsStore
        from citybrain.sensing.reading_store import DynamoReadingStore
        from citybrain.sensing.sweep_store import DeviceSweep

        self.sweep = DeviceSweep()
        self.readings = DynamoReadingStore()
        self.alert_store = AlertStore()
        self.stats = DynamoStatsStore()

    def devices(self) -> list[dict[str, Any]]:
        return self.sweep.devices()

    def rollups(self, device_ids: Sequence[str], hours: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
        return self.readings.rollups(device_ids, hours)

    def alerts(self, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        return self.alert_store.overlapping(start_ms, end_ms, start_ms - self.ALERT_LOOKBACK_MS)

    def exchange_rows(self, day: str) -> list[dict[str, Any]]:
        return self.stats.day(day)


@functools.cache
def reports() -> Reports:
    from citybrain.core.config import get_settings
    from citybrain.reports.service import Reports
    from citybrain.reports.store import DynamoReportStore, S3Artifacts, SqsReportQueue

    return Reports(
        DynamoReportStore(),
        SqsReportQueue(),
        S3Artifacts(),
        _ReportSources(),
        get_settings().report_link_expiry_seconds,
    )


@functools.cache
def dashboard() -> Dashboard:
    from citybrain.alerts.store import AlertStore
    from citybrain.dashboard.service import Dashboard
    from citybrain.exchange.stats_store import DynamoStatsStore
    from citybrain.sensing.device_store import DynamoDeviceStore
    from citybrain.sensing.reading_store import DynamoReadingStore

    return Dashboard(DynamoDeviceStore(), DynamoReadingStore(), AlertStore(), DynamoStatsStore(), departments())


class _RiskPointState:
    """A risk point's state, from sensing's latest states, the alerts' active index and the
    incidents (the point's slot names its incident)."""

    def __init__(self) -> None:
        from citybrain.alerts.store import AlertStore
        from citybrain.sensing.reading_store import DynamoReadingStore

        self.readings = DynamoReadingStore()
        self.alerts = AlertStore()

    def latest(self, device_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.readings.states(device_ids) if device_ids else {}

    def active_alerts(self, device_ids: list[str]) -> list[dict[str, Any]]:
        from citybrain.alerts.service import shown

        wanted = set(device_ids)
        return [shown(a, history=False) for a in self.alerts.active_alerts() if a["device_id"] in wanted]

    def open_incident(self, point_id: str) -> dict[str, Any] | None:
        return incidents().open_incident_of(point_id)


@functools.cache
def risk_points() -> RiskPoints:
    from citybrain.safety.risk_point_store import DynamoRiskPointStore
    from citybrain.safety.risk_points import RiskPoints

    return RiskPoints(DynamoRiskPointStore(), devices(), _RiskPointState(), departments().exists, audit_log())


@functools.cache
def incidents() -> Incidents:
    from citybrain.core.config import SettingsError, get_settings
    from citybrain.safety.fusion import Incidents
    from citybrain.safety.incident_store import DynamoIncidentStore
    from citybrain.safety.incidents import GradingTable
    from citybrain.safety.notifications import SnsSafetyPublisher
    from citybrain.safety.risk_point_store import DynamoRiskPointStore

    settings = get_settings()
    try:
        grading = GradingTable.configured(settings.incident_grading)
    except ValueError as exc:
        raise SettingsError(f"CITYBRAIN_INCIDENT_GRADING: {exc}") from None
    return Incidents(
        DynamoIncidentStore(),
        DynamoRiskPointStore(),
        SnsSafetyPublisher(),
        devices(),
        audit_log(),
        settings.incident_window_minutes,
        _command_centre(),
        grading=grading,
    )


@functools.cache
def cases() -> Cases:
    from citybrain.cases.notifications import SnsSupervision
    from citybrain.cases.service import Cases
    from citybrain.cases.store import DynamoCaseStore, S3CasePhotos
    from citybrain.core.config import get_settings
    from citybrain.uploads.store import presign_put

    def incident_of(incident_id: str) -> dict[str, Any] | None:
        return incidents().store.get(incident_id) if incident_id.startswith("inc-") else None

    def alert_exists(alert_id: str) -> bool:
        return alert_service().store.get(alert_id) is not None

    def open_incident(principal: Principal, facts: Mapping[str, Any]) -> dict[str, Any]:
        from citybrain.safety.incidents import IncidentIn

        fields = {k: v for k, v in facts.items() if k != "case_id"}
        return incidents().report(principal, IncidentIn.model_validate(fields), "case", facts["case_id"])

    settings = get_settings()
    return Cases(
        DynamoCaseStore(),
        SnsSupervision(),
        departments().exists,
        incident_of,
        alert_exists,
        open_incident,
        audit_log(),
        _command_centre(),
        photos=S3CasePhotos(presign_put),
        photo_url_expiry_seconds=settings.case_photo_url_expiry_seconds,
        photo_link_expiry_seconds=settings.case_photo_link_expiry_seconds,
    )


@functools.cache
def safety_overview() -> SafetyOverview:
    """The big-safety view: the registry's listing, the incidents service's listing of the open
    ones, the alerts' active index, the open cases' index and the cases reported in a window."""
    from citybrain.alerts.store import AlertStore
    from citybrain.cases.store import DynamoCaseStore
    from citybrain.safety.overview import SafetyOverview
    from citybrain.safety.risk_point_store import DynamoRiskPointStore

    return SafetyOverview(DynamoRiskPointStore(), incidents(), AlertStore(), DynamoCaseStore(), departments())


def _command_centre() -> frozenset[str]:
    """The departments that act as the command centre beside the data bureau."""
    from citybrain.core.config import get_settings

    return frozenset(d.strip() for d in get_settings().command_centre.split(",") if d.strip())


def audit_log() -> AuditLog:
    """The district's one audit chain: the exchange's, which every audited change joins."""
    return exchange().audit

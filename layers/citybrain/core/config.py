"""Run-time settings, read from the environment once and validated.

Every resource name arrives as `CITYBRAIN_<RESOURCE>`; the resource names are
the logical ids in infra/resources.json, so the cloud template, the local stack
and the tests derive the same variables from one list.
"""

from __future__ import annotations

import functools
import os
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PREFIX = "CITYBRAIN_"


def env_name(logical_id: str) -> str:
    """`ReadingsQueue` -> `CITYBRAIN_READINGS_QUEUE`."""
    return PREFIX + re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id).upper()


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    departments_table: str
    devices_table: str
    readings_table: str
    device_state_table: str
    rollups_table: str
    uploads_table: str
    rejections_table: str
    idempotency_table: str
    datasets_table: str
    records_table: str
    access_requests_table: str
    grants_table: str
    audit_table: str
    exchange_stats_table: str
    alerts_table: str
    readings_queue: str = Field(description="URL of the readings queue")
    uploads_bucket: str
    archive_bucket: str
    alerts_topic: str = Field(description="ARN of the alerts topic")
    reports_table: str
    risk_points_table: str
    incidents_table: str
    cases_table: str
    supervision_topic: str = Field(description="ARN of the topic overdue case steps are announced on")
    safety_topic: str = Field(description="ARN of the big-safety incidents topic")
    reports_queue: str = Field(description="URL of the reports queue")
    reports_bucket: str
    anchors_bucket: str = Field(description="the audit chain's anchors (S3 Object Lock, compliance mode)")
    case_photos_bucket: str = Field(description="the cases' photos (report and feedback), uploaded by presigned PUT")
    audit_verifications_table: str
    audit_verifications_queue: str = Field(description="URL of the queue of full audit re-verifications")

    metrics_namespace: str = "CityBrain"
    readings_retention_days: int = Field(default=400, ge=1)
    rejections_retention_days: int = Field(default=90, ge=1)
    upload_url_expiry_seconds: int = Field(default=3600, ge=60, le=604800)
    max_future_skew_seconds: int = Field(default=300, ge=0)
    device_cache_seconds: int = Field(
        default=60, ge=0, le=3600, description="how long a process keeps the registry records it read (0: never)"
    )
    report_link_expiry_seconds: int = Field(default=3600, ge=60, le=604800)
    case_photo_url_expiry_seconds: int = Field(default=900, ge=60, le=604800, description="a photo's PUT")
    case_photo_link_expiry_seconds: int = Field(default=600, ge=60, le=604800, description="a link to see one")
    incident_window_minutes: int = Field(default=60, ge=5, le=1440, description="the fusion window of a town")
    incident_grading: str = Field(
        default="", description="JSON: cells of the incident grading table to change (citybrain.safety.incidents)"
    )
    command_centre: str = Field(
        default="safety", description="comma-separated departments that act as the command centre (with admin)"
    )


class SettingsError(RuntimeError):
    pass


@functools.cache
def get_settings() -> Settings:
    values = {name.removeprefix(PREFIX).lower(): value for name, value in os.environ.items() if name.startswith(PREFIX)}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        missing = [PREFIX + str(e["loc"][0]).upper() for e in exc.errors()]
        raise SettingsError(f"invalid or missing settings: {', '.join(missing)}") from exc


def reset_settings() -> None:
    """Forget the cached settings (tests switch stacks between cases)."""
    get_settings.cache_clear()

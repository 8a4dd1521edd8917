"""POST /v1/readings: validate a batch at the edge and queue the good readings."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from citybrain.core import timeutil
from citybrain.core.errors import PayloadTooLarge, ValidationFailed
from citybrain.core.observability import metrics
from citybrain.departments.models import Principal
from citybrain.sensing.readings import MAX_BATCH, Reading, ReadingValidator, device_ids_of


def accept_readings(
    principal: Principal,
    body: Any,
    get_devices: Callable[[list[str]], dict],
    enqueue: Callable[[list[Reading], dict, dict], Any],
    record_rejections: Callable[[str, list], None],
    max_future_ms: int = 300_000,
) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("readings"), list):
        raise ValidationFailed(
            'body must be {"readings": [...]}', [{"field": "readings", "message": "expected a list of readings"}]
        )
    raw = body["readings"]
    if len(raw) > MAX_BATCH:
        raise PayloadTooLarge(
            f"{len(raw)} readings in one request; send at most {MAX_BATCH} per request",
            [{"field": "readings", "message": f"at most {MAX_BATCH} items"}],
        )
    devices = get_devices(sorted(device_ids_of(raw)))
    validator = ReadingValidator(
        devices, None if principal.is_admin else principal.department_id, timeutil.now_ms(), max_future_ms
    )
    accepted: list[Reading] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        reading, errors = validator.validate(item)
        if reading is None:
            rejected.append({"index": index, "errors": errors})
        else:
            accepted.append(reading)
    request_id = str(uuid.uuid4())
    if accepted:
        enqueue(accepted, {"kind": "http", "id": request_id, "department": principal.department_id}, devices)
    if rejected:
        record_rejections(
            f"http#{request_id}",
            [{"position": r["index"], "errors": r["errors"], "raw": raw[r["index"]]} for r in rejected],
        )
    return {"accepted": len(accepted), "rejected": rejected, "request_id": request_id}


class ReadingIngest:
    """POST /v1/readings wired to the device registry, the readings queue and the rejections."""

    def __init__(
        self,
        get_devices: Callable[[list[str]], dict],
        enqueue: Callable[[list[Reading], dict, dict], Any],
        record_rejections: Callable[[str, list], None],
        max_future_ms: int,
    ):
        self.get_devices = get_devices
        self.enqueue = enqueue
        self.record_rejections = record_rejections
        self.max_future_ms = max_future_ms

    def accept(self, principal: Principal, body: Any) -> dict[str, Any]:
        result = accept_readings(
            principal, body, self.get_devices, self.enqueue, self.record_rejections, self.max_future_ms
        )
        metrics.add_metric(name="ReadingsAccepted", unit="Count", value=result["accepted"])
        metrics.add_metric(name="ReadingsRejected", unit="Count", value=len(result["rejected"]))
        return result

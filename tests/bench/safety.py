"""(10) What the big-safety platform adds to the AWS requests: none to storing readings when
no alert fires (fusion reads the alerts topic's deliveries, not the readings), and, per
alert fused, the requests of `fuse_alerts` — counted side by side on the same emulator."""

from __future__ import annotations

import json

from citybrain.core import timeutil

T0 = timeutil.parse_instant("2026-11-27T09:00:00+08:00")


def _register_points(prefix: str, devices: int) -> None:
    """A risk point binding every bench device, as a district binds its monitoring devices."""
    from citybrain.composition import departments, risk_points
    from citybrain.departments.models import Principal
    from citybrain.safety.risk_points import RiskPointIn
    from citybrain.sensing.device_store import DynamoDeviceStore

    departments().ensure_admin("cb_bench_admin_key_00000000000000000000000000")
    store = DynamoDeviceStore()
    for d in range(devices):
        store.create(
            {
                "id": f"{prefix}-{d:03d}",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "owner": "data-bureau",
                "location": {"lat": 23.03, "lon": 113.15},
            }
        )
    point = {
        "name": "桂城街道空气质量重点区域",
        "category": "public_safety",
        "kind": "人员密集场所",
        "town": "桂城街道",
        "location": {"lat": 23.03, "lon": 113.15},
        "risk_level": "large",
        "devices": [f"{prefix}-{d:03d}" for d in range(devices)],
    }
    risk_points().register(Principal("data-bureau", "admin"), RiskPointIn.model_validate(point))


def readings_without_alerts() -> dict:
    from citybrain.composition import reading_pipeline
    from tests.bench.__main__ import count_requests, reset_caches, sample_messages

    figures = {}
    for label, prefix, bound in (("no risk points", "sfa", False), ("every device bound to a risk point", "sfb", True)):
        reset_caches()
        if bound:
            _register_points(prefix, 50)
        messages = sample_messages(prefix)
        counter = count_requests()
        for n, body in enumerate(messages):
            reading_pipeline().process(body, f"{prefix}-{n}")
        figures[f"requests per 1,000 readings, {label}"] = sum(counter.values())
    first, second = figures.values()
    figures["added by the big-safety platform"] = second - first
    figures["goal"] = "0"
    return figures


def fused_alerts(alerts: int = 20) -> dict:
    """Alerts of two domains in one town, half of them on devices bound to a risk point."""
    from citybrain.composition import incidents
    from tests.bench.__main__ import count_requests, reset_caches

    reset_caches()
    _register_points("sfc", 5)
    counter = count_requests()
    created = joined = 0
    for i in range(alerts):
        bound = i % 2 == 0
        message = {
            "id": f"al-{T0 + i}-aqi-sfc-{i:03d}",
            "subCategory": "airPollution" if bound else "trafficJam",
            "severity": "high",
            "alertSource": f"sfc-{i % 5:03d}" if bound else f"road-{i:03d}",
            "domain": "environment" if bound else "traffic",
            "town": "桂城街道",
            "dateIssued": timeutil.local_iso(T0 + i * 60_000),
            "lastSeen": timeutil.local_iso(T0 + i * 60_000),
            "rule": "aqi" if bound else "traffic",
            "event": "opened",
        }
        outcome = incidents().fuse_notification(json.dumps({"Message": json.dumps(message)}))
        created += int(bool(outcome.get("created")))
        joined += int("incident" in outcome and not outcome.get("created"))
    total = sum(counter.values())
    return {
        "alerts fused": alerts,
        "incidents opened / joined": f"{created} / {joined}",
        "requests per fused alert": round(total / alerts, 2),
        "by operation (all alerts)": dict(counter.most_common()),
    }

"""Report figures for `make bench` (the emulated AWS is up and CITYBRAIN_* set).

- readings_per_hour(stations=50, rounds=7): the district-wide daily report of the same
  devices (`stations` air-quality stations and a traffic, a water and a noise device)
  for two local days, one with 1 reading per device per hour (1×), the other with 10
  (10×), both stored through the readings pipeline (composition.reading_pipeline,
  rules on). The two days' reports are built alternately, `rounds` times each: the
  median build time of each and the ratio 10× / 1× (goal <= 1.3: a report reads
  devices × hours of rollups, never readings).
- device_count(sizes=(100, 1000), rounds=3): the district-wide daily report with 100
  and with 1,000 air-quality stations, 1 reading per device per hour (one local day
  per size), built alternately, the devices table holding exactly the size's devices
  during its build: the median build times and their ratio (expected roughly linear in
  devices × hours; no goal). `hours` shortens every size's day alike.

Every figure is of real builds: each report is asked for with `Reports.request`
(recorded and queued, as POST /v1/reports does) and built by `Reports.build`, as the
report function runs it; its status must be done, and its JSON artifact, read back from
the reports bucket, must list every station and every device online in every hour
that has readings. Only the build is timed. A district-wide report reads every
registered device, so the devices table is emptied first and then holds the bench's
devices alone.

    with emulated_aws():   # tests/bench/__main__.py
        print(reports.readings_per_hour(), reports.device_count())
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

TOWNS = ["桂城街道", "大沥镇", "里水镇", "狮山镇", "丹灶镇", "西樵镇", "九江镇"]
PRINCIPAL = ("bench-reports", "department")
HOUR_MS = 3_600_000
OTHERS = (  # besides the air-quality stations: (type, domain, what registration requires of it)
    ("traffic_flow", "traffic", {}),
    ("water_level", "urban", {"thresholds": {"warning": 5.0, "guarantee": 6.5}}),
    ("noise", "environment", {"acoustic_zone": "2"}),
)


def _reset() -> None:
    from citybrain import composition as services
    from citybrain.core import aws, config

    aws.reset_clients()
    config.reset_settings()
    services.reset()


# -- devices ---------------------------------------------------------------------------
def _device(device_id: str, device_type: str, domain: str, n: int, registered: date, **extra: Any) -> dict[str, Any]:
    """A registry record as registration writes it (validated by DeviceIn), registered on `registered`."""
    from citybrain.core import timeutil
    from citybrain.sensing.devices import DeviceIn

    payload = DeviceIn.model_validate(
        {
            "id": device_id,
            "type": device_type,
            "domain": domain,
            "town": TOWNS[n % len(TOWNS)],
            "location": {"lat": 23.0 + n % 50 / 200, "lon": 113.0 + n % 70 / 200},
            "name": f"基准测试{device_id}",
            "reporting_interval_seconds": 360,
            **extra,
        }
    )
    created = timeutil.local_iso(_midnight_ms(registered))
    return {
        **payload.model_dump(mode="json", exclude_none=True),
        "owner": domain,
        "created_at": created,
        "updated_at": created,
    }


def _stations(prefix: str, count: int, registered: date) -> list[dict[str, Any]]:
    return [_device(f"{prefix}-{n:04d}", "air_quality", "environment", n, registered) for n in range(count)]


class _Registry:
    """The devices table, holding exactly the devices it is told to (a district report reads them all)."""

    def __init__(self) -> None:
        from citybrain.core.config import get_settings
        from citybrain.core.dynamo import scan_all

        self.table = get_settings().devices_table
        self.held = {item["id"] for item in scan_all(TableName=self.table, ProjectionExpression="id")}

    def hold(self, records: Sequence[dict[str, Any]]) -> None:
        from citybrain.core.dynamo import batch_write, to_item

        wanted = {record["id"]: record for record in records}
        requests = [{"DeleteRequest": {"Key": {"id": {"S": i}}}} for i in sorted(self.held - wanted.keys())]
        requests += [{"PutRequest": {"Item": to_item(r)}} for i, r in wanted.items() if i not in self.held]
        batch_write(self.table, requests)
        self.held = set(wanted)


# -- readings --------------------------------------------------------------------------
def _midnight_ms(day: date) -> int:
    from citybrain.core import timeutil

    return int(datetime.combine(day, clock_time(0), timeutil.LOCAL_TZ).timestamp() * 1000)


def _values(device_type: str, n: int, hour: int, k: int) -> dict[str, float]:
    """Clean values (no rule fires), varying by device, hour and reading."""
    wave = (n * 7 + hour * 3 + k) % 29
    if device_type == "air_quality":
        return {
            "pm25": 18.0 + wave,
            "pm10": 35.0 + wave * 1.5,
            "no2": 15.0 + (n + k) % 11,
            "so2": 6.0 + hour % 5,
            "co": 0.5 + wave / 100,
            "o3": 70.0 - 2 * abs(hour - 14) + k % 5,
        }
    if device_type == "traffic_flow":
        return {"intensity": 400.0 + 40 * wave, "occupancy": 0.1 + wave / 200, "averageVehicleSpeed": 38.0 + wave}
    if device_type == "water_level":
        return {"waterLevel": 2.0 + wave / 50}
    return {"LAeq": 40.0 + wave / 5, "LAmax": 50.0 + wave / 5}  # noise, zone 2: under the night limits


def _readings(records: Iterable[dict[str, Any]], day: date, per_hour: int, hours: int = 24) -> list[Any]:
    """`per_hour` readings of each device in each of the day's first `hours` local hours, evenly spaced."""
    from citybrain.sensing.readings import Reading

    midnight = _midnight_ms(day)
    step = HOUR_MS // per_hour
    batch = []
    for n, record in enumerate(records):
        for hour in range(hours):
            for k in range(per_hour):
                batch.append(
                    Reading(
                        device_id=record["id"],
                        t=midnight + hour * HOUR_MS + k * step + n % 60 * 1000,
                        values=_values(record["type"], n, hour, k),
                        type=record["type"],
                        domain=record["domain"],
                        town=record["town"],
                    )
                )
    return batch


def _store(records: Sequence[dict[str, Any]], day: date, per_hour: int, hours: int = 24) -> dict[str, Any]:
    """The day's readings through the readings pipeline, packed as the ingest packs them."""
    from citybrain.composition import reading_pipeline
    from citybrain.sensing.queue import pack_messages

    batch = _readings(records, day, per_hour, hours)
    label = f"report-{day.isoformat()}-{per_hour}"
    messages = pack_messages(batch, {"kind": "bench", "id": label}, {r["id"]: r for r in records})
    start = time.perf_counter()
    stored = sum(reading_pipeline().process(body, f"{label}-{n}").stored for n, body in enumerate(messages))
    seconds = time.perf_counter() - start
    if stored != len(batch):
        raise RuntimeError(f"the pipeline stored {stored} of {len(batch)} readings of {day}")
    return {"readings": stored, "seconds": seconds}


# -- building --------------------------------------------------------------------------
def _build(day: date, stations: int, devices: int, hours: int = 24) -> tuple[float, int]:
    """A district daily report of `day`, asked for and built for real: (build seconds, JSON bytes)."""
    from citybrain.composition import reports
    from citybrain.core.aws import client
    from citybrain.core.config import get_settings
    from citybrain.departments.models import Principal
    from citybrain.reports.models import ReportRequestIn

    service = reports()
    report = service.request(Principal(*PRINCIPAL), ReportRequestIn(kind="daily", date=day.isoformat()))
    start = time.perf_counter()
    outcome = service.build(report["id"])
    seconds = time.perf_counter() - start
    if outcome["status"] != "done":
        raise RuntimeError(f"report {report['id']} of {day} ended {outcome['status']}")
    key = service.store.get(report["id"])["artifacts"]["json"]
    body = client("s3").get_object(Bucket=get_settings().reports_bucket, Key=key)["Body"].read()
    sections = json.loads(body)["sections"]
    online = sections["devices"]
    found = (len(sections["air"]["stations"]), online["registered"], online["hours_online"])
    if found != (stations, devices, devices * hours):
        raise RuntimeError(
            f"report of {day}: (stations, devices, online hours) {found}, not {(stations, devices, devices * hours)}"
        )
    return seconds, len(body)


def _days(count: int) -> list[date]:
    """`count` consecutive local dates a week and more in the past (a report may not be of the future)."""
    from citybrain.core import timeutil

    first = timeutil.to_local(timeutil.now_ms()).date() - timedelta(days=7 + count)
    return [first + timedelta(days=i) for i in range(count)]


def readings_per_hour(stations: int = 50, rounds: int = 7) -> dict[str, Any]:
    _reset()
    single, tenfold = _days(2)
    registered = single - timedelta(days=1)
    records = _stations("rpt-aq", stations, registered) + [
        _device(f"rpt-{device_type}-{n}", device_type, domain, n, registered, **extra)
        for n, (device_type, domain, extra) in enumerate(OTHERS)
    ]
    _Registry().hold(records)
    seeded = {1: _store(records, single, 1), 10: _store(records, tenfold, 10)}
    times: dict[int, list[float]] = {1: [], 10: []}
    sizes: dict[int, int] = {}
    for n in range(rounds):  # alternately, so machine noise hits both alike, each first in turn
        for per_hour, day in ((1, single), (10, tenfold))[:: 1 - n % 2 * 2]:
            seconds, sizes[per_hour] = _build(day, stations, len(records))
            times[per_hour].append(seconds)
    one, ten = statistics.median(times[1]), statistics.median(times[10])
    ratio = ten / one
    return {
        "devices": f"{stations} air-quality stations + {len(OTHERS)} (traffic, water, noise), 24 local hours",
        "readings stored, 1× (1 per device per hour)": seeded[1]["readings"],
        "readings stored, 10× (10 per device per hour)": seeded[10]["readings"],
        "storing through the pipeline, 1× / 10× (s)": f"{seeded[1]['seconds']:.1f} / {seeded[10]['seconds']:.1f}",
        "builds per day": rounds,
        "report build, 1× (ms, median)": round(one * 1000),
        "report build, 10× (ms, median)": round(ten * 1000),
        "JSON artifact, 1× / 10× (bytes)": f"{sizes[1]:,} / {sizes[10]:,}",
        "ratio 10× / 1×": round(ratio, 2),
        "goal": "<= 1.3",
        "goal met": ratio <= 1.3,
    }


def device_count(sizes: tuple[int, int] = (100, 1000), rounds: int = 3, hours: int = 24) -> dict[str, Any]:
    small, large = sizes
    if not 0 < small < large:
        raise ValueError(f"device_count compares a smaller size with a larger one, not {sizes}")
    _reset()
    days = dict(zip(sizes, _days(2), strict=True))
    records = _stations("rpt-n", large, days[small] - timedelta(days=1))
    registry = _Registry()
    seeded = {}
    for size, day in days.items():
        registry.hold(records[:size])
        seeded[size] = _store(records[:size], day, 1, hours)
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for n in range(rounds):  # alternately, as above
        for size, day in list(days.items())[:: 1 - n % 2 * 2]:
            registry.hold(records[:size])  # not timed
            times[size].append(_build(day, size, size, hours)[0])
    median = {size: statistics.median(times[size]) for size in sizes}
    figures: dict[str, Any] = {"readings per device": f"1 an hour, {hours} local hours"}
    for size in sizes:
        figures[f"{size:,} devices: readings stored"] = seeded[size]["readings"]
        figures[f"{size:,} devices: storing through the pipeline (s)"] = round(seeded[size]["seconds"], 1)
    figures["builds per size"] = rounds
    for size in sizes:
        figures[f"{size:,} devices: report build (ms, median)"] = round(median[size] * 1000)
    return {
        **figures,
        f"ratio {large:,} / {small:,}": round(median[large] / median[small], 2),
        "expected": f"roughly linear in devices × hours ({large / small:g}×)",
    }

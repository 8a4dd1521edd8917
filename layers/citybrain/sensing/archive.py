"""The raw-readings archive: JSON Lines in S3, partitioned by local date.

S3 has no append, so each message writes one object per local date it covers,
named by a hash of the reading identities in it: a redelivered message (or a
re-sent batch) rewrites the same object instead of adding duplicate lines."""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict

from citybrain.core import timeutil
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.jsontext import compact
from citybrain.sensing.readings import Reading


def archive_key(date: str, readings: list[Reading]) -> str:
    """Named by the sha256 of the identities "device\\0t\\n", in order (hashed at once)."""
    identities = "".join(f"{device_id}\x00{t}\n" for device_id, t in sorted((r.device_id, r.t) for r in readings))
    return f"readings/date={date}/{hashlib.sha256(identities.encode()).hexdigest()[:32]}.jsonl"


def archive_line(reading: Reading, device_part: tuple[str, str]) -> str:
    """{"device_id", "observed_at", "t", "type", "town", "domain", "values"}: the compact JSON of
    that object, with what readings of one device share (device_fields) encoded once for them."""
    return (
        f'{{"device_id":{device_part[0]},"observed_at":"{timeutil.local_iso(reading.t)}","t":{reading.t},'
        f'{device_part[1]},"values":{compact(reading.values)}}}\n'
    )


@functools.lru_cache(maxsize=20_000)  # a district's devices, across the messages of a sandbox
def device_fields(device_id: str, device_type: str, town: str, domain: str) -> tuple[str, str]:
    """The device id as JSON, and '"type":..,"town":..,"domain":..' as JSON members."""
    shared = compact({"type": device_type, "town": town, "domain": domain})
    return compact(device_id), shared[1:-1]


def archive_readings(readings: list[Reading]) -> int:
    by_date: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_date[timeutil.local_date(reading.t)].append(reading)
    bucket = get_settings().archive_bucket
    for date, group in sorted(by_date.items()):
        lines = "".join(archive_line(r, device_fields(r.device_id, r.type.value, r.town, r.domain)) for r in group)
        client("s3").put_object(
            Bucket=bucket, Key=archive_key(date, group), Body=lines.encode(), ContentType="application/x-ndjson"
        )
    return len(by_date)

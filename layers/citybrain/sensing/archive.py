"""The raw-readings archive: JSON Lines in S3, partitioned by local date.

S3 has no append, so each message writes one object per local date it covers,
named by a hash of the reading identities in it: a redelivered message (or a
re-sent batch) rewrites the same object instead of adding duplicate lines."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from citybrain.core import timeutil
from citybrain.core.aws import client
from citybrain.core.config import get_settings
from citybrain.core.jsontext import compact
from citybrain.sensing.readings import Reading


def archive_key(date: str, readings: list[Reading]) -> str:
    digest = hashlib.sha256()
    for device_id, t in sorted(r.key for r in readings):
        digest.update(f"{device_id}\x00{t}\n".encode())
    return f"readings/date={date}/{digest.hexdigest()[:32]}.jsonl"


def archive_readings(readings: list[Reading]) -> int:
    by_date: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_date[timeutil.local_date(reading.t)].append(reading)
    bucket = get_settings().archive_bucket
    for date, group in sorted(by_date.items()):
        lines = "".join(
            compact(
                {
                    "device_id": r.device_id,
                    "observed_at": timeutil.local_iso(r.t),
                    "t": r.t,
                    "type": r.type.value,
                    "town": r.town,
                    "domain": r.domain,
                    "values": r.values,
                }
            )
            + "\n"
            for r in group
        )
        client("s3").put_object(
            Bucket=bucket, Key=archive_key(date, group), Body=lines.encode(), ContentType="application/x-ndjson"
        )
    return len(by_date)

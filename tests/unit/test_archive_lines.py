"""Archive lines and object names, written from parts shared per device, are exactly the
compact JSON of each reading and the sha256 of its identities."""

from __future__ import annotations

import hashlib

import pytest

from citybrain.core import timeutil
from citybrain.core.jsontext import compact
from citybrain.sensing.archive import archive_key, archive_line, device_fields
from citybrain.sensing.readings import Reading

T = timeutil.parse_instant("2026-11-27T23:59:00.125+08:00")


def reading(device_id: str = "aq-1", town: str = "桂城街道", **values) -> Reading:
    return Reading(
        device_id=device_id,
        t=T,
        values=values or {"pm25": 35.5, "no2": 18, "co": 0.7},
        type="air_quality",
        domain="environment",
        town=town,
    )


@pytest.mark.parametrize(
    "r",
    [
        reading(),
        reading(town='有"引号"和\\反斜杠\n换行'),
        reading(device_id="aq_2.b-3", town="\u0001\u007f\u2028"),
        reading(pm25=1e-7, pm10=12345678901234567890.0, temperature=-0.0),
        reading(relativeHumidity=1),
    ],
)
def test_a_line_is_the_compact_json_of_the_reading(r):
    whole = {
        "device_id": r.device_id,
        "observed_at": timeutil.local_iso(r.t),
        "t": r.t,
        "type": r.type.value,
        "town": r.town,
        "domain": r.domain,
        "values": r.values,
    }
    assert archive_line(r, device_fields(r.device_id, r.type.value, r.town, r.domain)) == compact(whole) + "\n"


def test_an_object_is_named_by_the_digest_of_its_identities_in_order():
    readings = [reading("aq-2"), reading("aq-1"), reading("aq-10")]
    digest = hashlib.sha256()
    for device_id, t in sorted(r.key for r in readings):
        digest.update(f"{device_id}\x00{t}\n".encode())
    assert archive_key("2026-11-27", readings) == f"readings/date=2026-11-27/{digest.hexdigest()[:32]}.jsonl"
    assert archive_key("2026-11-27", readings[::-1]) == archive_key("2026-11-27", readings)

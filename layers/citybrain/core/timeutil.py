"""Time in City Brain: stored as epoch milliseconds, shown and bucketed in
Asia/Shanghai local time. China keeps no daylight saving, so a fixed +08:00
offset is exact and needs no tz database in the Lambda runtime."""

from __future__ import annotations

import functools
import math
import time
from datetime import datetime, timedelta, timezone

LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
# Anything earlier is a device clock that was never set, or seconds sent as ms.
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
# And anything later is no observation or term City Brain can show (a local date past 9999).
LATEST_MS = 253_402_271_999_999  # 9999-12-31T23:59:59.999+08:00


class BadTime(ValueError):
    pass


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_instant(value: object) -> int:
    """ISO-8601 (with offset; naive = Asia/Shanghai) or epoch milliseconds -> epoch ms."""
    if isinstance(value, bool) or value is None:
        raise BadTime("expected an ISO-8601 time or epoch milliseconds")
    numeric = False
    text = value.strip() if isinstance(value, str) else ""
    if isinstance(value, (int, float)) or (text.isascii() and text.isdigit()):
        numeric = True
        if isinstance(value, float) and not math.isfinite(value):
            raise BadTime("expected a finite epoch milliseconds value")
        ms = int(value) if isinstance(value, (int, float)) else int(text)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=LOCAL_TZ)
            ms = int(parsed.timestamp() * 1000)
        except (ValueError, OverflowError, OSError):
            raise BadTime("not an ISO-8601 time (e.g. 2026-11-27T08:30:00+08:00)") from None
    else:
        raise BadTime("expected an ISO-8601 time or epoch milliseconds")
    if ms < EARLIEST_MS:
        if numeric and ms >= EARLIEST_MS // 1000:
            raise BadTime("looks like epoch seconds; send epoch milliseconds")
        raise BadTime("before 2000-01-01")
    if ms > LATEST_MS:
        raise BadTime("after 9999-12-31")
    return ms


def to_local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, LOCAL_TZ)


HOUR_MS = 3_600_000


@functools.lru_cache(maxsize=8192)
def _hour_labels(hour: int) -> tuple[str, str]:
    """The local hour `hour` hours after the epoch: ("2026-11-27T08", "2026-11-27").

    The offset is a whole number of hours, so every instant of a UTC hour is in the
    same local hour: the pipeline names the hour of each reading several times, and
    formatting a datetime for each was a tenth of its CPU."""
    local = datetime.fromtimestamp(hour * 3600, LOCAL_TZ)
    return local.strftime("%Y-%m-%dT%H"), local.strftime("%Y-%m-%d")


_OFFSET = datetime.fromtimestamp(0, LOCAL_TZ).isoformat()[-6:]  # "+08:00"


def local_iso(ms: int) -> str:
    """2026-11-27T08:30:00.250+08:00 (milliseconds only when present)."""
    if not isinstance(ms, int):
        return to_local(ms).isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    within = ms % HOUR_MS
    minutes, seconds, millis = within // 60_000, within // 1000 % 60, ms % 1000
    head = f"{_hour_labels(ms // HOUR_MS)[0]}:{minutes:02d}:{seconds:02d}"
    return f"{head}.{millis:03d}{_OFFSET}" if millis else head + _OFFSET


def local_hour(ms: int) -> str:
    """The local hour a reading falls in: 2026-11-27T08."""
    return _hour_labels(int(ms) // HOUR_MS)[0]


def local_date(ms: int) -> str:
    return _hour_labels(int(ms) // HOUR_MS)[1]

"""Schedule expressions as EventBridge reads them — `rate(5 minutes)` and
`cron(0 8 * * ? *)` — evaluated in UTC, as EventBridge evaluates them (the local
pump passes UTC times; the district's 00:30 is `cron(30 16 * * ? *)`).

Cron fields: minutes, hours, day-of-month, month, day-of-week (1-7 = SUN-SAT),
year; each `*`, a value, a list `a,b`, a range `a-b`, a step `*/n` or `a/n` or
`a-b/n`; month and day names (JAN, MON…); `?` in one of the two day fields
(EventBridge requires it in exactly one). `L`, `W` and `#` are not emulated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTHS = {
    name: i
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1
    )
}
DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class RateSchedule:
    seconds: int
    anchor: datetime  # the first period starts here (EventBridge: when the rule is created)

    def next_after(self, moment: datetime) -> datetime:
        periods = math.floor((moment - self.anchor).total_seconds() / self.seconds) + 1
        return self.anchor + timedelta(seconds=max(periods, 1) * self.seconds)


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: `?`
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None: `?`; 1 = Sunday
    years: frozenset[int]

    def _day_matches(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        weekday = (day.weekday() + 1) % 7 + 1  # Monday=0 -> 2 ... Sunday=6 -> 1
        return self.days_of_week is None or weekday in self.days_of_week

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after `moment` (same tzinfo), or None if none is left."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        last_year = max(self.years)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        while day.year <= last_year:
            if self._day_matches(day):
                for hour in hours:
                    if day == start.date() and hour < start.hour:
                        continue
                    for minute in minutes:
                        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=moment.tzinfo)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        return None


Schedule = RateSchedule | CronSchedule


def parse(expression: str, anchor: datetime) -> Schedule:
    """A schedule from an expression; `anchor` starts the periods of a rate."""
    text = expression.strip()
    match = re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)", text)
    if match:
        value, unit = int(match[1]), match[2]
        if value < 1:
            raise ScheduleError(f"{expression}: the rate must be at least 1")
        singular = unit.removesuffix("s")
        if singular not in UNITS or (value == 1) != (unit == singular):
            raise ScheduleError(f"{expression}: expected rate(1 minute|hour|day) or rate(N minutes|hours|days)")
        return RateSchedule(value * UNITS[singular], anchor)
    match = re.fullmatch(r"cron\((.*)\)", text)
    if match:
        return _cron(expression, match[1].split())
    raise ScheduleError(f"{expression}: expected rate(...) or cron(...)")


def _cron(expression: str, fields: list[str]) -> CronSchedule:
    if len(fields) != 6:
        raise ScheduleError(f"{expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(f"{expression}: put '?' in exactly one of day-of-month and day-of-week")
    return CronSchedule(
        minutes=_field(expression, minute, 0, 59),
        hours=_field(expression, hour, 0, 23),
        days_of_month=None if dom == "?" else _field(expression, dom, 1, 31),
        months=_field(expression, month, 1, 12, MONTHS),
        days_of_week=None if dow == "?" else _field(expression, dow, 1, 7, DAYS),
        years=_field(expression, year, 1970, 2199),
    )


def _field(expression: str, text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    def number(token: str) -> int:
        token = token.upper()
        if names and token in names:
            return names[token]
        if not token.isdigit():
            raise ScheduleError(
                f"{expression}: {token!r} is not a value of {low}..{high}"
                + (" (L, W and # are not emulated locally)" if re.search(r"[LW#]", token) else "")
            )
        value = int(token)
        if not low <= value <= high:
            raise ScheduleError(f"{expression}: {value} is outside {low}..{high}")
        return value

    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{expression}: bad step in {part!r}")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = number(a), number(b)
            if first > last:
                raise ScheduleError(f"{expression}: range {base!r} runs backwards")
        else:
            first = number(base)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)

"""The alerts figures of a report period: counts at the period's edges and mean times."""

from citybrain.core import timeutil
from citybrain.reports.alerts import alerts_section

START = timeutil.parse_instant("2026-11-27T00:00:00+08:00")
END = timeutil.parse_instant("2026-11-28T00:00:00+08:00")
MINUTE = 60_000


def alert(issued_ms: int, owner="env", domain="environment", severity="high", ack=None, resolved=None) -> dict:
    record = {"issued_ms": issued_ms, "owner": owner, "domain": domain, "severity": severity}
    if ack is not None:
        record["acknowledgedAt"] = timeutil.local_iso(ack)
    if resolved is not None:
        record["resolvedAt"] = timeutil.local_iso(resolved)
    return record


def test_counts_and_mean_times():
    alerts = [
        alert(START + 60 * MINUTE, ack=START + 70 * MINUTE, resolved=START + 120 * MINUTE),
        alert(START + 90 * MINUTE, ack=START + 120 * MINUTE),
        alert(
            START + 100 * MINUTE, owner="water", domain="safety", severity="critical", resolved=START + 160 * MINUTE
        ),  # resolved by the rules, never acknowledged
    ]
    section = alerts_section(alerts, START, END)
    assert (section["opened"], section["acknowledged"], section["resolved"], section["still_open"]) == (3, 2, 2, 1)
    assert section["mean_minutes_to_acknowledge"] == 20.0  # (10 + 30) / 2
    assert section["mean_minutes_to_resolve"] == 60.0  # (60 + 60) / 2
    assert section["by_department"]["env"]["opened"] == 2 and section["by_department"]["water"]["resolved"] == 1
    assert section["by_severity"]["critical"]["mean_minutes_to_acknowledge"] is None
    assert section["by_domain"]["safety"]["mean_minutes_to_resolve"] == 60.0
    assert section["period"] == {"from": "2026-11-27T00:00:00+08:00", "to": "2026-11-28T00:00:00+08:00"}


def test_the_edges_of_the_period():
    alerts = [
        alert(START - 1, resolved=START + MINUTE),  # opened before: resolved in it, not opened in it
        alert(START, ack=END - 1),  # the first instant and the last instant belong to the period
        alert(END - 1, resolved=END),  # resolved at the next period's first instant: still open at the end
        alert(END),  # after the period
        alert(START - 10 * MINUTE, resolved=START - MINUTE),  # over before the period: nothing here
    ]
    section = alerts_section(alerts, START, END)
    assert section["opened"] == 2 and section["acknowledged"] == 1 and section["resolved"] == 1
    assert section["still_open"] == 2


def test_an_empty_period_has_zeros_and_no_means():
    section = alerts_section([], START, END)
    assert (section["opened"], section["still_open"], section["mean_minutes_to_resolve"]) == (0, 0, None)
    assert section["by_department"] == {} and section["by_severity"] == {}

"""The incidents' grading table, categories and fusion window (citybrain.safety.incidents)."""

import pytest

from citybrain.safety.incidents import (
    GRADING,
    AlertFact,
    GradingTable,
    grade_of,
    join,
    new_incident,
    shown,
    within_window,
)

T0 = 1_796_083_200_000  # 2026-12-01T08:00:00+08:00
MINUTE = 60_000


def alert(alert_id="al-1", severity="high", domain="urban", sub="floodRisk", minute=0, town="九江镇"):
    return AlertFact(
        alert_id, "water", sub, severity, domain, town, T0 + minute * MINUTE, "d-1", "water", None, "opened"
    )


POINT = {
    "id": "rp-000000000001",
    "category": "natural_disaster",
    "risk_level": "major",
    "department": "water",
    "location": {"lat": 22.8, "lon": 113.0},
}


@pytest.mark.parametrize(
    "levels, severities, domains, grade",
    [
        (["major"], ["critical"], 1, "III"),  # a critical flood-risk alert at a major point: 较大 III
        (["major"], ["high"], 1, "IV"),
        (["large"], ["critical"], 1, "IV"),
        ([], ["critical"], 2, "IV"),
        ([], ["critical"], 3, "III"),  # three domains raise one level
        (["major"], ["critical"], 3, "II"),
        (["major", "low"], ["high", "critical"], 1, "III"),  # the highest level, the worst severity
        (["major"], ["critical"], 5, "II"),  # automatic grading stops at II: I is declared by people
    ],
)
def test_the_grading_table(levels, severities, domains, grade):
    assert grade_of(levels, severities, domains) == grade


def test_every_risk_level_and_severity_has_a_grade():
    for row in GRADING.values():
        assert set(row) == {"critical", "high", "medium", "low", "informational"}
        assert set(row.values()) <= {"II", "III", "IV"}


def test_an_incident_of_a_point_takes_the_points_category_and_location_and_never_lowers_its_grade():
    incident = new_incident([alert(severity="critical", sub="buildingRisk")], [POINT], 60 * MINUTE, T0)
    assert incident["category"] == "natural_disaster" and incident["location"] == POINT["location"]
    assert incident["grade"] == "III" and incident["departments"] == ["water"]
    changed, previous = join(incident, alert("al-2", severity="low", domain="traffic", sub="trafficJam"), [], T0)
    assert changed and previous == "III" and incident["grade"] == "III"
    assert join(incident, alert("al-2", severity="low", domain="traffic", sub="trafficJam"), [], T0) == (False, "III")
    assert shown(incident)["grade_name"] == "较大" and shown(incident)["category_name"] == "自然灾害"


def test_without_a_point_a_flood_alert_makes_a_natural_disaster_and_others_an_accident():
    assert new_incident([alert(sub="trafficJam", domain="traffic")], [], 3_600_000, T0)["category"] == "accident"
    mixed = new_incident([alert(sub="trafficJam", domain="traffic"), alert("al-2")], [], 3_600_000, T0)
    assert mixed["category"] == "natural_disaster"


@pytest.mark.parametrize("minutes, inside", [(0, True), (60, True), (61, False)])
def test_the_fusion_window_is_measured_from_the_latest_alert(minutes, inside):
    incident = new_incident([alert()], [], 60 * MINUTE, T0)
    assert within_window(incident, T0 + minutes * MINUTE) is inside
    incident["status"] = "closed"
    assert within_window(incident, T0) is False


def test_a_district_changes_cells_of_the_grading_table_and_the_raising_domains():
    table = GradingTable.configured('{"large": {"critical": "III"}, "raising_domains": 4}')
    assert table.grade(["large"], ["critical"], 1) == "III"
    assert table.grade(["major"], ["critical"], 1) == "III"  # the other cells stay
    assert table.grade([], ["critical"], 3) == "IV" and table.grade([], ["critical"], 4) == "III"
    assert GradingTable.configured("  ") == GradingTable() and GRADING["large"]["critical"] == "IV"
    incident = new_incident([alert(severity="critical")], [{**POINT, "risk_level": "large"}], 0, T0, table)
    assert incident["grade"] == "III"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("{", "not JSON"),
        ("[]", "a JSON object"),
        ('{"huge": {"critical": "III"}}', "'huge' is not one of"),
        ('{"major": "III"}', "'major' is not one of"),
        ('{"major": {"severe": "III"}}', "major.severe is not a severity"),
        ('{"major": {"critical": "I"}}', "one of II, III, IV"),  # grade I is declared by people
        ('{"raising_domains": 1}', "raising_domains"),
        ('{"raising_domains": true}', "raising_domains"),
    ],
)
def test_a_wrong_grading_table_is_refused_naming_the_cell(text, problem):
    with pytest.raises(ValueError, match=problem):
        GradingTable.configured(text)

"""The case state machine of the seven steps: every allowed and refused move, the roles,
the deadlines by grade and category, and overdue detection on the local clock."""

import pytest

from citybrain.cases.models import STATUSES, CaseActionIn
from citybrain.cases.workflow import (
    DEADLINES,
    TRANSITIONS,
    Actor,
    deadlines,
    mark_overdue,
    move,
    overdue_steps,
    stats,
)
from citybrain.core import timeutil
from citybrain.core.errors import Conflict, Forbidden, ValidationFailed

T0 = timeutil.parse_instant("2026-12-01T09:00:00+08:00")
MINUTE = 60_000
CENTRE = Actor("safety", True)
WATER, TRANSPORT, HEALTH = Actor("water", False), Actor("transport", False), Actor("health", False)
KNOWN = ["water", "transport", "health"]


def case(status="reported", grade=None, category="部件", **extra):
    base = {
        "id": "case-20261201-0000000001",
        "status": status,
        "category": category,
        "reported_by": "urban",
        "assignments": [],
        "history": [],
    }
    if grade:
        base["grade"] = grade
    if status in ("dispatched", "processing", "fed_back", "closed"):
        base.update(
            assignments=[{"department": "water", "role": "lead"}, {"department": "transport", "role": "support"}],
            dispatched_ms=T0,
            **deadlines({"category": category, "grade": grade}, T0),
        )
    return {**base, **extra}


def payload(**fields):
    return CaseActionIn.model_validate(fields)


ACTORS = {
    "register": CENTRE,
    "cancel": CENTRE,
    "dispatch": CENTRE,
    "acknowledge": WATER,
    "feedback": WATER,
    "close": CENTRE,
    "send_back": CENTRE,
}
BODIES = {
    "cancel": {"note": "重复上报"},
    "send_back": {"note": "请返工"},
    "dispatch": {"lead": "water"},
    "feedback": {"note": "已处置"},
}
CASES = [(action, status) for action in TRANSITIONS for status in STATUSES]


@pytest.mark.parametrize("action, status", CASES)
def test_every_move_from_every_status_is_allowed_or_a_409_naming_status(action, status):
    starts, leads_to, _ = TRANSITIONS[action]
    current = case(status)
    if status in starts:
        new = move(current, action, ACTORS[action], payload(**BODIES.get(action, {})), T0 + MINUTE, KNOWN)
        expected = leads_to or ("processing" if action == "acknowledge" else status)
        assert new["status"] == expected
        assert new["history"][-1]["action"] == action and new["history"][-1]["by"] == ACTORS[action].department
    elif action in ("acknowledge", "feedback") and not current["assignments"]:
        # before a dispatch no department is assigned: the department may not act on it at all
        with pytest.raises(Forbidden):
            move(current, action, ACTORS[action], payload(**BODIES.get(action, {})), T0, KNOWN)
    else:
        with pytest.raises(Conflict) as refused:
            move(current, action, ACTORS[action], payload(**BODIES.get(action, {})), T0, KNOWN)
        assert refused.value.errors[0]["field"] == "status"


@pytest.mark.parametrize(
    "action, status, actor",
    [
        ("register", "reported", WATER),
        ("cancel", "registered", TRANSPORT),
        ("dispatch", "registered", WATER),
        ("acknowledge", "dispatched", HEALTH),  # not assigned
        ("feedback", "processing", TRANSPORT),  # supporting, not the lead
        ("close", "fed_back", WATER),
        ("send_back", "fed_back", WATER),
    ],
)
def test_only_the_named_role_moves_a_case(action, status, actor):
    with pytest.raises(Forbidden):
        move(case(status), action, actor, payload(**BODIES.get(action, {})), T0, KNOWN)


def test_a_supporting_acknowledgement_keeps_the_case_dispatched_and_the_leads_starts_the_work():
    supported = move(case("dispatched"), "acknowledge", TRANSPORT, payload(), T0 + MINUTE, KNOWN)
    assert supported["status"] == "dispatched"
    started = move(supported, "acknowledge", WATER, payload(), T0 + 2 * MINUTE, KNOWN)
    assert started["status"] == "processing"
    with pytest.raises(Conflict):
        move(started, "acknowledge", WATER, payload(), T0 + 3 * MINUTE, KNOWN)


def test_cancel_and_send_back_need_a_reason_and_dispatch_a_lead():
    for action, status in (("cancel", "reported"), ("send_back", "fed_back"), ("dispatch", "registered")):
        with pytest.raises(ValidationFailed):
            move(case(status), action, CENTRE, payload(), T0, KNOWN)
    with pytest.raises(ValidationFailed) as bad:
        move(case("registered"), "dispatch", CENTRE, payload(lead="water", supporting=["water"]), T0, KNOWN)
    assert bad.value.errors[0]["field"] == "supporting"


@pytest.mark.parametrize(
    "key, expected",
    [(("III", "事件"), (60, 48)), ((None, "部件"), (120, 120)), ((None, "事件"), (60, 48)), (("I", "部件"), (15, 12))],
)
def test_deadlines_by_grade_then_category(key, expected):
    grade, category = key
    found = deadlines({"grade": grade, "category": category}, T0)
    assert found == {"acknowledge_by_ms": T0 + expected[0] * MINUTE, "close_by_ms": T0 + expected[1] * 3_600_000}
    assert set(DEADLINES) == {"I", "II", "III", "IV", "部件", "事件"}


def test_overdue_is_past_the_deadline_not_at_it_and_is_marked_once():
    dispatched = case("dispatched", grade="III", category="事件")
    assert overdue_steps(dispatched, T0 + 60 * MINUTE) == []  # at the deadline: on time
    late = overdue_steps(dispatched, T0 + 60 * MINUTE + 1)
    assert late == [("acknowledge", "water"), ("acknowledge", "transport")]
    marked = mark_overdue(dispatched, late, T0 + 61 * MINUTE)
    assert marked["grade"] == "II" and marked["history"][-1]["to"] == "II"
    assert overdue_steps(marked, T0 + 62 * MINUTE) == []
    assert overdue_steps(marked, T0 + 48 * 3_600_000 + 1) == [("close", None)]
    assert mark_overdue(case("dispatched", grade="I"), [("close", None)], T0)["grade"] == "I"  # the top grade stays
    assert overdue_steps(case("closed"), T0 + 10**9) == []


def test_the_evaluation_counts_on_time_by_the_deadlines():
    done = case("closed", closed_ms=T0 + 3_600_000, sent_back=1)
    done["assignments"][0]["acknowledged_ms"] = T0 + 10 * MINUTE  # on time (120 min)
    done["assignments"][1]["acknowledged_ms"] = T0 + 130 * MINUTE  # late
    figures = stats([done])
    assert figures["water"] == {
        "received": 1, "acknowledged_on_time": 1, "closed_on_time": 1, "sent_back": 1,
        "mean_minutes_to_acknowledge": 10.0, "mean_minutes_to_close": 60.0,
    }  # fmt: skip
    assert figures["transport"]["acknowledged_on_time"] == 0 and figures["transport"]["closed_on_time"] == 0
    assert set(stats([done], "transport")) == {"transport"}

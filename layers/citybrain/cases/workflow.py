"""Cases (案件) and their linked dispatch (联动处置), following the seven steps of China's
digital city management process (数字化城市管理, GB/T 30428 series):

1. 信息采集 `reported`   — by a department (`POST /v1/cases`), from an incident, or from an alert;
2. 案卷建立 `registered` — the command centre registers it, or `cancelled` with a reason;
3. 任务派遣 `dispatched` — to a lead department and any supporting ones, with deadlines from
   DEADLINES by grade (big-safety cases) or category (部件 / 事件); the clock starts;
4. 任务处理 `processing` — each assigned department acknowledges; the lead's starts the work;
5. 处理反馈 `fed_back`   — the lead department reports what was done (a note, photos);
6. 核查结案 `closed`     — the command centre verifies and closes, or sends it back (返工,
   back to `processing`) with a reason;
7. 综合评价 — per department: received, acknowledged on time, closed on time, sent back,
   mean minutes to acknowledge and to close (`stats`).

Photos (PHOTO_STAGES): the reporter adds them to a case still `reported` (step 1), the lead
department to a case `processing` (step 5), and the feedback names the ones it shows.

Only the roles named in TRANSITIONS move a case; every move is in its history with actor and
time; a move the status does not allow is a 409 naming `status`. The command centre is the
data bureau (admin) and the departments configured as such (the emergency bureau by default).
All times are epoch ms, shown in local time (+08:00).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from citybrain.cases.models import MAX_PHOTOS_PER_STAGE, CaseActionIn, CasePhotoIn
from citybrain.core import timeutil
from citybrain.core.errors import Conflict, Forbidden, ValidationFailed

GRADES = ("I", "II", "III", "IV")
COMMAND, ASSIGNED, LEAD, REPORTER = "command_centre", "assigned", "lead", "reporter"

# action -> (statuses it may start from, the status it leads to (None: unchanged), who may take it)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None, str]] = {
    "register": (frozenset({"reported"}), "registered", COMMAND),
    "cancel": (frozenset({"reported", "registered"}), "cancelled", COMMAND),
    "dispatch": (frozenset({"registered"}), "dispatched", COMMAND),
    "acknowledge": (frozenset({"dispatched", "processing"}), None, ASSIGNED),
    "feedback": (frozenset({"processing"}), "fed_back", LEAD),
    "close": (frozenset({"fed_back"}), "closed", COMMAND),
    "send_back": (frozenset({"fed_back"}), "processing", COMMAND),
}

# photo stage -> (the statuses a photo of it is added in, who adds it)
PHOTO_STAGES: dict[str, tuple[frozenset[str], str]] = {
    "report": (frozenset({"reported"}), REPORTER),  # 信息采集: the scene as reported
    "feedback": (frozenset({"processing"}), LEAD),  # 处理反馈: the work done, before the feedback is sent
}

# The district's deadlines: (minutes to acknowledge, hours to close) from dispatch.
DEADLINES: dict[str, tuple[int, int]] = {
    "I": (15, 12),  # 特别重大
    "II": (30, 24),  # 重大
    "III": (60, 48),  # 较大
    "IV": (120, 72),  # 一般
    "部件": (120, 120),  # a public facility (manhole cover, street light): 5 days
    "事件": (60, 48),  # an event (street trading, dumping)
}


@dataclass(frozen=True)
class Actor:
    department: str
    command_centre: bool


def deadlines(case: Mapping[str, Any], dispatched_ms: int) -> dict[str, int]:
    acknowledge_minutes, close_hours = DEADLINES[case.get("grade") or case["category"]]
    return {
        "acknowledge_by_ms": dispatched_ms + acknowledge_minutes * 60_000,
        "close_by_ms": dispatched_ms + close_hours * 3_600_000,
    }


def move(
    case: Mapping[str, Any], action: str, actor: Actor, payload: CaseActionIn, now_ms: int, known: Iterable[str] = ()
) -> dict[str, Any]:
    """The case after `action`, or the client error that refuses it (403, 409, 400)."""
    starts, leads_to, role = TRANSITIONS[action]
    _may(case, role, actor)
    if case["status"] not in starts:
        raise Conflict(
            f"a case that is {case['status']} cannot be {action.replace('_', ' ')}ed here",
            [{"field": "status", "message": f"{case['status']}; {action} needs {' or '.join(sorted(starts))}"}],
        )
    new = {**case, "assignments": [dict(a) for a in case.get("assignments", [])]}
    entry: dict[str, Any] = {"at": timeutil.local_iso(now_ms), "action": action, "by": actor.department}
    if payload.note:
        entry["note"] = payload.note
    if action in ("cancel", "send_back") and not payload.note:
        raise ValidationFailed("invalid request body", [{"field": "note", "message": f"{action} needs a reason"}])
    if payload.photos:
        _shown_photos(case, action, payload.photos, entry)
    if action == "dispatch":
        _dispatch(new, payload, set(known), now_ms, entry)
    elif action == "acknowledge":
        assignment = next(a for a in new["assignments"] if a["department"] == actor.department)
        if assignment.get("acknowledged_ms"):
            raise Conflict("already acknowledged", [{"field": "status", "message": "acknowledged by this department"}])
        assignment["acknowledged_ms"] = now_ms
        assignment["acknowledged_at"] = timeutil.local_iso(now_ms)
        if assignment["role"] == "lead":
            new["status"] = "processing"
    elif action == "send_back":
        new["sent_back"] = int(new.get("sent_back", 0)) + 1
    elif action == "close":
        new.update(closed_ms=now_ms, closed_at=timeutil.local_iso(now_ms))
    if leads_to:
        new["status"] = leads_to
    new["history"] = [*case.get("history", []), entry]
    new["updated_at"] = entry["at"]
    return new


def _dispatch(case: dict[str, Any], payload: CaseActionIn, known: set[str], now_ms: int, entry: dict[str, Any]) -> None:
    if not payload.lead:
        raise ValidationFailed(
            "invalid request body", [{"field": "lead", "message": "dispatch needs a lead department"}]
        )
    problems = [
        {"field": field, "message": f"no department {d}"}
        for field, d in [("lead", payload.lead), *((f"supporting.{i}", d) for i, d in enumerate(payload.supporting))]
        if d not in known
    ]
    if payload.lead in payload.supporting:
        problems.append({"field": "supporting", "message": "the lead department is not also supporting"})
    if problems:
        raise ValidationFailed("invalid request body", problems)
    case["assignments"] = [{"department": payload.lead, "role": "lead"}] + [
        {"department": d, "role": "support"} for d in payload.supporting
    ]
    case.update(deadlines(case, now_ms), dispatched_ms=now_ms, dispatched_at=timeutil.local_iso(now_ms))
    case["lead"] = payload.lead
    entry.update(lead=payload.lead, supporting=payload.supporting)


def _shown_photos(case: Mapping[str, Any], action: str, photos: Sequence[str], entry: dict[str, Any]) -> None:
    """The feedback names photos the case holds at stage feedback (400 `photos.N` otherwise)."""
    if action != "feedback":
        raise ValidationFailed("invalid request body", [{"field": "photos", "message": "only a feedback shows photos"}])
    held = {p["id"]: p["stage"] for p in case.get("photos", [])}
    problems = [
        {"field": f"photos.{i}", "message": f"no photo {p} of this case" if p not in held else "a report photo"}
        for i, p in enumerate(photos)
        if held.get(p) != "feedback"
    ]
    if problems:
        raise ValidationFailed("invalid request body", problems)
    entry["photos"] = list(photos)


def add_photo(case: Mapping[str, Any], photo_id: str, photo: CasePhotoIn, actor: Actor, now_ms: int) -> dict[str, Any]:
    """The case with one more photo (its upload URL is handed out next), or the client error that
    refuses it: 403 for a department that may not add one, 409 naming `status` or `stage`."""
    statuses, role = PHOTO_STAGES[photo.stage]
    _may(case, role, actor)
    if case["status"] not in statuses:
        raise Conflict(
            f"a case that is {case['status']} takes no {photo.stage} photos",
            [{"field": "status", "message": f"{case['status']}; {photo.stage} photos need {' or '.join(statuses)}"}],
        )
    photos = [dict(p) for p in case.get("photos", [])]
    if sum(p["stage"] == photo.stage for p in photos) >= MAX_PHOTOS_PER_STAGE:
        raise Conflict(
            f"the case has {MAX_PHOTOS_PER_STAGE} {photo.stage} photos already",
            [{"field": "stage", "message": f"at most {MAX_PHOTOS_PER_STAGE} photos per case at stage {photo.stage}"}],
        )
    at = timeutil.local_iso(now_ms)
    record = {
        "id": photo_id,
        "stage": photo.stage,
        "content_type": photo.content_type,
        "size": photo.size,
        "added_by": actor.department,
        "added_at": at,
    }
    entry = {"at": at, "action": "photo_added", "by": actor.department, "photo": photo_id, "stage": photo.stage}
    return {
        **case,
        "photos": [*photos, record],
        "history": [*case.get("history", []), entry],
        "updated_at": at,
    }


def _may(case: Mapping[str, Any], role: str, actor: Actor) -> None:
    assigned = {a["department"]: a["role"] for a in case.get("assignments", [])}
    if role == REPORTER and actor.department != case["reported_by"]:
        raise Forbidden("only the reporting department adds photos of what it reported")
    if role == COMMAND and not actor.command_centre:
        raise Forbidden("only the command centre (the data bureau or the emergency bureau) may do this")
    if role == ASSIGNED and actor.department not in assigned:
        raise Forbidden("only a department the case is dispatched to may acknowledge it")
    if role == LEAD and assigned.get(actor.department) != "lead":
        raise Forbidden("only the case's lead department reports what was done")


def may_read(case: Mapping[str, Any], actor: Actor) -> bool:
    involved = {case["reported_by"], *(a["department"] for a in case.get("assignments", []))}
    return actor.command_centre or actor.department in involved


# -- 超时: the overdue check ----------------------------------------------------------
def overdue_steps(case: Mapping[str, Any], now_ms: int) -> list[tuple[str, str | None]]:
    """[(step, department)] newly overdue: an assignment not acknowledged by its deadline, or
    the case not closed by its deadline (each marked once)."""
    if case["status"] not in ("dispatched", "processing", "fed_back"):
        return []
    marked = {(o["step"], o.get("department")) for o in case.get("overdue", [])}
    found: list[tuple[str, str | None]] = []
    for a in case.get("assignments", []):
        step = ("acknowledge", a["department"])
        if not a.get("acknowledged_ms") and now_ms > case["acknowledge_by_ms"] and step not in marked:
            found.append(step)
    if now_ms > case["close_by_ms"] and ("close", None) not in marked:
        found.append(("close", None))
    return found


def mark_overdue(case: Mapping[str, Any], steps: Sequence[tuple[str, str | None]], now_ms: int) -> dict[str, Any]:
    """The case with its overdue steps marked; a big-safety case escalates one grade (once per pass)."""
    at = timeutil.local_iso(now_ms)
    new = {**case, "overdue": [*case.get("overdue", []), *({"step": s, "department": d, "at": at} for s, d in steps)]}
    entry: dict[str, Any] = {"at": at, "action": "overdue", "by": "supervision", "steps": [s for s, _ in steps]}
    grade = case.get("grade")
    if grade and grade != "I":
        new["grade"] = GRADES[GRADES.index(grade) - 1]
        entry.update({"from": grade, "to": new["grade"]})
    new["history"] = [*case.get("history", []), entry]
    return new


# -- 综合评价: per department --------------------------------------------------------
def stats(cases: Iterable[Mapping[str, Any]], department: str | None = None) -> dict[str, Any]:
    tallies: dict[str, dict[str, Any]] = {}
    for case in cases:
        for a in case.get("assignments", []):
            if department and a["department"] != department:
                continue
            t = tallies.setdefault(
                a["department"],
                {
                    "received": 0,
                    "acknowledged_on_time": 0,
                    "closed_on_time": 0,
                    "sent_back": 0,
                    "_ack": [],
                    "_close": [],
                },
            )
            t["received"] += 1
            if a.get("acknowledged_ms"):
                t["_ack"].append(a["acknowledged_ms"] - case["dispatched_ms"])
                if a["acknowledged_ms"] <= case["acknowledge_by_ms"]:
                    t["acknowledged_on_time"] += 1
            if a["role"] == "lead":
                t["sent_back"] += int(case.get("sent_back", 0))
                if case.get("closed_ms"):
                    t["_close"].append(case["closed_ms"] - case["dispatched_ms"])
                    if case["closed_ms"] <= case["close_by_ms"]:
                        t["closed_on_time"] += 1
    return {
        name: {
            **{k: v for k, v in t.items() if not k.startswith("_")},
            "mean_minutes_to_acknowledge": _mean_minutes(t["_ack"]),
            "mean_minutes_to_close": _mean_minutes(t["_close"]),
        }
        for name, t in sorted(tallies.items())
    }


def _new_tally() -> dict[str, Any]:
    return {"received": 0, "acknowledged_on_time": 0, "closed_on_time": 0, "sent_back": 0, "_ack": [], "_close": []}


def _mean_minutes(durations: list[int]) -> float | None:
    return round(sum(durations) / len(durations) / 60_000, 1) if durations else None

"""Photos of a case: who adds them at which step, the limits, the upload URL's signed headers,
the feedback that shows them, and that a refused request changes nothing (in-memory fakes)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from citybrain.cases.models import MAX_PHOTO_BYTES, MAX_PHOTOS_PER_STAGE, CaseActionIn, CaseIn, CasePhotoIn
from citybrain.cases.service import Cases
from citybrain.cases.workflow import Actor, add_photo
from citybrain.core import timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.departments.models import Principal
from citybrain.exchange.audit import ChangeRefused

T0 = timeutil.parse_instant("2026-12-01T09:00:00+08:00")
URBAN, WATER, TRANSPORT = (
    Principal("urban", "department"),
    Principal("water", "department"),
    Principal("transport", "department"),
)
CENTRE = Principal("safety", "department")
MANHOLE = {
    "category": "部件",
    "subcategory": "井盖缺失",
    "description": "桂澜路井盖缺失",
    "town": "桂城街道",
    "location": {"lat": 23.03, "lon": 113.14},
}


class Store:
    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}

    def create_write(self, case):
        return {"case": copy.deepcopy(case), "expected": None}

    def replace_write(self, case, expected_version):
        return {"case": copy.deepcopy(case), "expected": expected_version}

    def get(self, case_id):
        found = self.cases.get(case_id)
        return copy.deepcopy(found) if found else None


class Audit:
    """Commits each change with its entry, refusing one whose version moved (as the transaction does)."""

    def __init__(self, store: Store) -> None:
        self.store, self.entries = store, []

    def append(self, *, actor, action, details=None, changes=()):
        for index, write in enumerate(changes):
            held = self.store.cases.get(write["case"]["id"])
            if (write["expected"] is None) != (held is None) or (held and held["version"] != write["expected"]):
                raise ChangeRefused(index)
        for write in changes:
            self.store.cases[write["case"]["id"]] = write["case"]
        self.entries.append({"actor": actor, "action": action, "details": details})
        return self.entries[-1]


class Photos:
    def __init__(self) -> None:
        self.uploaded: set[str] = set()
        self.signed: list[tuple[str, int, dict[str, str]]] = []

    def upload_url(self, key, expires_in, headers):
        self.signed.append((key, expires_in, headers))
        return f"https://s3.example/{key}?put"

    def link(self, key, expires_in):
        return f"https://s3.example/{key}?get&expires={expires_in}"

    def exists(self, key):
        return key in self.uploaded


@pytest.fixture
def world():
    store = Store()
    audit = Audit(store)
    photos = Photos()
    service = Cases(
        store,
        supervision=None,  # type: ignore[arg-type]
        department_exists=lambda d: d in {"urban", "water", "transport"},
        incident_of=lambda _: None,
        alert_exists=lambda _: False,
        open_incident=lambda *_: {},
        audit=audit,
        command_centre=frozenset({"safety"}),
        clock=lambda: T0,
        photos=photos,
    )
    return service, store, audit, photos


def photo(stage="report", content_type="image/jpeg", size=200_000):
    return CasePhotoIn.model_validate({"content_type": content_type, "size": size, "stage": stage})


def reported(service) -> str:
    return service.report(URBAN, CaseIn.model_validate(MANHOLE))["id"]


def processing(service) -> str:
    case_id = reported(service)
    service.act(CENTRE, case_id, "register", CaseActionIn())
    service.act(CENTRE, case_id, "dispatch", CaseActionIn(lead="water", supporting=["transport"]))
    service.act(WATER, case_id, "acknowledge", CaseActionIn())
    return case_id


def test_the_reporter_adds_a_report_photo_recorded_and_audited_with_a_signed_url(world):
    service, store, audit, photos = world
    case_id = reported(service)
    ticket = service.add_photo(URBAN, case_id, photo(content_type="image/png", size=1234))
    assert ticket["id"].startswith("ph-") and ticket["case_id"] == case_id and ticket["method"] == "PUT"
    assert ticket["headers"] == {"If-None-Match": "*", "Content-Type": "image/png", "Content-Length": "1234"}
    key, expires_in, signed = photos.signed[-1]
    assert key == f"photos/{case_id}/{ticket['id']}.png" and signed == ticket["headers"] and expires_in == 900
    assert ticket["expires_at"] == timeutil.local_iso(T0 + 900_000)

    case = store.cases[case_id]
    assert case["version"] == 2 and case["status"] == "reported"
    assert case["photos"] == [
        {
            "id": ticket["id"],
            "stage": "report",
            "content_type": "image/png",
            "size": 1234,
            "added_by": "urban",
            "added_at": timeutil.local_iso(T0),
        }
    ]
    assert case["history"][-1] == {
        "at": timeutil.local_iso(T0),
        "action": "photo_added",
        "by": "urban",
        "photo": ticket["id"],
        "stage": "report",
    }
    assert audit.entries[-1]["action"] == "case.photo_added"
    assert audit.entries[-1]["details"] == {
        "case": case_id,
        "status": "reported",
        "town": "桂城街道",
        "photo": ticket["id"],
        "stage": "report",
    }

    shown = service.get(URBAN, case_id)["photos"][0]
    assert shown["url"] == f"https://s3.example/{key}?get&expires=600"
    assert shown["url_expires_at"] == timeutil.local_iso(T0 + 600_000)


@pytest.mark.parametrize(
    "who, stage, error",
    [
        (WATER, "report", Forbidden),  # not the reporter
        (CENTRE, "report", Forbidden),
        (URBAN, "feedback", Forbidden),  # not the lead
    ],
)
def test_only_the_reporter_adds_report_photos_and_only_the_lead_feedback_photos(world, who, stage, error):
    service, store, audit, _ = world
    case_id = reported(service)
    before, entries = copy.deepcopy(store.cases), len(audit.entries)
    with pytest.raises(error):
        service.add_photo(who, case_id, photo(stage))
    assert store.cases == before and len(audit.entries) == entries


def test_a_photo_out_of_its_step_is_a_409_naming_status_and_changes_nothing(world):
    service, store, audit, _ = world
    case_id = processing(service)
    before, entries = copy.deepcopy(store.cases), len(audit.entries)
    with pytest.raises(Conflict) as late:
        service.add_photo(URBAN, case_id, photo("report"))  # registered since: the report is made
    assert late.value.errors[0]["field"] == "status"
    with pytest.raises(Forbidden):
        service.add_photo(TRANSPORT, case_id, photo("feedback"))  # supporting, not the lead
    assert store.cases == before and len(audit.entries) == entries
    service.add_photo(WATER, case_id, photo("feedback"))
    service.act(WATER, case_id, "feedback", CaseActionIn(note="已更换井盖"))
    with pytest.raises(Conflict) as done:
        service.add_photo(WATER, case_id, photo("feedback"))  # fed back: the feedback is sent
    assert done.value.errors[0]["field"] == "status"


def test_at_most_ten_photos_per_stage(world):
    service, store, _, _ = world
    case_id = reported(service)
    for _ in range(MAX_PHOTOS_PER_STAGE):
        service.add_photo(URBAN, case_id, photo())
    with pytest.raises(Conflict) as full:
        service.add_photo(URBAN, case_id, photo())
    assert full.value.errors[0]["field"] == "stage"
    assert len(store.cases[case_id]["photos"]) == MAX_PHOTOS_PER_STAGE


def test_the_feedback_shows_uploaded_feedback_photos_of_the_case_only(world):
    service, store, audit, photos = world
    case_id = processing(service)
    first = service.add_photo(WATER, case_id, photo("feedback"))
    second = service.add_photo(WATER, case_id, photo("feedback", "image/webp"))
    photos.uploaded.add(f"photos/{case_id}/{first['id']}.jpg")
    before, entries = copy.deepcopy(store.cases), len(audit.entries)

    with pytest.raises(ValidationFailed) as unknown:
        service.act(WATER, case_id, "feedback", CaseActionIn(note="已处置", photos=[first["id"], "ph-000000000000"]))
    assert [e["field"] for e in unknown.value.errors] == ["photos.1"]
    with pytest.raises(ValidationFailed) as not_uploaded:
        service.act(WATER, case_id, "feedback", CaseActionIn(note="已处置", photos=[first["id"], second["id"]]))
    assert [e["field"] for e in not_uploaded.value.errors] == ["photos.1"]
    assert "not uploaded" in not_uploaded.value.errors[0]["message"]
    assert store.cases == before and len(audit.entries) == entries

    fed_back = service.act(WATER, case_id, "feedback", CaseActionIn(note="已更换井盖", photos=[first["id"]]))
    assert fed_back["status"] == "fed_back"
    assert fed_back["history"][-1]["photos"] == [first["id"]]


def test_a_report_photo_is_not_a_feedback_photo_and_only_a_feedback_shows_photos(world):
    service, store, _, photos = world
    case_id = reported(service)
    report = service.add_photo(URBAN, case_id, photo("report"))
    photos.uploaded.add(f"photos/{case_id}/{report['id']}.jpg")
    with pytest.raises(ValidationFailed) as wrong:
        service.act(CENTRE, case_id, "register", CaseActionIn(photos=[report["id"]]))
    assert wrong.value.errors[0]["field"] == "photos"
    service.act(CENTRE, case_id, "register", CaseActionIn())
    service.act(CENTRE, case_id, "dispatch", CaseActionIn(lead="water"))
    service.act(WATER, case_id, "acknowledge", CaseActionIn())
    with pytest.raises(ValidationFailed) as report_photo:
        service.act(WATER, case_id, "feedback", CaseActionIn(note="已处置", photos=[report["id"]]))
    assert report_photo.value.errors[0] == {"field": "photos.0", "message": "a report photo"}


def test_a_photo_of_an_unknown_or_malformed_case(world):
    service, _, _, _ = world
    with pytest.raises(NotFound):
        service.add_photo(URBAN, "case-20261201-0000000000", photo())
    with pytest.raises(ValidationFailed) as bad:
        service.add_photo(URBAN, "nope", photo())
    assert bad.value.errors[0]["field"] == "case_id"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"content_type": "image/gif", "size": 10, "stage": "report"}, "content_type"),
        ({"content_type": "image/jpeg", "size": MAX_PHOTO_BYTES + 1, "stage": "report"}, "size"),
        ({"content_type": "image/jpeg", "size": 0, "stage": "report"}, "size"),
        ({"content_type": "image/jpeg", "size": True, "stage": "report"}, "size"),
        ({"content_type": "image/jpeg", "size": "10", "stage": "report"}, "size"),
        ({"content_type": "image/jpeg", "size": 10, "stage": "close"}, "stage"),
        ({"content_type": "image/jpeg", "size": 10}, "stage"),
    ],
)
def test_a_photo_announcement_is_checked_field_by_field(body, field):
    with pytest.raises(ValidationError) as bad:
        CasePhotoIn.model_validate(body)
    assert [e["loc"][0] for e in bad.value.errors()] == [field]


def test_feedback_photo_ids_are_checked_by_shape_and_named_once():
    with pytest.raises(ValidationError) as bad:
        CaseActionIn.model_validate({"note": "x", "photos": ["ph-000000000001", "../etc"]})
    assert [e["loc"] for e in bad.value.errors()] == [("photos", 1)]
    with pytest.raises(ValidationError):
        CaseActionIn.model_validate({"note": "x", "photos": ["ph-000000000001", "ph-000000000001"]})


def test_the_workflow_refuses_before_anything_is_built():
    case = {"id": "case-20261201-0000000001", "status": "reported", "reported_by": "urban", "history": []}
    added = add_photo(case, "ph-000000000001", photo(), Actor("urban", False), T0)
    assert [p["id"] for p in added["photos"]] == ["ph-000000000001"] and "photos" not in case
    with pytest.raises(Forbidden):
        add_photo(case, "ph-000000000002", photo(), Actor("safety", True), T0)  # the centre is not the reporter

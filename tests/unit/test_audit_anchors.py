"""The audit chain against its anchors, as pure logic: what verify detects, the
incremental verification's paging and checkpoint, the re-verification job's slices,
and the offline verifier on good and tampered exports."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from citybrain.core.errors import Conflict, Forbidden, ValidationFailed
from citybrain.departments.models import Principal
from citybrain.exchange import anchors as anchors_module
from citybrain.exchange.anchors import ChainAnchors
from citybrain.exchange.chain import GENESIS, canonical, entry_hash, verify
from citybrain.exchange.verify_export import check, main
from tests.unit.test_exchange_audit_chain import chain

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Principal("data-bureau", "admin")
DEPT = Principal("health", "department")


def anchor_of(entries, seq):
    return {"seq": seq, "hash": entries[seq - 1]["hash"]}


def rewrite_from(entries, seq, actor="forger"):
    """A consistent rewrite of the tail: entry `seq` edited, every later hash recomputed."""
    forged = copy.deepcopy(entries)
    previous = forged[seq - 2]["hash"] if seq > 1 else GENESIS
    for entry in forged[seq - 1 :]:
        if entry["seq"] == seq:
            entry["actor"] = actor
        entry["prev_hash"] = previous
        entry["hash"] = entry_hash(entry)
        previous = entry["hash"]
    return forged


# -- the walk against anchors ---------------------------------------------------------------
def test_an_intact_chain_matches_its_anchors():
    entries = chain(30)
    result = verify(entries, [anchor_of(entries, 10), anchor_of(entries, 30)])
    assert result["ok"] is True and result["anchors_checked"] == 2 and result["head"] == entries[-1]["hash"]


def test_deleting_the_newest_entries_is_detected_down_to_the_last_anchor():
    entries = chain(30)
    anchors = [anchor_of(entries, 10), anchor_of(entries, 25)]
    assert verify(entries[:27], anchors)["ok"] is True  # after the last anchor: only the links protect
    result = verify(entries[:22], anchors)
    assert result["ok"] is False and result["broken_at"] == 23 and "newest entries were deleted" in result["reason"]
    assert verify(entries[:22])["ok"] is True  # without anchors the shorter chain looked fine


def test_a_consistent_rewrite_of_the_tail_is_detected_at_the_next_anchor():
    entries = chain(30)
    anchors = [anchor_of(entries, 10), anchor_of(entries, 25)]
    forged = rewrite_from(entries, 14)
    assert verify(forged)["ok"] is True  # the links alone cannot tell
    result = verify(forged, anchors)
    assert result["ok"] is False and result["broken_at"] == 25 and "anchored hash" in result["reason"]
    assert result["expected"] == entries[24]["hash"]


def test_a_truncated_and_regrown_chain_is_detected():
    """Delete the tail and let a fresh process write the same seqs again: the anchored one differs."""
    entries = chain(30)
    anchors = [anchor_of(entries, 25)]
    regrown = rewrite_from(entries, 21, actor="someone-new")
    assert verify(regrown, anchors)["broken_at"] == 25


def test_a_walk_from_a_checkpoint_with_a_limit():
    entries = chain(30)
    anchors = [anchor_of(entries, 5), anchor_of(entries, 15), anchor_of(entries, 28)]
    step = verify(entries[10:], anchors, start_seq=10, start_hash=entries[9]["hash"], limit=10)
    assert step["ok"] is True and step["complete"] is False
    assert step["verified_to_seq"] == 20 and step["anchors_checked"] == 1 and step["head"] == entries[19]["hash"]
    rest = verify(entries[20:], anchors, start_seq=20, start_hash=step["head"], limit=10)
    assert rest["complete"] is True and rest["verified_to_seq"] == 30 and rest["anchors_checked"] == 1
    wrong_start = verify(entries[10:], anchors, start_seq=10, start_hash="f" * 64, limit=10)
    assert wrong_start["ok"] is False and wrong_start["broken_at"] == 11


# -- the service with stores in memory --------------------------------------------------------
class MemoryChain:
    def __init__(self, entries):
        self.entries = {e["seq"]: e for e in entries}

    def head(self):
        return self.entries[max(self.entries)] if self.entries else None

    def entries_after(self, after, limit):
        return [self.entries[s] for s in sorted(self.entries) if s > after][:limit]

    def at(self, seq):
        return self.entries.get(seq)


class MemoryAnchors:
    def __init__(self):
        self.objects = {}

    def put_new(self, anchor):
        if anchor["seq"] in self.objects:
            return False
        self.objects[anchor["seq"]] = dict(anchor)
        return True

    def get(self, seq):
        return self.objects.get(seq)

    def seqs_after(self, after, limit):
        return sorted(s for s in self.objects if s > after)[:limit]

    def last_seq(self, from_seq=0):
        found = [s for s in self.objects if s >= from_seq]
        return max(found) if found else None

    def anchors_after(self, after, upto=None):
        for seq in self.seqs_after(after, 10**9):
            if upto is not None and seq > upto:
                return
            yield self.objects[seq]


class MemoryState:
    def __init__(self):
        self.items = {}

    def get(self, item_id):
        return copy.deepcopy(self.items.get(item_id))

    def put(self, item):
        self.items[item["id"]] = copy.deepcopy(item)

    def create(self, item):
        if item["id"] in self.items:
            return False
        self.put(item)
        return True

    def forget(self, item_id):
        self.items.pop(item_id, None)


class MemoryQueue:
    def __init__(self):
        self.sent = []

    def send(self, job_id):
        self.sent.append(job_id)


def service(entries):
    return ChainAnchors(MemoryChain(entries), MemoryAnchors(), MemoryState(), MemoryQueue())


def test_anchoring_the_head_and_every_thousandth_entry():
    svc = service(chain(2500))
    first = svc.anchor("schedule")
    assert first["seq"] == 2500 and first["created"] is True and first["trigger"] == "schedule"
    assert sorted(svc.anchors.objects) == [1000, 2000, 2500]
    assert svc.anchors.objects[1000]["hash"] == svc.chain.at(1000)["hash"]
    assert svc.anchors.objects[1000]["trigger"] == "interval"
    again = svc.anchor("schedule")
    assert again["created"] is False and again["seq"] == 2500  # the head did not move
    assert service([]).anchor("schedule") is None
    with pytest.raises(Conflict):
        service([]).anchor_on_demand(ADMIN)
    with pytest.raises(Forbidden):
        svc.anchor_on_demand(DEPT)
    svc.chain = MemoryChain(chain(2400))  # the newest entries deleted: anchoring would hide it
    with pytest.raises(Conflict, match="newest entries were deleted"):
        svc.anchor("schedule")
    assert sorted(svc.anchors.objects) == [1000, 2000, 2500]


def test_the_latest_anchor_survives_a_wrong_hint():
    svc = service(chain(40))
    svc.chain.entries = {s: e for s, e in svc.chain.entries.items() if s <= 20}
    svc.anchor("admin")
    svc.chain = MemoryChain(chain(40))
    svc.anchor("admin")
    svc.state.put({"id": "anchors-latest", "seq": 999})  # forged: no anchor there
    assert svc.latest_anchor()["seq"] == 40
    svc.state.put({"id": "anchors-latest", "seq": 1})  # too low: listing from it still finds the newest
    assert svc.latest_anchor()["seq"] == 40


def test_incremental_verify_pages_and_continues_from_its_checkpoint(monkeypatch):
    monkeypatch.setattr(anchors_module, "VERIFY_PAGE", 10)
    entries = chain(25)
    svc = service(entries)
    svc.anchor("admin")
    steps = []
    while True:
        step = svc.verify()
        steps.append(step)
        if step["complete"]:
            break
    assert [s["verified_to_seq"] for s in steps] == [10, 20, 25]
    assert all(s["ok"] for s in steps) and steps[-1]["head"] == entries[-1]["hash"]
    assert steps[1]["from_seq"] == 11 and steps[-1]["anchors_checked"] == 1
    idle = svc.verify()
    assert idle["ok"] and idle["checked"] == 0 and idle["entries"] == 25 and idle["complete"]


def test_incremental_verify_detects_truncation_and_rewrites_at_once(monkeypatch):
    monkeypatch.setattr(anchors_module, "VERIFY_PAGE", 10)
    entries = chain(25)
    svc = service(entries)
    svc.anchor("admin")
    # Nothing verified yet, and only the first page would be walked: the newest anchor is checked anyway.
    svc.chain = MemoryChain(entries[:22])
    cut = svc.verify()
    assert cut["ok"] is False and cut["broken_at"] == 23 and "deleted" in cut["reason"]
    svc.chain = MemoryChain(rewrite_from(entries, 3))
    rewritten = svc.verify()
    assert rewritten["ok"] is False and rewritten["broken_at"] == 25 and rewritten["expected"] == entries[24]["hash"]
    # the checkpoint is protected too: past it, a deleted tail below the anchors is still caught
    svc.chain = MemoryChain(entries)
    while not svc.verify()["complete"]:
        pass
    svc.anchors.objects.clear()
    svc.state.forget("anchors-latest")
    svc.chain = MemoryChain(entries[:20])
    assert svc.verify()["broken_at"] == 21


def test_full_reverification_runs_in_slices_and_records_its_verdict():
    entries = chain(25)
    svc = service(entries)
    svc.anchor("admin")
    with pytest.raises(Forbidden):
        svc.request_full(DEPT)
    job = svc.request_full(ADMIN)
    assert job["status"] == "queued" and svc.jobs.sent == [job["id"]]
    for _ in range(10):
        outcome = svc.run_slice(svc.jobs.sent.pop(0), slice_size=10)
        if not svc.jobs.sent:
            break
    done = svc.job(job["id"])
    assert done["status"] == "done" and done["ok"] is True and done["entries"] == 25 and done["anchors_checked"] == 1
    assert outcome["verified_to_seq"] == 25 and "position_hash" not in done
    # an edit long before the checkpoint, invisible to the incremental step, is found by the full job
    forged = copy.deepcopy(entries)
    forged[4]["details"]["rows"] = 1
    svc.chain = MemoryChain(forged)
    second = svc.request_full(ADMIN)
    svc.run_slice(svc.jobs.sent.pop(0), slice_size=100)
    verdict = svc.job(second["id"])
    assert verdict["ok"] is False and verdict["broken_at"] == 5 and verdict["status"] == "done"


def test_export_is_canonical_json_lines_within_bounds():
    entries = chain(30)
    svc = service(entries)
    text, headers = svc.export(ADMIN, {"from_seq": "11", "to_seq": "20"})
    lines = text.splitlines()
    assert len(lines) == 10 and lines[0] == canonical(entries[10]) and headers["X-Next-From-Seq"] == "21"
    assert headers["X-Chain-Head-Seq"] == "30"
    last, headers = svc.export(ADMIN, {"from_seq": "21"})
    assert len(last.splitlines()) == 10 and "X-Next-From-Seq" not in headers
    with pytest.raises(Forbidden):
        svc.export(DEPT, {})
    for params, field in (
        ({"from_seq": "0"}, "from_seq"),
        ({"from_seq": "x"}, "from_seq"),
        ({"to_seq": "-1"}, "to_seq"),
        ({"from_seq": "5", "to_seq": "4"}, "to_seq"),
        ({"from_seq": "1", "to_seq": "1001"}, "to_seq"),
        ({"from_seq": "1e3"}, "from_seq"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            svc.export(ADMIN, params)
        assert caught.value.errors[0]["field"] == field


# -- the offline verifier -------------------------------------------------------------------
def write(tmp_path, entries, anchors):
    export = tmp_path / "export.jsonl"
    export.write_text("".join(canonical(e) + "\n" for e in entries), encoding="utf-8")
    anchor_file = tmp_path / "anchors.json"
    anchor_file.write_text(json.dumps({"items": anchors, "next_cursor": None}), encoding="utf-8")
    return export, anchor_file


def test_the_offline_verifier_accepts_a_good_export(tmp_path, capsys):
    entries = chain(30)
    export, anchor_file = write(tmp_path, entries, [anchor_of(entries, 10), anchor_of(entries, 30)])
    assert main([str(export), str(anchor_file)]) == 0
    assert "OK: entries 1..30 verified from genesis; 2 anchors match" in capsys.readouterr().out
    # a slice from the middle is checked from its first entry's prev_hash
    assert check(entries[5:20], [anchor_of(entries, 10), anchor_of(entries, 30)], partial=True)["ok"] is True
    assert check(entries[5:20], [anchor_of(entries, 10), anchor_of(entries, 30)])["ok"] is False


def test_the_offline_verifier_rejects_tampered_exports(tmp_path, capsys):
    entries = chain(30)
    anchors = [anchor_of(entries, 10), anchor_of(entries, 25)]
    edited = copy.deepcopy(entries)
    edited[7]["details"]["rows"] = 1
    assert check(edited, anchors)["broken_at"] == 8
    assert check(rewrite_from(entries, 12), anchors)["broken_at"] == 25
    assert check(entries[:20], anchors)["broken_at"] == 21  # cut short of the anchor at 25
    export, anchor_file = write(tmp_path, rewrite_from(entries, 12), anchors)
    assert main([str(export), str(anchor_file), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["broken_at"] == 25
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    assert main([str(tmp_path / "bad.jsonl"), str(anchor_file)]) == 2


def test_the_offline_verifier_needs_nothing_but_the_standard_library(tmp_path):
    entries = chain(12)
    export, anchor_file = write(tmp_path, entries, [anchor_of(entries, 12)])
    run = subprocess.run(
        [sys.executable, "-S", "-m", "citybrain.exchange.verify_export", str(export), str(anchor_file)],
        cwd=ROOT / "layers",
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "layers")},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "OK: entries 1..12" in run.stdout
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import pydantic"],
        capture_output=True,
        env={"PYTHONPATH": str(ROOT / "layers")},
        check=False,
    )
    assert probe.returncode != 0  # -S really leaves the site-packages (pydantic, boto3) out


def test_the_chain_is_anchored_every_five_minutes():
    from chalice.app import ScheduledEventConfig

    from app import app
    from functions.audit import ANCHOR_RATE

    assert ANCHOR_RATE.to_string() == "rate(5 minutes)"
    schedules = {s.name: s for s in app.event_sources if isinstance(s, ScheduledEventConfig)}
    assert schedules["anchor_audit_chain"].schedule_expression is ANCHOR_RATE

"""The audit chain anchored outside its table, and verified against the anchors.

An anchor is the chain's head (seq, hash) written where the table's writers cannot
change it: an object under S3 Object Lock in compliance mode. It is taken

- every 5 minutes by the `anchor_audit_chain` schedule, when the head has moved;
- for every 1,000th entry (seq 1000, 2000, …) reached since the last anchor, by the
  same run, so consecutive anchors are never more than 1,000 entries apart (at most
  `MAX_MARKS_PER_RUN` such marks per run: the newest ones);
- on demand by the data bureau (`POST /v1/audit/anchors`).

Verify checks the chain against them: the entry at an anchor's seq must carry the
anchored hash, and the chain must reach the newest anchor. So deleting the newest
entries, or rewriting the tail consistently (recomputing every hash from some entry
on), is detected down to the last anchor; what was appended after it is protected
by the hash links only.

`GET /v1/audit/verify` is incremental and bounded: it continues from a checkpoint
(the seq and hash verified last time), walks at most `VERIFY_PAGE` entries, and says
`complete: false` when there is more (the next call continues). Each call also checks,
whatever the page, that the checkpoint's entry still holds its hash and that the
chain still matches its newest anchor. A full re-verification from genesis is a job
(`POST /v1/audit/verifications`), a slice of `JOB_SLICE` entries per queue message.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, Protocol

from citybrain.core import paging, timeutil
from citybrain.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from citybrain.departments.models import Principal
from citybrain.exchange.chain import GENESIS, canonical, entry_hash, verify

MARK_EVERY = 1000  # entries: every 1,000th entry is anchored
MAX_MARKS_PER_RUN = 100
VERIFY_PAGE = 2000  # entries per GET /v1/audit/verify: well inside API Gateway's 29 s
JOB_SLICE = 100_000  # entries per message of a full re-verification
EXPORT_MAX = 1000  # entries per GET /v1/audit/export
READ_PAGE = 1000
CHECKPOINT = "checkpoint"
LATEST = "anchors-latest"
ANCHOR_CURSOR = {"after": int}


class ChainReader(Protocol):
    def head(self) -> dict[str, Any] | None: ...
    def entries_after(self, after: int, limit: int) -> list[dict[str, Any]]: ...
    def at(self, seq: int) -> dict[str, Any] | None: ...


class AnchorStore(Protocol):
    def put_new(self, anchor: dict[str, Any]) -> bool: ...
    def get(self, seq: int) -> dict[str, Any] | None: ...
    def seqs_after(self, after: int, limit: int) -> list[int]: ...
    def last_seq(self, from_seq: int = 0) -> int | None: ...
    def anchors_after(self, after: int, upto: int | None = None) -> Iterator[dict[str, Any]]: ...


class VerificationStore(Protocol):
    def get(self, item_id: str) -> dict[str, Any] | None: ...
    def put(self, item: dict[str, Any]) -> None: ...
    def create(self, item: dict[str, Any]) -> bool: ...
    def forget(self, item_id: str) -> None: ...


class JobQueue(Protocol):
    def send(self, job_id: str) -> None: ...


def _public(anchor: dict[str, Any]) -> dict[str, Any]:
    return {k: anchor[k] for k in ("seq", "hash", "anchored_at", "entries", "trigger") if k in anchor}


class ChainAnchors:
    def __init__(self, chain: ChainReader, anchors: AnchorStore, state: VerificationStore, jobs: JobQueue):
        self.chain = chain
        self.anchors = anchors
        self.state = state
        self.jobs = jobs

    # -- anchoring ------------------------------------------------------------------------
    def latest_anchor(self) -> dict[str, Any] | None:
        """The newest anchor. The table's hint says where to start listing; if the hint is
        wrong (no anchor there), the whole bucket is listed: the bucket is the truth."""
        hint = self.state.get(LATEST)
        hinted = int(hint["seq"]) if hint else 0
        last = self.anchors.last_seq(hinted) if hinted and self.anchors.seqs_after(hinted - 1, 1) == [hinted] else None
        if last is None:
            last = self.anchors.last_seq(0)
        return self.anchors.get(last) if last is not None else None

    def anchor(self, trigger: str) -> dict[str, Any] | None:
        """Anchor the head (and the 1,000th entries since the last anchor). Returns the head's
        anchor with `created` (false when the head was anchored already), None for an empty chain."""
        head = self.chain.head()
        if head is None:
            return None
        latest = self.latest_anchor()
        if latest is not None and latest["seq"] > head["seq"]:
            # Entries were deleted: anchoring the shorter chain would hide it. The scheduled run fails
            # (its errors alarm goes off) and verify names the missing entries.
            raise Conflict(
                f"the chain ends at entry {head['seq']} but entry {latest['seq']} was anchored: "
                "the newest entries were deleted; nothing is anchored until that is resolved"
            )
        if latest is not None and latest["seq"] == head["seq"]:
            return {**_public(latest), "created": False}  # the head did not move
        since = latest["seq"] if latest else 0
        marks = [s for s in range((since // MARK_EVERY + 1) * MARK_EVERY, head["seq"], MARK_EVERY)]
        for seq in marks[-MAX_MARKS_PER_RUN:]:
            entry = self.chain.at(seq)
            if entry is not None:
                self._write(entry, "interval")
        created = self._write(head, trigger)
        return {**_public(created), "created": True}

    def _write(self, entry: dict[str, Any], trigger: str) -> dict[str, Any]:
        now = timeutil.now_ms()
        anchor = {
            "seq": entry["seq"],
            "hash": entry["hash"],
            "entries": entry["seq"],
            "anchored_at": timeutil.local_iso(now),
            "trigger": trigger,
        }
        if not self.anchors.put_new(anchor):
            anchor = self.anchors.get(entry["seq"]) or anchor  # anchored a moment ago by another run
        hint = self.state.get(LATEST)
        if not hint or int(hint["seq"]) < anchor["seq"]:
            self.state.put({"id": LATEST, "seq": anchor["seq"]})
        return anchor

    def anchor_on_demand(self, principal: Principal) -> dict[str, Any]:
        if not principal.is_admin:
            raise Forbidden("only the data bureau anchors the audit chain on demand")
        anchored = self.anchor("admin")
        if anchored is None:
            raise Conflict("the audit chain is empty: there is nothing to anchor")
        return anchored

    def list_anchors(self, params: dict[str, str]) -> dict[str, Any]:
        """Oldest first; `after` a seq, or a cursor."""
        limit = paging.parse_limit(params.get("limit"), 100, 1000)
        cursor = paging.decode_cursor(params.get("cursor"), ANCHOR_CURSOR)
        after = cursor["after"] if cursor else _seq_param(params, "after_seq", 0, minimum=0)
        if after < 0:
            raise paging.bad_cursor()
        seqs = self.anchors.seqs_after(after, limit + 1)
        page = seqs[:limit]
        items = [_public(a) for a in (self.anchors.get(s) for s in page) if a is not None]
        more = len(seqs) > limit
        return {"items": items, "next_cursor": paging.encode_cursor({"after": page[-1]}) if more else None}

    # -- verification ---------------------------------------------------------------------
    def verify(self) -> dict[str, Any]:
        """One bounded step of the incremental verification (see the module's docstring)."""
        checkpoint = self.state.get(CHECKPOINT) or {"seq": 0, "hash": GENESIS}
        start_seq, start_hash = int(checkpoint["seq"]), checkpoint["hash"]
        head = self.chain.head()
        head_seq = head["seq"] if head else 0
        latest = self.latest_anchor()
        context: dict[str, Any] = {"head_seq": head_seq, "from_seq": start_seq + 1}
        if latest is not None:
            context["last_anchor"] = _public(latest)

        def broken(seq: int, reason: str, **detail: Any) -> dict[str, Any]:
            return {
                "ok": False,
                "complete": True,
                "entries": start_seq,
                "checked": 0,
                "verified_to_seq": start_seq,
                "anchors_checked": 0,
                "broken_at": seq,
                "reason": reason,
                **detail,
                **context,
            }

        if start_seq > head_seq:
            return broken(
                head_seq + 1,
                f"entries up to {start_seq} were verified before, but the chain now ends at {head_seq}: "
                "the newest entries were deleted",
                expected=start_hash,
            )
        if latest is not None:
            if latest["seq"] > head_seq:
                return broken(
                    head_seq + 1,
                    f"the chain ends at entry {head_seq} but entry {latest['seq']} was anchored: "
                    "the newest entries were deleted",
                    expected=latest["hash"],
                )
            problem = self._differs(latest["seq"], latest["hash"], "anchor")
            if problem:
                return broken(latest["seq"], problem[0], expected=latest["hash"], found=problem[1])
        if start_seq:
            problem = self._differs(start_seq, start_hash, "checkpoint")
            if problem:
                return broken(start_seq, problem[0], expected=start_hash, found=problem[1])

        entries = self.chain.entries_after(start_seq, VERIFY_PAGE + 1)
        upto = entries[min(len(entries), VERIFY_PAGE) - 1]["seq"] if entries else start_seq
        anchors = self.anchors.anchors_after(start_seq, upto)
        result = verify(entries, anchors, start_seq=start_seq, start_hash=start_hash, limit=VERIFY_PAGE)
        result.setdefault("verified_to_seq", start_seq + result["entries"])
        result.setdefault("anchors_checked", 0)
        result.setdefault("complete", True)
        # `entries`: verified from genesis (as a walk of the whole chain says); `checked`: by this call
        result["checked"] = result["entries"]
        result["entries"] = result["verified_to_seq"]
        if result["ok"]:
            result["head"] = result.get("head") or (start_hash if start_seq else None)
            if result["verified_to_seq"] > start_seq:
                self.state.put(
                    {
                        "id": CHECKPOINT,
                        "seq": result["verified_to_seq"],
                        "hash": result["head"],
                        "at": timeutil.local_iso(timeutil.now_ms()),
                    }
                )
        return {**result, **context}

    def _differs(self, seq: int, wanted: str, what: str) -> tuple[str, str | None] | None:
        entry = self.chain.at(seq)
        if entry is None:
            return f"entry {seq} ({what}) is missing from the chain", None
        found = entry_hash(entry)
        if found != wanted or entry.get("hash") != found:
            return (
                f"entry {seq} no longer matches the {what}'s hash: the chain was edited or rewritten at or before it",
                found,
            )
        return None

    # -- full re-verification jobs --------------------------------------------------------
    def request_full(self, principal: Principal) -> dict[str, Any]:
        if not principal.is_admin:
            raise Forbidden("only the data bureau starts a full re-verification")
        now = timeutil.now_ms()
        job_id = f"ver_{now}_{secrets.token_hex(4)}"
        job: dict[str, Any] = {
            "id": job_id,
            "status": "queued",
            "requested_at": timeutil.local_iso(now),
            "requested_by": principal.department_id,
            "entries": 0,
            "verified_to_seq": 0,
            "anchors_checked": 0,
        }
        self.state.create(job)
        try:
            self.jobs.send(job_id)
        except Exception:
            self.state.forget(job_id)  # an error answer changes nothing
            raise
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        job = self.state.get(job_id) if job_id.startswith("ver_") and len(job_id) <= 64 else None
        if job is None:
            raise NotFound(f"no verification {job_id}")
        return _job_view(job)

    def run_slice(self, job_id: str, slice_size: int = JOB_SLICE) -> dict[str, Any]:
        """One slice of a full re-verification; queues the next slice while there is more."""
        job = self.state.get(job_id)
        if job is None or job["status"] == "done":
            return {"id": job_id, "status": job["status"] if job else "unknown"}
        start_seq = int(job.get("verified_to_seq", 0))
        start_hash = job.get("position_hash") or GENESIS
        result = verify(
            self._walk(start_seq),
            self.anchors.anchors_after(start_seq),
            start_seq=start_seq,
            start_hash=start_hash,
            limit=slice_size,
        )
        verified_to = result.get("verified_to_seq", start_seq + result["entries"])
        job.update(
            entries=int(job.get("entries", 0)) + result["entries"],
            anchors_checked=int(job.get("anchors_checked", 0)) + result.get("anchors_checked", 0),
            verified_to_seq=verified_to,
        )
        if result["ok"]:
            job["position_hash"] = result["head"] or start_hash
        if not result["ok"] or result.get("complete", True):
            now = timeutil.now_ms()
            job.update(status="done", ok=result["ok"], finished_at=timeutil.local_iso(now))
            if result["ok"]:
                job["head"] = result["head"]
            for name in ("broken_at", "reason", "expected", "found"):
                if result.get(name) is not None:
                    job[name] = result[name]
            self.state.put(job)
            return _job_view(job)
        job["status"] = "running"
        self.state.put(job)
        self.jobs.send(job_id)
        return _job_view(job)

    def _walk(self, after: int) -> Iterator[dict[str, Any]]:
        while True:
            page = self.chain.entries_after(after, READ_PAGE)
            yield from page
            if len(page) < READ_PAGE:
                return
            after = page[-1]["seq"]

    # -- export ---------------------------------------------------------------------------
    def export(self, principal: Principal, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        """Entries from_seq..to_seq (at most EXPORT_MAX) as JSON Lines of canonical JSON,
        exactly the text each hash covers plus the hash; and headers saying where the
        next page starts."""
        if not principal.is_admin:
            raise Forbidden("only the data bureau exports the audit chain")
        start = _seq_param(params, "from_seq", 1)
        end = _seq_param(params, "to_seq", start + EXPORT_MAX - 1)
        if end < start:
            raise ValidationFailed("to_seq is before from_seq", [{"field": "to_seq", "message": "must be >= from_seq"}])
        if end - start + 1 > EXPORT_MAX:
            raise ValidationFailed(
                "too many entries",
                [{"field": "to_seq", "message": f"at most {EXPORT_MAX} entries per call (to_seq - from_seq < 1000)"}],
            )
        head = self.chain.head()
        head_seq = head["seq"] if head else 0
        entries = [e for e in self.chain.entries_after(start - 1, end - start + 1) if e["seq"] <= end]
        text = "".join(canonical(e) + "\n" for e in entries)
        headers = {"X-Chain-Head-Seq": str(head_seq)}
        if min(end, head_seq) < head_seq:
            headers["X-Next-From-Seq"] = str(end + 1)
        return text, headers


def _seq_param(params: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    if not (value.isascii() and value.isdigit()) or not minimum <= int(value) < 2**53:
        raise ValidationFailed(f"invalid {name}", [{"field": name, "message": f"an integer from {minimum}"}])
    return int(value)


def _job_view(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k != "position_hash"}

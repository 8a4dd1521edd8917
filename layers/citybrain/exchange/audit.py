"""The tamper-evident audit log of the exchange: one hash chain.

Entry n carries a sequence number, the time, who did what to which dataset
under which grant and purpose, the SHA-256 of the canonical request, and
`prev_hash` = the hash of entry n-1; its own `hash` is the SHA-256 of all of
that. Editing an entry breaks its own hash; removing one leaves a gap in the
sequence; re-hashing an edited entry breaks the next entry's `prev_hash`.

Appending is optimistic: write entry head+1 on condition that the sequence
number is still free; whoever loses the race re-reads the head and tries
again, so concurrent appends never fork the chain. The head is remembered
between appends, which makes the usual append a single write.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from citybrain.core import timeutil
from citybrain.core.retry import pause
from citybrain.exchange.schema import digest

GENESIS = "0" * 64
MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class RequestFacts:
    """The request that caused an entry, as the API received it."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def sha256(self) -> str:
        return digest(
            {"method": self.method.upper(), "path": self.path, "query": dict(self.query or {}), "body": self.body}
        )


def _pruned(value: Any) -> Any:
    """Absent and None are the same to DynamoDB, so they must be to the hash."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def entry_hash(entry: dict[str, Any]) -> str:
    return digest(_pruned({k: v for k, v in entry.items() if k != "hash"}))


def verify(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Walk the chain in sequence order: {"ok": true, "entries": N} or the first broken link."""
    expected_seq, previous = 1, GENESIS
    checked = 0
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            reason = (
                f"entry {expected_seq} is missing (next present is {seq})"
                if isinstance(seq, int) and seq > expected_seq
                else f"sequence out of order: {seq} after {expected_seq - 1}"
            )
            return _broken(checked, expected_seq, reason)
        if entry.get("prev_hash") != previous:
            return _broken(
                checked,
                seq,
                "prev_hash does not match the hash of the entry before it",
                expected=previous,
                found=entry.get("prev_hash"),
            )
        recomputed = entry_hash(entry)
        if entry.get("hash") != recomputed:
            return _broken(
                checked,
                seq,
                "the entry's content does not match its hash",
                expected=recomputed,
                found=entry.get("hash"),
            )
        previous, expected_seq = entry["hash"], seq + 1
        checked += 1
    return {"ok": True, "entries": checked, "head": previous if checked else None}


def _broken(checked: int, seq: int, reason: str, **detail: Any) -> dict[str, Any]:
    return {"ok": False, "entries": checked, "broken_at": seq, "reason": reason, **detail}


class AuditStore(Protocol):
    def head(self) -> dict[str, Any] | None: ...
    def put_new(self, entry: dict[str, Any]) -> bool: ...
    def walk(self) -> Iterator[dict[str, Any]]: ...
    # The audit views (citybrain.exchange.service): newest first, seq < below, from the whole
    # chain or one index partition (attribute, value); -> entries, the seq the next page is below.
    def newest(
        self,
        partition: tuple[str, str] | None,
        below: int | None,
        want: int,
        equals: dict[str, str],
        since_ms: int | None,
        until_ms: int | None,
    ) -> tuple[list[dict[str, Any]], int | None]: ...


class AuditLog:
    def __init__(self, store: AuditStore):
        self.store = store
        self._head: tuple[int, str] | None = None  # (seq, hash) of the last entry this process saw

    def append(
        self,
        *,
        actor: str,
        action: str,
        request: RequestFacts | None = None,
        dataset: str | None = None,
        dataset_owner: str | None = None,
        grant: str | None = None,
        purpose: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        request_sha = request.sha256() if request else None
        for attempt in range(MAX_ATTEMPTS):
            if self._head is None:
                head = self.store.head()
                self._head = (head["seq"], head["hash"]) if head else (0, GENESIS)
            seq, previous = self._head
            now = timeutil.now_ms()
            entry = _pruned(
                {
                    "seq": seq + 1,
                    "at": timeutil.local_iso(now),
                    "at_ms": now,
                    "actor": actor,
                    "action": action,
                    "dataset": dataset,
                    "dataset_owner": dataset_owner,
                    "grant": grant,
                    "purpose": purpose,
                    "request_sha256": request_sha,
                    "details": details or None,
                    "prev_hash": previous,
                }
            )
            entry["hash"] = entry_hash(entry)
            if self.store.put_new(entry):
                self._head = (entry["seq"], entry["hash"])
                return entry
            self._head = None  # someone appended first: read the head again
            pause(attempt, 0.005, 0.05)
        raise RuntimeError(f"audit append lost the race {MAX_ATTEMPTS} times in a row")

    def verify(self) -> dict[str, Any]:
        return verify(self.store.walk())

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

An audited action's state change is not written apart from its entry: the
action hands its writes to `append`, and they commit in the entry's own
transaction, so a failure anywhere leaves either both or neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from citybrain.core import timeutil
from citybrain.core.retry import pause

# The hash and the walk are stdlib-only (citybrain.exchange.chain), shared with the offline verifier.
from citybrain.exchange.chain import GENESIS, digest, entry_hash, verify
from citybrain.exchange.chain import pruned as _pruned

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


# One write of an audited change, as the store that owns the item builds it (a
# TransactWriteItems action): the audit store commits it together with the entry.
Write = dict[str, Any]


class AuditTrail(Protocol):
    """What another feature's service needs of the district's one audit chain (AuditLog):
    an entry appended with the change it records, committed together; ChangeRefused when
    the change's own condition fails."""

    def append(
        self, *, actor: str, action: str, details: dict[str, Any] | None = None, changes: Sequence[Write] = ()
    ) -> dict[str, Any]: ...


class ChangeRefused(Exception):
    """The audited change's own condition failed (the state moved meanwhile, the item
    already exists…): neither the change nor its entry was written."""

    def __init__(self, index: int):
        super().__init__(f"change {index} of the audited action was refused by its condition")
        self.index = index  # which of the `changes` passed to append


class AuditStore(Protocol):
    def head(self) -> dict[str, Any] | None: ...
    # Entry seq and the writes in one transaction: True once committed, False if seq was taken
    # (or the transaction collided); raises ChangeRefused when a write's own condition failed.
    def put_new(self, entry: dict[str, Any], writes: Sequence[Write] = ()) -> bool: ...
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
    def __init__(self, store: AuditStore, derived: Callable[[dict[str, Any]], list[Write]] | None = None):
        self.store = store
        # Writes that follow from an entry alone (the exchange statistics): committed with it.
        self.derived = derived or (lambda entry: [])
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
        changes: Sequence[Write] = (),
    ) -> dict[str, Any]:
        """Append the entry of an action and commit the action's `changes` with it, all or
        nothing: no change is ever visible without its entry, no entry without its change.
        Raises ChangeRefused (nothing written) when a change's own condition fails."""
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
            if self.store.put_new(entry, [*changes, *self.derived(entry)]):
                self._head = (entry["seq"], entry["hash"])
                return entry
            self._head = None  # someone appended first: read the head again
            pause(attempt, 0.005, 0.05)
        raise RuntimeError(f"audit append lost the race {MAX_ATTEMPTS} times in a row")

    def verify(self) -> dict[str, Any]:
        return verify(self.store.walk())

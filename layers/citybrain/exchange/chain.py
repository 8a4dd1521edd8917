"""The audit chain's hash and its checks, with nothing but the Python standard library.

The service (citybrain.exchange.audit, .anchors) and the offline verifier an auditor
runs on an export (citybrain.exchange.verify_export) use these same functions, so
there is one hash and one way to check a chain:

- `canonical` / `digest`: the canonical JSON (sorted keys, no spaces, UTF-8 as is)
  and its SHA-256, the one text every hash is taken over;
- `entry_hash`: an entry's hash, over all its fields but `hash` (absent = None);
- `verify`: walk entries in sequence order, from genesis or from a verified point,
  checking each link and, on the way, every anchor (seq, hash) kept outside the table.

Importing this module must never pull in anything outside the standard library.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the one text hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def pruned(value: Any) -> Any:
    """Absent and None are the same to DynamoDB, so they must be to the hash."""
    if isinstance(value, dict):
        return {k: pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def entry_hash(entry: dict[str, Any]) -> str:
    return digest(pruned({k: v for k, v in entry.items() if k != "hash"}))


def verify(
    entries: Iterable[dict[str, Any]],
    anchors: Iterable[dict[str, Any]] = (),
    *,
    start_seq: int = 0,
    start_hash: str = GENESIS,
    limit: int | None = None,
) -> dict[str, Any]:
    """Walk the chain in sequence order from entry `start_seq + 1` (whose prev_hash must
    be `start_hash`): {"ok": true, "entries": N, "head"} or the first broken link.

    `anchors` ({seq, hash}, ascending; those at or below `start_seq` are skipped) are
    checked on the way: the entry at an anchor's seq must carry the anchored hash. When
    the entries run out before an anchor's seq, the newest entries were deleted.
    With `limit`, at most that many entries are read; `complete` says whether the walk
    reached the end of `entries` (only then are anchors beyond the last entry judged).
    """
    expected_seq, previous = start_seq + 1, start_hash
    checked = anchors_checked = 0
    pending = iter(a for a in anchors if int(a["seq"]) > start_seq)
    anchor = next(pending, None)

    def broken(seq: int, reason: str, **detail: Any) -> dict[str, Any]:
        return {
            "ok": False,
            "entries": checked,
            "broken_at": seq,
            "reason": reason,
            "verified_to_seq": expected_seq - 1,
            "anchors_checked": anchors_checked,
            "complete": True,
            **detail,
        }

    complete = True
    for entry in entries:
        if limit is not None and checked >= limit:
            complete = False
            break
        seq = entry.get("seq")
        if seq != expected_seq:
            reason = (
                f"entry {expected_seq} is missing (next present is {seq})"
                if isinstance(seq, int) and seq > expected_seq
                else f"sequence out of order: {seq} after {expected_seq - 1}"
            )
            return broken(expected_seq, reason)
        if entry.get("prev_hash") != previous:
            return broken(
                seq,
                "prev_hash does not match the hash of the entry before it",
                expected=previous,
                found=entry.get("prev_hash"),
            )
        recomputed = entry_hash(entry)
        if entry.get("hash") != recomputed:
            return broken(
                seq, "the entry's content does not match its hash", expected=recomputed, found=entry.get("hash")
            )
        if anchor is not None and int(anchor["seq"]) == seq:
            if anchor.get("hash") != recomputed:
                return broken(
                    seq,
                    f"the entry at anchor {seq} differs from the anchored hash: the chain was rewritten from here on "
                    "(or before)",
                    expected=anchor.get("hash"),
                    found=recomputed,
                )
            anchors_checked += 1
            anchor = next(pending, None)
        previous, expected_seq = recomputed, seq + 1
        checked += 1
    if complete and anchor is not None:
        last = expected_seq - 1
        return broken(
            expected_seq,
            f"the chain ends at entry {last} but entry {anchor['seq']} was anchored: the newest entries were deleted",
            expected=anchor.get("hash"),
        )
    result: dict[str, Any] = {"ok": True, "entries": checked, "head": previous if expected_seq > 1 else None}
    if limit is not None or start_seq or anchors_checked:
        result.update(verified_to_seq=expected_seq - 1, anchors_checked=anchors_checked, complete=complete)
    return result

"""The one pause between attempts that lost a race or were left unprocessed.

botocore already retries throttling and transient errors of each request
(`standard` mode, 5 attempts: core.aws). What this adds is the pause for what
botocore cannot retry by itself: an optimistic write whose condition failed
because another writer got there first (re-read, decide again, write again), a
transaction cancelled for a conflict, and the items a batch call answered as
unprocessed. Jittered and growing, so concurrent writers spread out."""

from __future__ import annotations

import random
import time


def pause(attempt: int, base: float = 0.02, cap: float = 1.0) -> None:
    """Sleep before attempt `attempt + 1`: a random share of base * 2**attempt, at most `cap` seconds."""
    time.sleep(random.uniform(base / 2, min(base * 2**attempt, cap)))

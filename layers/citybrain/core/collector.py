"""The cyclic garbage collector, set for a function that allocates by the batch.

A readings batch makes hundreds of thousands of short-lived objects, nearly all
freed by reference counting the moment they are done with. With CPython's default
threshold (a collection every 700 net allocations) one batch of 10,000 readings
ran the collector 268 times, and its full passes walked every object the imports
had made (botocore's service models, pydantic's schemas): a quarter of the
function's CPU. Once per sandbox, after the first batch's imports, the objects
that exist are frozen (gc.freeze: the collector no longer walks them; they live as
long as the sandbox anyway) and a collection waits for 50,000 allocations, which
still collects the rare cycle within the batch that made it."""

from __future__ import annotations

import gc

THRESHOLD = 50_000  # net allocations between young collections (CPython's default: 700)

_settled = False


def settle() -> None:
    """Freeze what the imports made and raise the threshold, once per process."""
    global _settled
    if _settled:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(THRESHOLD, middle, old)
    _settled = True

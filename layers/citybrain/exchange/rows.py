"""Where a record lives: its row key, its shard, and the position a pull resumes from.

The row key is an HMAC of the primary key under the dataset's secret salt, so
cursors handed to consumers (which carry a row key) reveal nothing even when
the primary key is an identity card number, and an upsert is a plain Put on the
same row. Records spread over the dataset's shards by their row key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from citybrain.core import paging

ROW = re.compile(r"^[0-9a-f]{32}$")


def row_key(salt: str, key: str) -> str:
    return hmac.new(bytes.fromhex(salt), key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def shard_of(row: str, shards: int) -> int:
    return int(row[:4], 16) % shards


@dataclass(frozen=True)
class Position:
    """Where a pull resumes: the shard, and the last row read in it (None: from its start)."""

    shard: int = 0
    row: str | None = None

    def cursor(self) -> dict[str, Any]:
        return {"s": self.shard, **({"r": self.row} if self.row else {})}

    @classmethod
    def parse(cls, cursor: dict | None, shards: int) -> Position:
        if not cursor:
            return cls()
        shard, row = cursor.get("s"), cursor.get("r")
        if (
            not isinstance(shard, int)
            or isinstance(shard, bool)
            or not 0 <= shard < shards
            or (row is not None and not (isinstance(row, str) and ROW.match(row)))
            or set(cursor) - {"s", "r"}
        ):
            raise paging.bad_cursor()
        return cls(shard, row)


@dataclass(frozen=True)
class Committed:
    """Which versions of a dataset are visible: those up to its current version, except
    the ones a load took and never committed. A load stages its rows under its own
    version number; they become visible all at once when the dataset's current version
    moves to it, in the transaction that writes the load's audit entry."""

    current: int = 0
    abandoned: frozenset[int] = frozenset()
    own: int | None = None  # a load sees what it staged itself

    @classmethod
    def of(cls, dataset: dict[str, Any], own: int | None = None) -> Committed:
        # A dataset whose loads predate staging has no current version: its last one is.
        current = dataset.get("current_version", (dataset.get("last_version") or {}).get("version", 0))
        return cls(int(current), frozenset(dataset.get("abandoned", ())), own)

    def includes(self, version: int) -> bool:
        return version == self.own or (version <= self.current and version not in self.abandoned)


@dataclass(frozen=True)
class StoredRow:
    """A row as a load finds it: the committed content (data, checksum, version) it keeps
    until the load commits, and the checksum the load compares with (its own staged one)."""

    committed: tuple[dict[str, Any], str, int] | None
    checksum: str

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

"""Check an export of the audit chain against its anchors, offline, with nothing but Python.

    python -m citybrain.exchange.verify_export export.jsonl anchors.json [--json]

(from the package's folder, e.g. `PYTHONPATH=layers`; the standard library is all it
needs: it runs under `python -S`). `export.jsonl` is what GET /v1/audit/export
returns (pages concatenated in order: `cat page-*.jsonl`), `anchors.json` what GET
/v1/audit/anchors returns (one page `{"items": [...]}`, a JSON array of anchors, or
JSON Lines of anchors; or the anchor objects as read from the bucket).

It recomputes every entry's hash with the chain's own hash function
(citybrain.exchange.chain), checks every link, and checks that each anchor within the
export's range matches its entry. An export that starts at entry 1 is checked from
genesis; one that starts later is checked from its first entry's prev_hash. An anchor
beyond the export's last entry means the export (or the chain) stops short of what was
anchored: a failure unless `--partial` says the export is a deliberate slice.

Exit status: 0 when everything checks, 1 when something does not, 2 for unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from citybrain.exchange.chain import GENESIS, verify


def read_export(path: Path) -> list[dict[str, Any]]:
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc})") from None
        if not isinstance(entry, dict):
            raise ValueError(f"{path}:{number}: not an entry object")
        entries.append(entry)
    return entries


def read_anchors(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        document: Any = json.loads(text)
    except ValueError:
        document = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(document, dict):
        document = document.get("items", [document])
    if not isinstance(document, list) or not all(
        isinstance(a, dict) and isinstance(a.get("seq"), int) and isinstance(a.get("hash"), str) for a in document
    ):
        raise ValueError(f"{path}: expected anchors ({{seq, hash}} objects)")
    return sorted({a["seq"]: a for a in document}.values(), key=lambda a: a["seq"])


def check(entries: list[dict[str, Any]], anchors: list[dict[str, Any]], partial: bool = False) -> dict[str, Any]:
    if not entries:
        return {"ok": not anchors or partial, "entries": 0, "reason": "the export holds no entries"}
    first = entries[0]
    start_seq = first.get("seq")
    if not isinstance(start_seq, int) or start_seq < 1:
        return {"ok": False, "entries": 0, "broken_at": start_seq, "reason": "the first entry has no valid seq"}
    start_seq -= 1
    start_hash = GENESIS if start_seq == 0 else first.get("prev_hash")
    last = entries[-1].get("seq")
    if not isinstance(last, int):
        return {"ok": False, "entries": 0, "broken_at": None, "reason": "the last entry has no valid seq"}
    covered = [a for a in anchors if start_seq < a["seq"] <= last]
    beyond = [a for a in anchors if a["seq"] > last]
    result = verify(entries, covered, start_seq=start_seq, start_hash=str(start_hash), limit=None)
    result = {
        **result,
        "from_seq": start_seq + 1,
        "to_seq": last,
        "from_genesis": start_seq == 0,
        "anchors_in_range": len(covered),
        "anchors_before_export": sum(1 for a in anchors if a["seq"] <= start_seq),
        "anchors_beyond_export": len(beyond),
    }
    if result["ok"] and beyond and not partial:
        result.update(
            ok=False,
            broken_at=last + 1,
            reason=f"entry {beyond[0]['seq']} was anchored but the export ends at entry {last}: "
            "entries after it are missing (or export further and check again; --partial for a deliberate slice)",
            expected=beyond[0]["hash"],
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citybrain.exchange.verify_export", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("export", type=Path, help="JSON Lines from GET /v1/audit/export")
    parser.add_argument("anchors", type=Path, help="the anchors, from GET /v1/audit/anchors")
    parser.add_argument("--partial", action="store_true", help="the export is a slice: anchors past its end are fine")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        result = check(read_export(args.export), read_anchors(args.anchors), args.partial)
    except (OSError, ValueError) as exc:
        print(f"verify_export: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    elif result["ok"]:
        origin = "from genesis" if result.get("from_genesis") else f"from entry {result.get('from_seq')}'s prev_hash"
        print(
            f"OK: entries {result.get('from_seq')}..{result.get('to_seq')} verified {origin}; "
            f"{result.get('anchors_checked', result.get('anchors_in_range', 0))} anchors match"
        )
    else:
        print(f"BROKEN at entry {result.get('broken_at')}: {result.get('reason')}")
        for name in ("expected", "found"):
            if result.get(name):
                print(f"  {name}: {result[name]}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

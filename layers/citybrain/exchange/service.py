"""The exchange wired together: catalog, access, records, audit and statistics
over their stores; and the audit views each department may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from citybrain.core import paging
from citybrain.departments.models import Principal
from citybrain.exchange import dcat
from citybrain.exchange.access import Access
from citybrain.exchange.audit import AuditLog
from citybrain.exchange.catalog import SEARCH_CURSOR, Catalog
from citybrain.exchange.records import Records
from citybrain.exchange.stats import ExchangeStats


@dataclass
class Exchange:
    catalog: Catalog
    access: Access
    records: Records
    audit: AuditLog
    stats: ExchangeStats

    # -- audit views ---------------------------------------------------------------------
    def audit_entries(self, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
        """Newest first. The data bureau sees every entry; a department the entries it
        made and those on the datasets it owns."""
        limit = paging.parse_limit(params.get("limit"))
        cursor = paging.decode_cursor(params.get("cursor"), {"below": int})
        below = cursor["below"] if cursor else None
        if below is not None and below < 1:
            raise paging.bad_cursor()
        since = paging.parse_instant(params, "from")
        until = paging.parse_instant(params, "to")
        dataset, actor = params.get("dataset") or None, params.get("actor") or None
        store = self.audit.store  # the exchange's own audit store: the views read its indexes
        me = principal.department_id

        def page(partition, equals):
            return store.newest(partition, below, limit, equals, since, until)

        if principal.is_admin:
            if dataset:
                items, after = page(("dataset", dataset), {"actor": actor} if actor else {})
            elif actor:
                items, after = page(("actor", actor), {})
            else:
                items, after = page(None, {})
        elif dataset:
            owner = self.catalog.get(dataset)["owner"]
            if owner == me:
                items, after = page(("dataset", dataset), {"actor": actor} if actor else {})
            elif actor and actor != me:
                items, after = [], None
            else:
                items, after = page(("actor", me), {"dataset": dataset})
        elif actor:
            items, after = page(("actor", me), {}) if actor == me else page(("dataset_owner", me), {"actor": actor})
        else:
            items, after = _merge(page(("actor", me), {}), page(("dataset_owner", me), {}), limit)
        return {"items": items, "next_cursor": paging.encode_cursor({"below": after}) if after else None}

    def verify_audit(self) -> dict[str, Any]:
        return self.audit.verify()

    # -- DCAT ------------------------------------------------------------------------------
    def catalog_jsonld(
        self, principal: Principal | None, base: str, params: dict[str, str], publishers: dict[str, str]
    ) -> dict[str, Any]:
        """Anyone may harvest the public part of the catalog; a department key shows it whole."""
        limit = paging.parse_limit(params.get("limit"), default=100, maximum=500)
        filters = {} if principal else {"sensitivity": "public"}
        cursor = paging.decode_cursor(params.get("cursor"), SEARCH_CURSOR)
        result = self.catalog.search(None, filters, limit, cursor)
        this_page = f"{base}/v1/catalog.jsonld" + (f"?{urlencode(params)}" if params else "")
        next_page = None
        if result["next_cursor"]:
            next_page = f"{base}/v1/catalog.jsonld?" + urlencode(
                {**params, "cursor": paging.encode_cursor(result["next_cursor"])}
            )
        return dcat.catalog_document(result["items"], base, publishers, result["total"], this_page, next_page)


def _merge(
    first: tuple[list[dict], int | None], second: tuple[list[dict], int | None], limit: int
) -> tuple[list[dict], int | None]:
    """Two newest-first streams of entries -> one page, and where the next page starts.

    A stream that stopped early has only been read down to its cursor; entries
    below that are unknown, so the page ends there and the next one resumes from it."""
    merged = {e["seq"]: e for e in [*first[0], *second[0]]}
    floors = [after for _, after in (first, second) if after is not None]
    floor = max(floors) if floors else None
    known = sorted((e for seq, e in merged.items() if floor is None or seq >= floor), key=lambda e: -e["seq"])
    page = known[:limit]
    if len(known) > limit:
        return page, page[-1]["seq"]
    return page, floor

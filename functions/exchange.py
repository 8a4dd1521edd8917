"""Data exchange over HTTP: catalog, records, access requests, grants, audit, statistics."""

from __future__ import annotations

from chalice import Blueprint

from citybrain.core import paging
from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)


def _exchange():
    from citybrain.composition import exchange

    return exchange()


def _facts(body=None):
    """The request as the audit hashes it: method, the actual path, query, body."""
    from citybrain.exchange.audit import RequestFacts

    request = bp.current_request
    path = request.path
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return RequestFacts(request.method, path, query(request), body)


def _page(items, last):
    return {"items": items, "next_cursor": paging.encode_cursor(last)}


# -- catalog -------------------------------------------------------------------------
@route(bp, "/v1/datasets", methods=["POST"])
def publish_dataset():
    from citybrain.exchange.catalog import DatasetIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().catalog.publish(caller, DatasetIn.model_validate(body), _facts(body)), 201)


@route(bp, "/v1/datasets", methods=["GET"])
def search_datasets():
    principal(bp.current_request)
    params = query(bp.current_request)
    filters = {k: params[k] for k in ("domain", "owner", "keyword", "sensitivity") if params.get(k)}
    result = _exchange().catalog.search(
        params.get("q"),
        filters,
        paging.parse_limit(params.get("limit"), 20, 100),
        paging.decode_cursor(params.get("cursor")),
    )
    return respond({**result, "next_cursor": paging.encode_cursor(result["next_cursor"])})


@route(bp, "/v1/datasets/{dataset_id}", methods=["GET"])
def get_dataset(dataset_id):
    from citybrain.exchange.catalog import public_view

    principal(bp.current_request)
    return respond(public_view(_exchange().catalog.get(dataset_id)))


@route(bp, "/v1/datasets/{dataset_id}", methods=["PATCH"])
def update_dataset(dataset_id):
    from citybrain.exchange.catalog import DatasetPatch

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().catalog.update(caller, dataset_id, DatasetPatch.from_body(body), _facts(body)))


@route(bp, "/v1/datasets/{dataset_id}/versions", methods=["GET"])
def dataset_versions(dataset_id):
    principal(bp.current_request)
    params = query(bp.current_request)
    items, last = _exchange().catalog.versions(
        dataset_id, paging.parse_limit(params.get("limit"), 20, 100), paging.decode_cursor(params.get("cursor"))
    )
    return respond(_page(items, last))


@route(bp, "/v1/catalog.jsonld", methods=["GET"])
def catalog_jsonld():
    from citybrain.composition import departments

    request = bp.current_request
    caller = principal(request) if (request.headers or {}).get("x-api-key") else None
    headers = request.headers or {}
    base = f"{headers.get('x-forwarded-proto', 'http')}://{headers.get('host', 'localhost')}{_stage_prefix(request)}"
    publishers = departments().names()
    document = _exchange().catalog_jsonld(caller, base, query(request), publishers)
    return respond(document, headers={"Content-Type": "application/ld+json; charset=utf-8"})


def _stage_prefix(request) -> str:
    """`/prod` behind API Gateway's default endpoint, nothing behind a custom domain or locally."""
    actual = (request.context or {}).get("path") or ""
    return (
        actual[: -len(request.path)]
        if request.path and actual.endswith(request.path) and actual != request.path
        else ""
    )


# -- records -------------------------------------------------------------------------
@route(bp, "/v1/datasets/{dataset_id}/records", methods=["POST"])
def load_records(dataset_id):
    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().records.load(caller, dataset_id, body, _facts(body)))


@route(bp, "/v1/datasets/{dataset_id}/records", methods=["GET"])
def pull_records(dataset_id):
    caller = principal(bp.current_request)
    return respond(_exchange().records.pull(caller, dataset_id, query(bp.current_request), _facts()))


# -- access requests and grants ------------------------------------------------------
@route(bp, "/v1/datasets/{dataset_id}/access-requests", methods=["POST"])
def request_access(dataset_id):
    from citybrain.exchange.access import AccessRequestIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(
        _exchange().access.request(caller, dataset_id, AccessRequestIn.model_validate(body), _facts(body)), 201
    )


@route(bp, "/v1/access-requests", methods=["GET"])
def list_access_requests():
    caller = principal(bp.current_request)
    params = query(bp.current_request)
    items, last = _exchange().access.list_requests(
        caller,
        params.get("role") or None,
        params.get("status") or None,
        paging.parse_limit(params.get("limit")),
        paging.decode_cursor(params.get("cursor")),
    )
    return respond(_page(items, last))


@route(bp, "/v1/access-requests/{request_id}", methods=["GET"])
def get_access_request(request_id):
    caller = principal(bp.current_request)
    return respond(_exchange().access.get_request(caller, request_id))


@route(bp, "/v1/access-requests/{request_id}/decision", methods=["POST"])
def decide_access_request(request_id):
    from citybrain.exchange.access import DecisionIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().access.decide(caller, request_id, DecisionIn.model_validate(body), _facts(body)))


@route(bp, "/v1/grants", methods=["GET"])
def list_grants():
    caller = principal(bp.current_request)
    params = query(bp.current_request)
    items, last = _exchange().access.list_grants(
        caller,
        params.get("role") or None,
        params.get("dataset") or None,
        paging.parse_limit(params.get("limit")),
        paging.decode_cursor(params.get("cursor")),
    )
    return respond(_page(items, last))


@route(bp, "/v1/grants/{grant_id}", methods=["GET"])
def get_grant(grant_id):
    caller = principal(bp.current_request)
    return respond(_exchange().access.get_grant(caller, grant_id))


@route(bp, "/v1/grants/{grant_id}", methods=["DELETE"])
def revoke_grant(grant_id):
    from citybrain.exchange.access import RevokeIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request) if bp.current_request.raw_body else {}
    return respond(_exchange().access.revoke(caller, grant_id, RevokeIn.model_validate(body), _facts(body or None)))


# -- audit and statistics ------------------------------------------------------------
@route(bp, "/v1/audit", methods=["GET"])
def audit_entries():
    caller = principal(bp.current_request)
    return respond(_exchange().audit_entries(caller, query(bp.current_request)))


@route(bp, "/v1/audit/verify", methods=["GET"])
def verify_audit():
    principal(bp.current_request)
    return respond(_exchange().verify_audit())


@route(bp, "/v1/exchange/stats", methods=["GET"])
def exchange_stats():
    caller = principal(bp.current_request)
    params = query(bp.current_request)
    return respond(_exchange().stats.report(caller, params.get("from"), params.get("to"), params.get("department")))

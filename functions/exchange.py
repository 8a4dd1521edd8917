"""Data exchange over HTTP: catalog, records, access requests, grants, audit, statistics."""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Blueprint

from citybrain.core import paging
from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)

EXCHANGE = "citybrain.exchange.responses:"
QUERIES = "functions.request_models:"


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
@route(
    bp,
    "/v1/datasets",
    methods=["POST"],
    summary="Publish a dataset of the caller's department",
    body="citybrain.exchange.catalog:DatasetIn",
    response=EXCHANGE + "Dataset",
    status=201,
    errors=(400, 409, 413),
)
def publish_dataset():
    from citybrain.exchange.catalog import DatasetIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().catalog.publish(caller, DatasetIn.model_validate(body), _facts(body)))


@route(
    bp,
    "/v1/datasets",
    methods=["GET"],
    summary="Search the catalog, newest first",
    query=QUERIES + "DatasetQuery",
    response=EXCHANGE + "DatasetPage",
    errors=(400,),
)
def search_datasets():
    principal(bp.current_request)
    return respond(_exchange().catalog.find(query(bp.current_request)))


@route(
    bp,
    "/v1/datasets/{dataset_id}",
    methods=["GET"],
    summary="A dataset's metadata",
    response=EXCHANGE + "Dataset",
    errors=(400, 404),
)
def get_dataset(dataset_id):
    from citybrain.exchange.catalog import public_view

    principal(bp.current_request)
    return respond(public_view(_exchange().catalog.get(dataset_id)))


@route(
    bp,
    "/v1/datasets/{dataset_id}",
    methods=["PATCH"],
    summary="Change a dataset's descriptive metadata (its owner or the data bureau)",
    body="citybrain.exchange.catalog:DatasetPatch",
    response=EXCHANGE + "Dataset",
    errors=(400, 403, 404, 409, 413),
)
def update_dataset(dataset_id):
    from citybrain.exchange.catalog import DatasetPatch

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().catalog.update(caller, dataset_id, DatasetPatch.from_body(body), _facts(body)))


@route(
    bp,
    "/v1/datasets/{dataset_id}/versions",
    methods=["GET"],
    summary="A dataset's loads, newest first",
    query=QUERIES + "VersionQuery",
    response=EXCHANGE + "VersionPage",
    errors=(400, 404),
)
def dataset_versions(dataset_id):
    principal(bp.current_request)
    params = query(bp.current_request)
    items, last = _exchange().catalog.versions(
        dataset_id, paging.parse_limit(params.get("limit"), 20, 100), paging.decode_cursor(params.get("cursor"))
    )
    return respond(_page(items, last))


@route(
    bp,
    "/v1/catalog.jsonld",
    methods=["GET"],
    summary="The catalog as DCAT 2 in JSON-LD: public datasets, all with a key",
    optional_key=True,
    content_type="application/ld+json",
    query=QUERIES + "CatalogQuery",
    response=EXCHANGE + "DcatCatalog",
    errors=(400, 401),
)
def catalog_jsonld():
    from citybrain.composition import departments

    request = bp.current_request
    headers: Mapping[str, str] = request.headers or {}
    caller = principal(request) if headers.get("x-api-key") else None
    base = f"{headers.get('x-forwarded-proto', 'http')}://{headers.get('host', 'localhost')}{_stage_prefix(request)}"
    publishers = departments().names()
    document = _exchange().catalog_jsonld(caller, base, query(request), publishers)
    return respond(document)


def _stage_prefix(request) -> str:
    """`/prod` behind API Gateway's default endpoint, nothing behind a custom domain or locally."""
    actual = (request.context or {}).get("path") or ""
    return (
        actual[: -len(request.path)]
        if request.path and actual.endswith(request.path) and actual != request.path
        else ""
    )


# -- records -------------------------------------------------------------------------
@route(
    bp,
    "/v1/datasets/{dataset_id}/records",
    methods=["POST"],
    summary="Load records into a dataset (its owner; at most 1,000): one new version",
    body="functions.request_models:RecordBatch",
    response=EXCHANGE + "RecordsLoaded",
    errors=(400, 403, 404, 409, 413),
)
def load_records(dataset_id):
    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().records.load(caller, dataset_id, body, _facts(body)))


@route(
    bp,
    "/v1/datasets/{dataset_id}/records",
    methods=["GET"],
    summary="A page of a dataset's records: the granted fields, personal data masked",
    query=QUERIES + "RecordQuery",
    response=EXCHANGE + "RecordPage",
    errors=(400, 403, 404),
)
def pull_records(dataset_id):
    caller = principal(bp.current_request)
    return respond(_exchange().records.pull(caller, dataset_id, query(bp.current_request), _facts()))


# -- access requests and grants ------------------------------------------------------
@route(
    bp,
    "/v1/datasets/{dataset_id}/access-requests",
    methods=["POST"],
    summary="Ask a dataset's owner for access, with a purpose",
    body="citybrain.exchange.access:AccessRequestIn",
    response=EXCHANGE + "AccessRequest",
    status=201,
    errors=(400, 404, 413),
)
def request_access(dataset_id):
    from citybrain.exchange.access import AccessRequestIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().access.request(caller, dataset_id, AccessRequestIn.model_validate(body), _facts(body)))


@route(
    bp,
    "/v1/access-requests",
    methods=["GET"],
    summary="Access requests on the caller's datasets or of the caller, newest first",
    query=QUERIES + "AccessRequestQuery",
    response=EXCHANGE + "AccessRequestPage",
    errors=(400,),
)
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


@route(
    bp,
    "/v1/access-requests/{request_id}",
    methods=["GET"],
    summary="An access request (its owner, its consumer or the data bureau)",
    response=EXCHANGE + "AccessRequest",
    errors=(400, 404),
)
def get_access_request(request_id):
    caller = principal(bp.current_request)
    return respond(_exchange().access.get_request(caller, request_id))


@route(
    bp,
    "/v1/access-requests/{request_id}/decision",
    methods=["POST"],
    summary="Approve or reject an access request (the owner, then the data bureau where needed)",
    body="citybrain.exchange.access:DecisionIn",
    response=EXCHANGE + "DecidedRequest",
    errors=(400, 403, 404, 409, 413),
)
def decide_access_request(request_id):
    from citybrain.exchange.access import DecisionIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_exchange().access.decide(caller, request_id, DecisionIn.model_validate(body), _facts(body)))


@route(
    bp,
    "/v1/grants",
    methods=["GET"],
    summary="Grants on the caller's datasets or to the caller",
    query=QUERIES + "GrantQuery",
    response=EXCHANGE + "GrantPage",
    errors=(400, 404),
)
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


@route(
    bp,
    "/v1/grants/{grant_id}",
    methods=["GET"],
    summary="A grant (its owner, its consumer or the data bureau)",
    response=EXCHANGE + "Grant",
    errors=(400, 404),
)
def get_grant(grant_id):
    caller = principal(bp.current_request)
    return respond(_exchange().access.get_grant(caller, grant_id))


@route(
    bp,
    "/v1/grants/{grant_id}",
    methods=["DELETE"],
    summary="Revoke a grant at once (the dataset's owner or the data bureau)",
    body="citybrain.exchange.access:RevokeIn",
    body_required=False,
    response=EXCHANGE + "Grant",
    errors=(400, 403, 404, 413),
)
def revoke_grant(grant_id):
    from citybrain.exchange.access import RevokeIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request) if bp.current_request.raw_body else {}
    return respond(_exchange().access.revoke(caller, grant_id, RevokeIn.model_validate(body), _facts(body or None)))


# -- audit and statistics ------------------------------------------------------------
@route(
    bp,
    "/v1/audit",
    methods=["GET"],
    summary="Audit entries the caller may see, newest first",
    query=QUERIES + "AuditQuery",
    response=EXCHANGE + "AuditPage",
    errors=(400, 404),
)
def audit_entries():
    caller = principal(bp.current_request)
    return respond(_exchange().audit_entries(caller, query(bp.current_request)))


@route(
    bp,
    "/v1/audit/verify",
    methods=["GET"],
    summary="Verify the audit chain against its anchors, incrementally: ok, or its first broken link",
    description="Continues from where the last call stopped, at most 2,000 entries per call (complete false: "
    "call again), and checks every call that the chain still reaches and matches its newest anchor. "
    "A full re-verification from genesis: POST /v1/audit/verifications.",
    response=EXCHANGE + "AuditVerification",
)
def verify_audit():
    from citybrain.composition import chain_anchors

    principal(bp.current_request)
    return respond(chain_anchors().verify())


@route(
    bp,
    "/v1/exchange/stats",
    methods=["GET"],
    summary="Exchange statistics per department and per provider-consumer pair",
    query=QUERIES + "StatsQuery",
    response=EXCHANGE + "ExchangeStats",
    errors=(400, 403),
)
def exchange_stats():
    caller = principal(bp.current_request)
    params = query(bp.current_request)
    return respond(_exchange().stats.report(caller, params.get("from"), params.get("to"), params.get("department")))

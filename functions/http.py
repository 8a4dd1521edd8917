"""What every HTTP route shares: authentication, JSON bodies under the input rules,
one error shape, answers built from each route's response model, and the route's
description for the OpenAPI document; and, for every kind of event, the
correlation id and the metrics flush (one middleware).

Errors leave as {"code", "message", "errors": [{field, message}]}; a client
mistake is never a 500.

Models are named, not imported ("citybrain.sensing.responses:Device"): they are
loaded when a route first answers or the document is generated, never at a
function's cold start."""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import ValidationError

from citybrain.core.errors import ClientError, ValidationFailed, field_errors
from citybrain.core.observability import logger, metrics

api = Blueprint(__name__)

JSON_TYPE = "application/json"
# The error statuses a route may declare, each a ClientError of citybrain.core.errors.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413)
ERROR_MODEL = "citybrain.core.responses:ErrorBody"

ModelRef = str | type  # "package.module:Model", or the model itself


class Operation(NamedTuple):  # not a dataclass: building one costs a millisecond of cold start
    """One route and method, as the OpenAPI document describes it; its answer is built from `response`."""

    path: str
    method: str
    name: str  # the view's name: the operationId
    summary: str
    description: str | None
    tag: str
    response: ModelRef
    status: int
    body: ModelRef | None
    body_required: bool
    query: ModelRef | None
    errors: tuple[int, ...]
    public: bool  # no X-Api-Key needed
    optional_key: bool  # public, and a key shows more
    content_type: str

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


# (path, method) -> its description: every route of every blueprint declared with `route`.
OPERATIONS: dict[tuple[str, str], Operation] = {}


@functools.cache
def model_of(ref: ModelRef) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


class Reply(NamedTuple):
    """A view's answer before its route's response model shapes it."""

    body: Any
    headers: dict[str, str] | None = None


def respond(body: Any, *, headers: dict[str, str] | None = None) -> Reply:
    """The view's result; the route sends it through its response model with its declared status."""
    return Reply(body, headers)


def _send(body: Any, status: int, content_type: str = JSON_TYPE, headers: dict[str, str] | None = None) -> Response:
    # JSON of every kind (application/json, application/ld+json) is serialized; a page or
    # its script, style or icon (text/html, text/css, ...) is sent as the text it is.
    # JSON Lines (application/x-ndjson) are text too.
    text = (
        body
        if isinstance(body, str) and (content_type.endswith("ndjson") or not content_type.endswith("json"))
        else None
    )
    return Response(
        body=text if text is not None else json.dumps(body, ensure_ascii=False, default=str),
        status_code=status,
        headers={"Content-Type": f"{content_type}; charset=utf-8", **(headers or {})},
    )


def _answer(operation: Operation, reply: Any) -> Response:
    if not isinstance(reply, Reply):
        raise TypeError(f"{operation.name} must answer with respond(...), not {type(reply).__name__}")
    from citybrain.core.responses import shaped

    body = shaped(model_of(operation.response), reply.body, f"{operation.method} {operation.path}")
    return _send(body, operation.status, operation.content_type, reply.headers)


def _error_body(body: dict[str, Any]) -> Any:
    from citybrain.core.responses import shaped

    return shaped(model_of(ERROR_MODEL), body)


def error_response(exc: ClientError) -> Response:
    return _send(_error_body(exc.body()), exc.status)


def _internal_error() -> Response:
    body = {
        "code": "InternalError",
        "message": "internal error; the request id is in the logs",
        "request_id": logger.get_correlation_id(),
    }
    try:
        body = _error_body(body)
    except Exception:  # the answer to a failure must not fail: the plain body has the same shape
        logger.exception("error body not built from its model")
    return _send(body, 500)


def route(
    blueprint: Blueprint,
    path: str,
    *,
    methods: list[str],
    summary: str,
    response: ModelRef,
    status: int = 200,
    body: ModelRef | None = None,
    body_required: bool = True,
    query: ModelRef | None = None,
    errors: tuple[int, ...] = (),
    public: bool = False,
    optional_key: bool = False,
    content_type: str = JSON_TYPE,
    description: str | None = None,
    tag: str | None = None,
    **options: Any,
):
    """`blueprint.route`, with domain errors turned into their HTTP answer, the view's
    result sent through `response` (a pydantic model) with `status`, and the route
    described for the OpenAPI document: `body` and `query` (models of the request
    body and the query parameters), `errors` (the error statuses it can answer; 401
    is implied unless `public`), `optional_key` (public, and a key shows more).

    Chalice turns any exception of a view into its own 500 before middleware
    sees it, so the mapping has to wrap the view itself."""
    unknown = set(errors) - set(ERROR_STATUSES)
    if unknown:
        raise ValueError(f"{path}: errors must be among {ERROR_STATUSES}, not {sorted(unknown)}")
    public = public or optional_key
    declared = tuple(sorted(set(errors) | ({401} if not public else set())))

    def decorate(view):
        operations = {
            method.upper(): Operation(
                path=path,
                method=method.upper(),
                name=view.__name__,
                summary=summary,
                description=description,
                tag=tag or view.__module__.rpartition(".")[2],
                response=response,
                status=status,
                body=body,
                body_required=body_required,
                query=query,
                errors=declared,
                public=public,
                optional_key=optional_key,
                content_type=content_type,
            )
            for method in methods
        }
        OPERATIONS.update({(path, method): operation for method, operation in operations.items()})

        @functools.wraps(view)
        def guarded(*args, **kwargs):
            try:
                from citybrain.core.validation import check_query

                check_query(kwargs)  # path parameters are text too
                operation = operations[blueprint.current_request.method.upper()]
                return _answer(operation, view(*args, **kwargs))
            except ClientError as exc:
                return error_response(exc)
            except ValidationError as exc:
                return error_response(ValidationFailed("invalid request body", field_errors(exc)))
            except Exception:
                request = blueprint.current_request
                logger.exception("unhandled error", extra={"path": request.path, "method": request.method})
                return _internal_error()

        return blueprint.route(path, methods=methods, **options)(guarded)

    return decorate


@api.middleware("all")
def correlate_and_flush(event, get_response):
    """Every event, HTTP or trigger: the request's correlation id (a queue message's
    handler sets its message id instead), and the metrics flushed once it is done,
    whatever happened."""
    if isinstance(event, Request):
        headers: Mapping[str, str] = event.headers or {}
        logger.set_correlation_id(headers.get("x-request-id") or (event.context or {}).get("requestId"))
    try:
        return get_response(event)
    finally:
        _flush()


def _flush() -> None:
    if metrics.metric_set:
        metrics.flush_metrics()


def principal(request):
    from citybrain.composition import departments

    return departments().authenticate((request.headers or {}).get("x-api-key"))


def body_of(request) -> Any:
    from citybrain.core.validation import parse_body

    return parse_body(request.raw_body)


def query(request) -> dict[str, str]:
    from citybrain.core.validation import check_query

    return check_query(dict(request.query_params or {}))


@route(
    api,
    "/v1/health",
    methods=["GET"],
    summary="Whether the API is up",
    response="citybrain.core.responses:Health",
    public=True,
    tag="service",
)
def health():
    return respond({"status": "ok"})


@route(
    api,
    "/v1/openapi.json",
    methods=["GET"],
    summary="This API's OpenAPI 3.1 document (the same as docs/openapi.json)",
    response="citybrain.core.responses:OpenAPIDocument",
    public=True,
    tag="service",
)
def openapi_document():
    from functions.openapi import served

    return respond(served(api.current_app))

"""What every HTTP route shares: authentication, JSON bodies under the input rules,
and one error shape; and, for every kind of event, the correlation id and the
metrics flush (one middleware).

Errors leave as {"code", "message", "errors": [{field, message}]}; a client
mistake is never a 500."""

from __future__ import annotations

import functools
import json
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import ValidationError

from citybrain.core.errors import ClientError, ValidationFailed, field_errors
from citybrain.core.observability import logger, metrics

api = Blueprint(__name__)

JSON = {"Content-Type": "application/json; charset=utf-8"}


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, default=str), status_code=status, headers={**JSON, **(headers or {})}
    )


def error_response(exc: ClientError) -> Response:
    return respond(exc.body(), exc.status)


def route(blueprint: Blueprint, path: str, **options):
    """`blueprint.route`, with domain errors turned into their HTTP answer.

    Chalice turns any exception of a view into its own 500 before middleware
    sees it, so the mapping has to wrap the view itself."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            try:
                from citybrain.core.validation import check_query

                check_query(kwargs)  # path parameters are text too
                return view(*args, **kwargs)
            except ClientError as exc:
                return error_response(exc)
            except ValidationError as exc:
                return error_response(ValidationFailed("invalid request body", field_errors(exc)))
            except Exception:
                request = blueprint.current_request
                logger.exception("unhandled error", extra={"path": request.path, "method": request.method})
                return respond(
                    {
                        "code": "InternalError",
                        "message": "internal error; the request id is in the logs",
                        "request_id": logger.get_correlation_id(),
                    },
                    500,
                )

        return blueprint.route(path, **options)(guarded)

    return decorate


@api.middleware("all")
def correlate_and_flush(event, get_response):
    """Every event, HTTP or trigger: the request's correlation id (a queue message's
    handler sets its message id instead), and the metrics flushed once it is done,
    whatever happened."""
    if isinstance(event, Request):
        logger.set_correlation_id((event.headers or {}).get("x-request-id") or (event.context or {}).get("requestId"))
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


@route(api, "/v1/health", methods=["GET"])
def health():
    return respond({"status": "ok"})

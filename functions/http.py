"""What every HTTP route shares: authentication, JSON bodies, and one error shape.

Errors leave as {"code", "message", "errors": [{field, message}]}; a client
mistake is never a 500."""

from __future__ import annotations

import functools
import json
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from citybrain.errors import ClientError, ValidationFailed, field_errors
from citybrain.observability import logger, metrics

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


@api.middleware("http")
def correlate_and_flush(event, get_response):
    logger.set_correlation_id((event.headers or {}).get("x-request-id") or (event.context or {}).get("requestId"))
    response = get_response(event)
    if metrics.metric_set:
        metrics.flush_metrics()
    return response


def principal(request):
    from citybrain.services import departments

    return departments().authenticate((request.headers or {}).get("x-api-key"))


def body_of(request) -> Any:
    raw = request.raw_body
    if not raw:
        raise ValidationFailed("a JSON body is required", [{"field": "body", "message": "empty"}])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("body is not valid JSON", [{"field": "body", "message": str(exc)}]) from None


def query(request) -> dict[str, str]:
    return dict(request.query_params or {})


@route(api, "/v1/health", methods=["GET"])
def health():
    return respond({"status": "ok"})

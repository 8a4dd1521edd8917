"""What every HTTP route shares: authentication, JSON bodies, and one error shape.

Errors leave as {"code", "message", "errors": [{field, message}]}; a client
mistake is never a 500."""
from __future__ import annotations

import json
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from citybrain.errors import ClientError, ValidationFailed, field_errors
from citybrain.observability import logger, metrics

api = Blueprint(__name__)

JSON = {"Content-Type": "application/json; charset=utf-8"}


def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    headers={**JSON, **(headers or {})})


def error_response(exc: ClientError) -> Response:
    return respond(exc.body(), exc.status)


@api.middleware("http")
def handle_errors(event, get_response):
    request_id = (event.headers or {}).get("x-request-id") or (event.context or {}).get("requestId")
    logger.set_correlation_id(request_id)
    try:
        response = get_response(event)
    except ClientError as exc:
        response = error_response(exc)
    except ValidationError as exc:
        response = error_response(ValidationFailed("invalid request body", field_errors(exc)))
    except Exception:
        logger.exception("unhandled error", extra={"path": event.path, "method": event.method})
        response = respond({"code": "InternalError", "message": "internal error; the request id is in the logs",
                            "request_id": request_id}, 500)
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


@api.route("/v1/health", methods=["GET"])
def health():
    return respond({"status": "ok"})

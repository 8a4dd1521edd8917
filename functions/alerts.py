from chalice import Blueprint, Rate

from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)


def _note(request) -> str | None:
    """The body is optional: no body, or {"note": "..."}."""
    from citybrain.alerts.lifecycle import AlertActionIn

    if not request.raw_body:
        return None
    return AlertActionIn.model_validate(body_of(request)).note


ALERTS = "citybrain.alerts.responses:"


@route(
    bp,
    "/v1/alerts",
    methods=["GET"],
    summary="List alerts, newest first",
    query="functions.request_models:AlertQuery",
    response=ALERTS + "AlertPage",
    errors=(400,),
)
def list_alerts():
    from citybrain.composition import alert_service

    principal(bp.current_request)  # any department: officials follow the whole city's state
    return respond(alert_service().list(query(bp.current_request)))


@route(
    bp,
    "/v1/alerts/{alert_id}",
    methods=["GET"],
    summary="An alert with its history of state changes",
    response=ALERTS + "Alert",
    errors=(400, 404),
)
def get_alert(alert_id):
    from citybrain.composition import alert_service

    principal(bp.current_request)
    return respond(alert_service().get(alert_id))


@route(
    bp,
    "/v1/alerts/{alert_id}/acknowledge",
    methods=["POST"],
    summary="Acknowledge an open alert (the device's department or the data bureau)",
    body="citybrain.alerts.lifecycle:AlertActionIn",
    body_required=False,
    response=ALERTS + "Alert",
    errors=(400, 403, 404, 409, 413),
)
def acknowledge_alert(alert_id):
    from citybrain.composition import alert_service

    caller = principal(bp.current_request)
    return respond(alert_service().acknowledge(caller, alert_id, _note(bp.current_request)))


@route(
    bp,
    "/v1/alerts/{alert_id}/resolve",
    methods=["POST"],
    summary="Resolve an open or acknowledged alert (the device's department or the data bureau)",
    body="citybrain.alerts.lifecycle:AlertActionIn",
    body_required=False,
    response=ALERTS + "Alert",
    errors=(400, 403, 404, 409, 413),
)
def resolve_alert(alert_id):
    from citybrain.composition import alert_service

    caller = principal(bp.current_request)
    return respond(alert_service().resolve(caller, alert_id, _note(bp.current_request)))


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def check_offline_devices(event):
    return _scheduled("offline check", lambda service: service.check_offline())


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def retry_alert_notifications(event):
    return _scheduled("alert notifications retried", lambda service: service.retry_notifications())


def _scheduled(what, work):
    from citybrain.composition import alert_service
    from citybrain.core.observability import logger

    outcome = work(alert_service())
    logger.info(what, extra=outcome)
    return outcome

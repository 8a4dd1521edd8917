from chalice import Blueprint, Rate

from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)

SAFETY = "citybrain.safety.responses:"


@route(
    bp,
    "/v1/risk-points",
    methods=["POST"],
    summary="Register a risk point (风险点) of the caller's department, with its monitoring devices",
    body="citybrain.safety.risk_points:RiskPointIn",
    response=SAFETY + "RiskPoint",
    status=201,
    errors=(400, 403, 413),
)
def register_risk_point():
    from citybrain.composition import risk_points
    from citybrain.safety.risk_points import RiskPointIn

    caller = principal(bp.current_request)
    return respond(risk_points().register(caller, RiskPointIn.model_validate(body_of(bp.current_request))))


@route(
    bp,
    "/v1/risk-points/{point_id}",
    methods=["PUT"],
    summary="Replace a risk point (its department or the data bureau), at the version last read",
    body="citybrain.safety.risk_points:RiskPointIn",
    response=SAFETY + "RiskPoint",
    errors=(400, 403, 404, 409, 413),
)
def replace_risk_point(point_id):
    from citybrain.composition import risk_points
    from citybrain.safety.risk_points import RiskPointIn

    caller = principal(bp.current_request)
    payload = RiskPointIn.model_validate(body_of(bp.current_request))
    return respond(risk_points().replace(caller, point_id, payload))


@route(
    bp,
    "/v1/risk-points/{point_id}",
    methods=["GET"],
    summary="A risk point with its state: its devices' latest readings and their open alerts",
    response=SAFETY + "RiskPointDetail",
    errors=(400, 404),
)
def get_risk_point(point_id):
    from citybrain.composition import risk_points

    principal(bp.current_request)  # any department: the district's risks are everyone's concern
    return respond(risk_points().describe(point_id))


@route(
    bp,
    "/v1/risk-points",
    methods=["GET"],
    summary="List risk points",
    query="functions.request_models:RiskPointQuery",
    response=SAFETY + "RiskPointPage",
    errors=(400,),
)
def list_risk_points():
    from citybrain.composition import risk_points

    principal(bp.current_request)
    return respond(risk_points().list(query(bp.current_request)))


@bp.on_sqs_message(queue="citybrain-incidents", batch_size=10)
def fuse_alerts(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event.to_dict(), record_handler=_fuse, processor=processor, context=event.context
    )


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def announce_incidents(event):
    from citybrain.composition import incidents
    from citybrain.core.observability import logger

    outcome = incidents().announce_pending()
    logger.info("incident announcements made", extra={"incidents": outcome})
    return outcome


def _fuse(record):
    from citybrain.composition import incidents
    from citybrain.core.observability import logger

    logger.set_correlation_id(record.message_id)
    return incidents().fuse_notification(record.body)


@route(
    bp,
    "/v1/incidents",
    methods=["GET"],
    summary="List incidents (事件), newest first",
    query="functions.request_models:IncidentQuery",
    response=SAFETY + "IncidentPage",
    errors=(400,),
)
def list_incidents():
    from citybrain.composition import incidents

    principal(bp.current_request)
    return respond(incidents().list(query(bp.current_request)))


@route(
    bp,
    "/v1/incidents",
    methods=["POST"],
    summary="Report an incident (事件) a department has seen; its category and grade are the reporter's",
    body="citybrain.safety.incidents:IncidentIn",
    response=SAFETY + "Incident",
    status=201,
    errors=(400, 413),
)
def report_incident():
    from citybrain.composition import incidents
    from citybrain.safety.incidents import IncidentIn

    caller = principal(bp.current_request)
    return respond(incidents().report(caller, IncidentIn.model_validate(body_of(bp.current_request))))


@route(
    bp,
    "/v1/incidents/{incident_id}",
    methods=["GET"],
    summary="An incident with the alerts and risk points it joins and its timeline",
    response=SAFETY + "Incident",
    errors=(400, 404),
)
def get_incident(incident_id):
    from citybrain.composition import incidents

    principal(bp.current_request)
    return respond(incidents().get(incident_id))


@route(
    bp,
    "/v1/incidents/{incident_id}/close",
    methods=["POST"],
    summary="Close an incident (the command centre: the data bureau or the emergency bureau)",
    body="citybrain.alerts.lifecycle:AlertActionIn",
    body_required=False,
    response=SAFETY + "Incident",
    errors=(400, 403, 404, 409, 413),
)
def close_incident(incident_id):
    from citybrain.alerts.lifecycle import AlertActionIn
    from citybrain.composition import incidents

    caller = principal(bp.current_request)
    request = bp.current_request
    note = AlertActionIn.model_validate(body_of(request)).note if request.raw_body else None
    return respond(incidents().close(caller, incident_id, note))


@route(
    bp,
    "/v1/safety/overview",
    methods=["GET"],
    summary="大安全态势: every risk point with its level colour and state, open incidents by grade, overdue "
    "cases and each department's on-time rates over the last 30 days (read by GET /dashboard/safety)",
    response=SAFETY + "SafetyOverview",
)
def safety_overview():
    from citybrain.composition import safety_overview

    principal(bp.current_request)  # any department: the district's risks are everyone's concern
    return respond(safety_overview().overview())

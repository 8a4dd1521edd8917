from chalice import Blueprint, Cron

from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)

REPORTS = "citybrain.reports.responses:"


@route(
    bp,
    "/v1/reports",
    methods=["POST"],
    summary="Ask for a report (hourly, daily or a range of dates; the district, a town or a domain)",
    description="Answers 202 with the report's id at once; the report function builds it from the hourly "
    "rollups. Follow GET /v1/reports/{id} until its status is done for the links to its JSON, CSV and HTML.",
    body="citybrain.reports.models:ReportRequestIn",
    response=REPORTS + "Report",
    status=202,
    errors=(400, 413),
)
def request_report():
    from citybrain.composition import reports
    from citybrain.reports.models import ReportRequestIn

    caller = principal(bp.current_request)
    payload = ReportRequestIn.model_validate(body_of(bp.current_request))
    return respond(reports().request(caller, payload))


@route(
    bp,
    "/v1/reports",
    methods=["GET"],
    summary="List reports, newest first",
    query="functions.request_models:ReportQuery",
    response=REPORTS + "ReportPage",
    errors=(400,),
)
def list_reports():
    from citybrain.composition import reports

    principal(bp.current_request)  # any department: reports are the officials' common view
    return respond(reports().list(query(bp.current_request)))


@route(
    bp,
    "/v1/reports/{report_id}",
    methods=["GET"],
    summary="A report's status and, once done, presigned links to its artifacts",
    response=REPORTS + "Report",
    errors=(400, 404),
)
def get_report(report_id):
    from citybrain.composition import reports

    principal(bp.current_request)
    return respond(reports().get(report_id))


@bp.on_sqs_message(queue="citybrain-reports", batch_size=1)
def make_report(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event.to_dict(), record_handler=_build, processor=processor, context=event.context
    )


def _build(record):
    import json

    from citybrain.composition import reports
    from citybrain.core.observability import logger, metrics

    report_id = json.loads(record.body)["id"]
    logger.set_correlation_id(report_id)
    outcome = reports().build(report_id)
    metrics.add_metric(name="ReportsBuilt", unit="Count", value=1 if outcome["status"] == "done" else 0)
    return outcome


# EventBridge reads cron in UTC; Asia/Shanghai is UTC+8 all year (no daylight saving):
# minute 5 of every hour is minute 5 of every local hour, and 00:30 local is 16:30 UTC.
HOURLY_REPORT = Cron(5, "*", "*", "*", "?", "*")
DAILY_REPORT = Cron(30, 16, "*", "*", "?", "*")


@bp.schedule(HOURLY_REPORT)
def hourly_report(event):
    return _scheduled("hourly", event)


@bp.schedule(DAILY_REPORT)
def daily_report(event):
    return _scheduled("daily", event)


def _scheduled(kind, event):
    from citybrain.composition import reports
    from citybrain.core import timeutil
    from citybrain.core.observability import logger

    # The event's time is the schedule's (not when the function happened to start).
    outcome = reports().schedule(kind, timeutil.parse_instant(event.time))
    logger.info(f"{kind} report scheduled", extra={"report": outcome})
    return outcome

from chalice import Blueprint, Rate

from functions.http import body_of, principal, query, respond, route

bp = Blueprint(__name__)

CASES = "citybrain.cases.responses:"
ACTION_ERRORS = (400, 403, 404, 409, 413)


@route(
    bp,
    "/v1/cases",
    methods=["POST"],
    summary="Report a case (信息采集): a public facility (部件) or an event (事件) to be handled",
    body="citybrain.cases.models:CaseIn",
    response=CASES + "Case",
    status=201,
    errors=(400, 413),
)
def report_case():
    from citybrain.cases.models import CaseIn
    from citybrain.composition import cases

    caller = principal(bp.current_request)
    return respond(cases().report(caller, CaseIn.model_validate(body_of(bp.current_request))))


@route(
    bp,
    "/v1/cases",
    methods=["GET"],
    summary="List the cases the caller reported or is assigned (the command centre: every case)",
    query="functions.request_models:CaseQuery",
    response=CASES + "CasePage",
    errors=(400,),
)
def list_cases():
    from citybrain.composition import cases

    caller = principal(bp.current_request)
    return respond(cases().list(caller, query(bp.current_request)))


@route(
    bp,
    "/v1/cases/stats",
    methods=["GET"],
    summary="综合评价: per department, cases received, acknowledged and closed on time, sent back, mean times",
    query="functions.request_models:CaseStatsQuery",
    response=CASES + "CaseStatistics",
    errors=(400, 403),
)
def case_statistics():
    from citybrain.composition import cases

    caller = principal(bp.current_request)
    return respond(cases().statistics(caller, query(bp.current_request)))


@route(
    bp,
    "/v1/cases/{case_id}",
    methods=["GET"],
    summary="A case with its assignments, deadlines and history",
    response=CASES + "Case",
    errors=(400, 403, 404),
)
def get_case(case_id):
    from citybrain.composition import cases

    return respond(cases().get(principal(bp.current_request), case_id))


def _act(case_id, action):
    from citybrain.cases.models import CaseActionIn
    from citybrain.composition import cases

    request = bp.current_request
    caller = principal(request)
    payload = CaseActionIn.model_validate(body_of(request) if request.raw_body else {})
    return respond(cases().act(caller, case_id, action, payload))


def _action_route(path: str, summary: str, body_required: bool = False):
    return route(
        bp,
        "/v1/cases/{case_id}/" + path,
        methods=["POST"],
        summary=summary,
        body="citybrain.cases.models:CaseActionIn",
        body_required=body_required,
        response=CASES + "Case",
        errors=ACTION_ERRORS,
    )


@_action_route("register", "案卷建立: the command centre registers a reported case")
def register_case(case_id):
    return _act(case_id, "register")


@_action_route("cancel", "The command centre cancels a case, with a reason (note)", body_required=True)
def cancel_case(case_id):
    return _act(case_id, "cancel")


@_action_route("dispatch", "任务派遣: to a lead department and supporting ones; the deadlines start", True)
def dispatch_case(case_id):
    return _act(case_id, "dispatch")


@_action_route("acknowledge", "任务处理: an assigned department acknowledges (the lead's starts the work)")
def acknowledge_case(case_id):
    return _act(case_id, "acknowledge")


@_action_route("feedback", "处理反馈: the lead department reports what was done (note, photos)", body_required=True)
def feed_back_case(case_id):
    return _act(case_id, "feedback")


@_action_route("close", "核查结案: the command centre verifies and closes the case")
def close_case(case_id):
    return _act(case_id, "close")


@_action_route("send-back", "返工: the command centre sends the case back to its lead, with a reason", True)
def send_back_case(case_id):
    return _act(case_id, "send_back")


@route(
    bp,
    "/v1/cases/{case_id}/photos",
    methods=["POST"],
    summary="A photo for the report (the reporter, before registration) or the feedback (the lead department, "
    "while processing): recorded on the case, with a presigned URL to PUT it to",
    body="citybrain.cases.models:CasePhotoIn",
    response=CASES + "CasePhotoTicket",
    status=201,
    errors=ACTION_ERRORS,
)
def add_case_photo(case_id):
    from citybrain.cases.models import CasePhotoIn
    from citybrain.composition import cases

    caller = principal(bp.current_request)
    payload = CasePhotoIn.model_validate(body_of(bp.current_request))
    return respond(cases().add_photo(caller, case_id, payload))


@route(
    bp,
    "/v1/cases/{case_id}/escalate",
    methods=["POST"],
    summary="The command centre makes a case a big-safety incident (事件) of the category and grade given",
    body="citybrain.cases.models:CaseEscalationIn",
    response=CASES + "Case",
    errors=ACTION_ERRORS,
)
def escalate_case(case_id):
    from citybrain.cases.models import CaseEscalationIn
    from citybrain.composition import cases

    caller = principal(bp.current_request)
    payload = CaseEscalationIn.model_validate(body_of(bp.current_request))
    return respond(cases().escalate(caller, case_id, payload))


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def check_overdue_cases(event):
    from citybrain.composition import cases
    from citybrain.core.observability import logger

    outcome = cases().check_overdue()
    logger.info("overdue cases checked", extra={"cases": outcome})
    return outcome

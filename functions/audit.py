"""The audit chain's anchors, its full re-verification and its export, over HTTP; and
the schedule that anchors it and the function that re-verifies it."""

from __future__ import annotations

from chalice import Blueprint, Rate

from functions.http import principal, query, respond, route

bp = Blueprint(__name__)

EXCHANGE = "citybrain.exchange.responses:"
QUERIES = "functions.request_models:"


def _anchors():
    from citybrain.composition import chain_anchors

    return chain_anchors()


@route(
    bp,
    "/v1/audit/anchors",
    methods=["POST"],
    summary="Anchor the audit chain's head now (the data bureau)",
    description="Writes the head's seq and hash as an object under S3 Object Lock (compliance mode); "
    "if the head is anchored already, answers that anchor with created false.",
    response=EXCHANGE + "AnchorCreated",
    status=201,
    errors=(403, 409),
    tag="exchange",
)
def create_anchor():
    return respond(_anchors().anchor_on_demand(principal(bp.current_request)))


@route(
    bp,
    "/v1/audit/anchors",
    methods=["GET"],
    summary="The audit chain's anchors, oldest first",
    query=QUERIES + "AnchorQuery",
    response=EXCHANGE + "AnchorPage",
    errors=(400,),
    tag="exchange",
)
def list_anchors():
    principal(bp.current_request)  # any department: anchors are a seq, a hash and a time
    return respond(_anchors().list_anchors(query(bp.current_request)))


@route(
    bp,
    "/v1/audit/export",
    methods=["GET"],
    summary="Audit entries from_seq..to_seq (at most 1,000) as JSON Lines, for an offline check",
    description="One entry per line in canonical JSON (sorted keys, no spaces, UTF-8), exactly what its hash "
    "covers plus the hash. X-Next-From-Seq names the next page while the chain goes on. Check an export "
    "against GET /v1/audit/anchors with `python -m citybrain.exchange.verify_export export.jsonl anchors.json`.",
    query=QUERIES + "AuditExportQuery",
    response=EXCHANGE + "AuditExport",
    errors=(400, 403),
    content_type="application/x-ndjson",
    tag="exchange",
)
def export_audit():
    text, headers = _anchors().export(principal(bp.current_request), query(bp.current_request))
    return respond(text, headers=headers)


@route(
    bp,
    "/v1/audit/verifications",
    methods=["POST"],
    summary="Re-verify the whole audit chain from genesis against every anchor (the data bureau)",
    description="Answers 202 with the job; follow GET /v1/audit/verifications/{id} until its status is done.",
    response=EXCHANGE + "VerificationJob",
    status=202,
    errors=(403,),
    tag="exchange",
)
def request_verification():
    return respond(_anchors().request_full(principal(bp.current_request)))


@route(
    bp,
    "/v1/audit/verifications/{verification_id}",
    methods=["GET"],
    summary="A full re-verification's progress and verdict",
    response=EXCHANGE + "VerificationJob",
    errors=(400, 404),
    tag="exchange",
)
def get_verification(verification_id):
    principal(bp.current_request)
    return respond(_anchors().job(verification_id))


# Every 5 minutes, and every 1,000th entry reached since the last anchor (citybrain.exchange.anchors).
ANCHOR_RATE = Rate(5, unit=Rate.MINUTES)


@bp.schedule(ANCHOR_RATE)
def anchor_audit_chain(event):
    from citybrain.core.observability import logger

    anchored = _anchors().anchor("schedule")
    logger.info("audit chain anchored", extra={"anchor": anchored})
    return anchored


@bp.on_sqs_message(queue="citybrain-audit-verifications", batch_size=1)
def verify_audit_chain(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event.to_dict(), record_handler=_verify_slice, processor=processor, context=event.context
    )


def _verify_slice(record):
    import json

    from citybrain.core.observability import logger

    job_id = json.loads(record.body)["id"]
    logger.set_correlation_id(job_id)
    outcome = _anchors().run_slice(job_id)
    logger.info("audit verification slice", extra={"verification": outcome})
    return outcome

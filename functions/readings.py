from chalice import Blueprint

from functions.http import body_of, principal, respond, route

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/readings",
    methods=["POST"],
    summary="Send readings of the caller's devices (at most 1,000)",
    description="Each reading is validated on its own: the good ones are queued for storage, the bad ones "
    "answered with their reasons (and kept in the rejections table).",
    body="functions.request_models:ReadingBatch",
    response="citybrain.sensing.responses:ReadingsAccepted",
    status=202,
    errors=(400, 413),
)
def post_readings():
    from citybrain.composition import reading_ingest

    caller = principal(bp.current_request)
    return respond(reading_ingest().accept(caller, body_of(bp.current_request)))


@bp.on_sqs_message(queue="citybrain-readings", batch_size=10)
def process_readings(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    # A batch whose every message fails is still answered with batchItemFailures, not an
    # exception: the messages retry and reach the DLQ (which alarms) either way, and a
    # poison message does not count as a function error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event.to_dict(), record_handler=_store_message, processor=processor, context=event.context
    )


def _store_message(record):
    from citybrain.composition import reading_pipeline
    from citybrain.core.observability import logger, metrics

    logger.set_correlation_id(record.message_id)
    outcome = reading_pipeline().process(record.body, record.message_id)
    metrics.add_metric(name="ReadingsStored", unit="Count", value=outcome.stored)
    metrics.add_metric(name="ReadingsDuplicate", unit="Count", value=outcome.duplicates)
    metrics.add_metric(name="ReadingsRejectedLate", unit="Count", value=outcome.rejected)
    return outcome.stored

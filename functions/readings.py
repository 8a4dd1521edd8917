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


# Up to 50 messages a call, waiting up to 5 s to gather them (Lambda also keeps a batch
# within its 6 MB payload): the readings of the whole batch are stored together, one
# item per device-hour, so a time step per message costs a fraction of a write per reading.
@bp.on_sqs_message(queue="citybrain-readings", batch_size=50, maximum_batching_window_in_seconds=5)
def process_readings(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    from citybrain.composition import reading_pipeline
    from citybrain.core import collector
    from citybrain.core.observability import logger, metrics

    pipeline = reading_pipeline()
    collector.settle()
    parsed = []

    def parse(record):
        logger.set_correlation_id(record.message_id)
        parsed.append(pipeline.parse(record.body, record.message_id))

    # A poison message fails alone (reported in batchItemFailures, not an exception: it
    # retries and reaches the DLQ, which alarms, and does not count as a function error).
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    with processor(records=event.to_dict()["Records"], handler=parse, lambda_context=event.context):
        processor.process()
    response = processor.response()
    if parsed:
        try:
            outcome = pipeline.store_messages(parsed)
        except Exception:
            # Storing is idempotent: every readable message of the batch may come again.
            logger.exception("could not store the readings of %d messages", len(parsed))
            response["batchItemFailures"] += [{"itemIdentifier": m.message_id} for m in parsed]
        else:
            metrics.add_metric(name="ReadingsStored", unit="Count", value=outcome.stored)
            metrics.add_metric(name="ReadingsDuplicate", unit="Count", value=outcome.duplicates)
            metrics.add_metric(name="ReadingsRejectedLate", unit="Count", value=outcome.rejected)
    return response

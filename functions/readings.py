from chalice import Blueprint

from functions.http import route, body_of, principal, respond

bp = Blueprint(__name__)


@route(bp, "/v1/readings", methods=["POST"])
def post_readings():
    from citybrain.config import get_settings
    from citybrain.ingest import accept_readings
    from citybrain.observability import metrics
    from citybrain.services import devices
    from citybrain.storage.queue import enqueue_readings
    from citybrain.storage.rejections import RejectionStore

    caller = principal(bp.current_request)
    result = accept_readings(
        caller,
        body_of(bp.current_request),
        devices().store.get_many,
        enqueue_readings,
        RejectionStore().record,
        get_settings().max_future_skew_seconds * 1000,
    )
    metrics.add_metric(name="ReadingsAccepted", unit="Count", value=result["accepted"])
    metrics.add_metric(name="ReadingsRejected", unit="Count", value=len(result["rejected"]))
    return respond(result, 202)


@bp.on_sqs_message(queue="citybrain-readings", batch_size=10)
def process_readings(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from citybrain.observability import metrics

    # A batch whose every message fails is still answered with batchItemFailures, not an
    # exception: the messages retry and reach the DLQ (which alarms) either way, and a
    # poison message does not count as a function error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        return process_partial_response(
            event=event.to_dict(), record_handler=_store_message, processor=processor, context=event.context
        )
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()


def _store_message(record):
    from citybrain.observability import logger, metrics
    from citybrain.services import reading_processor

    logger.set_correlation_id(record.message_id)
    outcome = reading_processor().process(record.body, record.message_id)
    metrics.add_metric(name="ReadingsStored", unit="Count", value=outcome.stored)
    metrics.add_metric(name="ReadingsDuplicate", unit="Count", value=outcome.duplicates)
    metrics.add_metric(name="ReadingsRejectedLate", unit="Count", value=outcome.rejected)
    return outcome.stored

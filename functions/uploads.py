from chalice import Blueprint

from functions.http import body_of, principal, respond, route

bp = Blueprint(__name__)


def _uploads(body=None):
    from citybrain.config import get_settings
    from citybrain.storage.uploads import DynamoUploadStore, presign_put
    from citybrain.uploads import Uploads

    return Uploads(DynamoUploadStore(), presign_put, get_settings().upload_url_expiry_seconds, _check_target(body))


def _check_target(body):
    """A load of a dataset is announced by its owner; a refusal is audited like a records POST's."""

    def check(caller, dataset_id):
        from citybrain.exchange.audit import RequestFacts
        from citybrain.exchange.uploads import check_target
        from citybrain.services import exchange

        check_target(exchange().records, caller, dataset_id, RequestFacts("POST", "/v1/uploads", {}, body))

    return check


@route(bp, "/v1/uploads", methods=["POST"])
def create_upload():
    from citybrain.uploads import UploadIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    return respond(_uploads(body).create(caller, UploadIn.model_validate(body)), 201)


@route(bp, "/v1/uploads/{upload_id}", methods=["GET"])
def get_upload(upload_id):
    caller = principal(bp.current_request)
    return respond(_uploads().get(caller, upload_id))


@bp.on_sqs_message(queue="citybrain-uploads", batch_size=1)
def process_uploads(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from citybrain.observability import metrics

    try:
        return process_partial_response(
            event=event.to_dict(),
            record_handler=_read_notified,
            processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
            context=event.context,
        )
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()


def _read_notified(record, lambda_context=None):
    from citybrain.observability import logger
    from citybrain.storage.uploads import once_per_object
    from citybrain.uploads import parse_s3_notification

    logger.set_correlation_id(record.message_id)
    read_once = once_per_object(_read_object, lambda_context)
    # An s3:TestEvent names no object: nothing to do, and the message is done.
    return [read_once(s3_object=obj.model_dump()) for obj in parse_s3_notification(record.body)]


def _read_object(s3_object):
    from citybrain.config import get_settings
    from citybrain.observability import metrics
    from citybrain.services import devices
    from citybrain.storage.queue import pack_messages, send_messages
    from citybrain.storage.rejections import RejectionStore
    from citybrain.storage.uploads import DynamoUploadStore, forget_rejections, open_object
    from citybrain.uploads import S3Object, UploadIntake

    known: dict = {}  # the devices the file names, sent along as profiles for the rules

    def get_devices(ids):
        found = devices().store.get_many(ids)
        known.update(found)
        return found

    intake = UploadIntake(
        DynamoUploadStore(),
        open_object,
        get_devices,
        lambda readings, source: send_messages(pack_messages(readings, source, known)),
        RejectionStore().record,
        forget_rejections,
        get_settings().max_future_skew_seconds * 1000,
        load_dataset=_load_dataset,
    )
    outcome = intake.process(S3Object(**s3_object))
    if outcome.status in ("done", "failed"):
        metrics.add_metric(name="UploadsProcessed", unit="Count", value=1)
        metrics.add_metric(name="UploadRowsAccepted", unit="Count", value=outcome.accepted)
        metrics.add_metric(name="UploadRowsRejected", unit="Count", value=outcome.rejected)
    if outcome.status == "failed":
        metrics.add_metric(name="UploadsFailed", unit="Count", value=1)
    return outcome.__dict__


def _load_dataset(chunks, upload, s3_object, source):
    # Imported here: a file of readings never loads the exchange.
    from citybrain.exchange.uploads import dataset_loader

    return dataset_loader()(chunks, upload, s3_object, source)

from chalice import Blueprint

from functions.http import body_of, principal, respond, route

bp = Blueprint(__name__)


@route(
    bp,
    "/v1/uploads",
    methods=["POST"],
    summary="Announce a file (readings, or a dataset's records) and get a presigned URL to PUT it to",
    body="citybrain.uploads.models:UploadIn",
    response="citybrain.uploads.responses:UploadTicket",
    status=201,
    errors=(400, 403, 404, 413),
)
def create_upload():
    from citybrain.composition import uploads
    from citybrain.exchange.audit import RequestFacts
    from citybrain.uploads.models import UploadIn

    caller = principal(bp.current_request)
    body = body_of(bp.current_request)
    # A load of a dataset is announced by its owner; a refusal is audited like a records POST's.
    facts = RequestFacts("POST", "/v1/uploads", {}, body)
    return respond(uploads().create(caller, UploadIn.model_validate(body), facts))


@route(
    bp,
    "/v1/uploads/{upload_id}",
    methods=["GET"],
    summary="What reading an uploaded file came to (the uploader or the data bureau)",
    response="citybrain.uploads.responses:Upload",
    errors=(400, 403, 404),
)
def get_upload(upload_id):
    from citybrain.composition import uploads

    caller = principal(bp.current_request)
    return respond(uploads().get(caller, upload_id))


@bp.on_sqs_message(queue="citybrain-uploads", batch_size=1)
def process_uploads(event):
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=event.to_dict(), record_handler=_read_notified, processor=processor, context=event.context
    )


def _read_notified(record, lambda_context=None):
    from citybrain.composition import once_per_object
    from citybrain.core.observability import logger
    from citybrain.uploads.models import parse_s3_notification

    logger.set_correlation_id(record.message_id)
    read_once = once_per_object(_read_object, lambda_context)
    # An s3:TestEvent names no object: nothing to do, and the message is done.
    return [read_once(s3_object=obj.model_dump()) for obj in parse_s3_notification(record.body)]


def _read_object(s3_object):
    from citybrain.composition import upload_intake
    from citybrain.uploads.models import S3Object

    return upload_intake().process(S3Object(**s3_object)).__dict__

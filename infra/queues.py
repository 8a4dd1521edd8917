"""Which queue of infra/resources.json an `on_sqs_message` handler reads.

Chalice takes a queue *name* in `@on_sqs_message(queue=...)`; ours are
placeholders, `citybrain-<name>`, standing for the `<Name>Queue` resource (whose
real name CloudFormation generates). The cloud packaging and the local trigger
pump both resolve them here, so a new queue needs no mapping anywhere else.
"""

from __future__ import annotations

PLACEHOLDER_PREFIX = "citybrain-"


def queue_logical_id(queue_name: str) -> str:
    """`citybrain-readings` -> `ReadingsQueue`; `citybrain-device-events` -> `DeviceEventsQueue`."""
    if not queue_name.startswith(PLACEHOLDER_PREFIX) or queue_name == PLACEHOLDER_PREFIX:
        raise ValueError(f"queue {queue_name!r} is not a {PLACEHOLDER_PREFIX}<name> placeholder")
    words = queue_name.removeprefix(PLACEHOLDER_PREFIX).split("-")
    return "".join(word.capitalize() for word in words) + "Queue"


def queue_name_of_arn(queue_arn: str) -> str:
    """The queue name at the end of an SQS ARN (handlers may give `queue_arn=` instead of `queue=`)."""
    return queue_arn.rsplit(":", 1)[-1]


def queue_name_of(queue: str | None, queue_arn: str | None) -> str:
    """The queue an SQS event source reads: its `queue=`, else the name in its `queue_arn=` (Chalice takes one)."""
    if queue:
        return queue
    if queue_arn is None:
        raise ValueError("the SQS event source names neither a queue nor a queue ARN")
    return queue_name_of_arn(queue_arn)

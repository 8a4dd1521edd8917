"""The triggers Lambda would fire, for the app's handlers on the local stack.

- every `on_sqs_message` handler: its queue is long-polled and each batch is
  delivered as Lambda's SQS event source mapping does. Messages the handler
  reports in `batchItemFailures` (or all, if it raises) stay on the queue and
  come back; the queue's redrive policy parks them in the dead-letter queue
  after maxReceiveCount receives (moto applies it on receive, as SQS does).
  The cloud retries after the queue's visibility timeout (minutes); locally a
  failed message is made visible again after CITYBRAIN_RETRY_DELAY_SECONDS.
- a batch is received for IN_FLIGHT_SECONDS, renewed while its handler runs:
  if the pump dies (or the emulator restarts from a snapshot taken while the
  batch was out), the batch is back on the queue within seconds, not after the
  queue's visibility timeout, and the supervisor's new pump delivers it again
  (the handlers are idempotent: a redelivered reading is a duplicate).
- every `schedule` handler: fired on its rate or cron expression, read on the
  district's local clock (Asia/Shanghai).

Handlers run one at a time: in Lambda each function has its own sandbox, and
the app's module-level state (logger keys, metrics) must not be shared between
two invocations running at once.

    python -m infra.local.pump     (started by `python -m infra.local`)
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from infra.local import runtime, schedules
from infra.local.settings import watch_parent

log = logging.getLogger("pump")
MAX_RECEIVE = 10  # SQS returns at most 10 messages per ReceiveMessage
WAIT_SECONDS = 1
IN_FLIGHT_SECONDS = 10  # how long a received batch stays invisible without renewal
RENEW_SECONDS = 3  # how often a batch whose handler still runs is renewed


class Invoker:
    """Runs a handler as Lambda would, one invocation at a time."""

    def __init__(self, app, region: str):
        self.app = app
        self.region = region
        self.lock = threading.Lock()

    def __call__(self, name: str, event: dict[str, Any]) -> Any:
        handler = self.app.handler_map[name]
        context = runtime.lambda_context(name, self.region, **runtime.function_settings(name))
        with self.lock:
            return handler(event, context)


class BatchReport:
    """One log line per trigger at most every `every` seconds: a lone batch
    shows at once, a steady stream (the demo feed) as a summary."""

    def __init__(self, name: str, every: float = 15.0):
        self.name = name
        self.every = every
        self.last = 0.0
        self.batches = self.messages = 0
        self.ms = 0.0

    def add(self, messages: int, elapsed_ms: float) -> None:
        self.batches += 1
        self.messages += messages
        self.ms += elapsed_ms
        now = time.monotonic()
        if now - self.last < self.every:
            return
        if self.batches == 1:
            log.info("%s: %d message(s) done [%.0f ms]", self.name, self.messages, self.ms)
        else:
            log.info(
                "%s: %d batches, %d messages done in the last %.0f s [%.0f ms per batch]",
                self.name,
                self.batches,
                self.messages,
                min(now - self.last, 999),
                self.ms / self.batches,
            )
        self.last = now
        self.batches = self.messages = 0
        self.ms = 0.0


class SqsTrigger:
    def __init__(self, name: str, queue_url: str, batch_size: int, invoke: Invoker, retry_delay: int, region: str):
        import boto3

        self.name = name
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.invoke = invoke
        self.retry_delay = retry_delay
        self.region = region
        self.sqs = boto3.client("sqs")
        self.report = BatchReport(name)
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def receive(self) -> list[dict[str, Any]]:
        """Up to batch_size messages: one long poll, then what is ready at once."""
        messages: list[dict[str, Any]] = []
        wait = WAIT_SECONDS
        while len(messages) < self.batch_size:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, self.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                VisibilityTimeout=IN_FLIGHT_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            if len(got) < MAX_RECEIVE:
                break
            wait = 0
        return messages

    def poll_once(self) -> int:
        """Deliver one batch; returns how many messages it held."""
        messages = self.receive()
        if not messages:
            return 0
        event = runtime.sqs_event(messages, self.queue_arn, self.region)
        started = time.monotonic()
        try:
            with self.in_flight(messages):
                response = self.invoke(self.name, event)
        except Exception:
            log.error(
                "%s raised on a batch of %d; all stay on the queue\n%s",
                self.name,
                len(messages),
                traceback.format_exc().rstrip(),
            )
            failed = {r["messageId"] for r in event["Records"]}
        else:
            failed = runtime.failed_message_ids(event, response)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        for start in range(0, len(done), MAX_RECEIVE):
            chunk = done[start : start + MAX_RECEIVE]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for start in range(0, len(retry), MAX_RECEIVE):
            chunk = retry[start : start + MAX_RECEIVE]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay}
                    for i, m in enumerate(chunk)
                ],
            )
        elapsed = (time.monotonic() - started) * 1000
        if retry:
            counts = ", ".join(
                f"{m['MessageId'][:8]} (receive #{m['Attributes'].get('ApproximateReceiveCount')})" for m in retry
            )
            log.warning(
                "%s: %d message(s), %d done, %d failed and will be retried in %ds: %s [%.0f ms]",
                self.name,
                len(messages),
                len(done),
                len(retry),
                self.retry_delay,
                counts,
                elapsed,
            )
        else:
            self.report.add(len(messages), elapsed)
        return len(messages)

    @contextlib.contextmanager
    def in_flight(self, messages: list[dict[str, Any]]) -> Iterator[None]:
        """Keep a batch invisible while its handler runs (a long report, a big upload)."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(RENEW_SECONDS):
                for start in range(0, len(messages), MAX_RECEIVE):
                    chunk = messages[start : start + MAX_RECEIVE]
                    try:
                        self.sqs.change_message_visibility_batch(
                            QueueUrl=self.queue_url,
                            Entries=[
                                {
                                    "Id": str(i),
                                    "ReceiptHandle": m["ReceiptHandle"],
                                    "VisibilityTimeout": IN_FLIGHT_SECONDS,
                                }
                                for i, m in enumerate(chunk)
                            ],
                        )
                    except Exception as exc:  # the emulator restarting: the batch may come back; it is idempotent
                        log.warning("%s: could not renew a batch in flight: %s", self.name, exc)

        renewer = threading.Thread(target=renew, name=f"{self.name}-in-flight", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # the emulated AWS going away at shutdown, or a hiccup
                if stop.is_set():
                    return
                log.error("%s: polling failed: %s", self.name, exc)
                stop.wait(1)


class ScheduleTrigger:
    def __init__(self, name: str, expression: str, invoke: Invoker, region: str, now: datetime):
        self.name = name
        self.expression = expression
        self.schedule = schedules.parse(expression, anchor=now)
        self.invoke = invoke
        self.region = region

    def run(self, stop: threading.Event) -> None:
        # EventBridge evaluates cron expressions in UTC; so does the local stack.
        now = datetime.now(UTC)
        while not stop.is_set():
            due = self.schedule.next_after(now)
            if due is None:
                log.info("%s: %s fires no more", self.name, self.expression)
                return
            log.info("%s: next run %s", self.name, due.isoformat())
            while not stop.is_set() and (left := (due - datetime.now(UTC)).total_seconds()) > 0:
                stop.wait(min(left, 30))  # re-check: the machine may sleep
            if stop.is_set():
                return
            started = time.monotonic()
            try:
                self.invoke(self.name, runtime.scheduled_event(self.name, due, self.region))
                log.info(
                    "%s: run for %s done [%.0f ms]", self.name, due.isoformat(), (time.monotonic() - started) * 1000
                )
            except Exception:
                # EventBridge's async invocation retries twice; a local run just reports it.
                log.error("%s raised on its %s run\n%s", self.name, due.isoformat(), traceback.format_exc().rstrip())
            now = due


def discover(
    app, environ: dict[str, str], invoke: Invoker, region: str, retry_delay: int, now: datetime
) -> list[SqsTrigger | ScheduleTrigger]:
    """The triggers of every event handler the app registers."""
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    from citybrain.core.config import env_name
    from infra.queues import queue_logical_id, queue_name_of

    triggers: list[SqsTrigger | ScheduleTrigger] = []
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            queue = queue_name_of(source.queue, source.queue_arn)
            variable = env_name(queue_logical_id(queue))
            if variable not in environ:
                raise SystemExit(
                    f"{source.name} reads queue {queue!r}, but the stack has no {variable}: "
                    f"add {queue_logical_id(queue)} to infra/resources.json (resource and output)"
                )
            triggers.append(SqsTrigger(source.name, environ[variable], source.batch_size, invoke, retry_delay, region))
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            triggers.append(ScheduleTrigger(source.name, text, invoke, region, now))
        else:
            log.warning("%s: %s triggers are not emulated locally", source.name, type(source).__name__)
    return triggers


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watch_parent(stop)

    region = os.environ["AWS_DEFAULT_REGION"]
    retry_delay = int(os.environ.get("CITYBRAIN_RETRY_DELAY_SECONDS", "2"))
    app = runtime.load_app()
    invoke = Invoker(app, region)
    triggers = discover(app, dict(os.environ), invoke, region, retry_delay, datetime.now(UTC))
    threads = []
    for trigger in triggers:
        if isinstance(trigger, SqsTrigger):
            log.info("%s <- SQS %s (batch %d)", trigger.name, trigger.queue_arn.rsplit(":", 1)[-1], trigger.batch_size)
        else:
            log.info("%s <- schedule %s (Asia/Shanghai)", trigger.name, trigger.expression)
        thread = threading.Thread(target=trigger.run, args=(stop,), name=trigger.name, daemon=True)
        thread.start()
        threads.append(thread)
    # One write: print() writes the newline separately, and unbuffered (PYTHONUNBUFFERED) a
    # trigger thread's log line could land between the two on the shared pipe.
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stop.wait()
    for thread in threads:
        thread.join(WAIT_SECONDS + 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

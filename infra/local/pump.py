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

Several batches at once, as Lambda's pollers run several invocations of a
function: the readings trigger is served by CITYBRAIN_PUMP_WORKERS worker
processes (2 by default; each its own GIL, each one batch at a time), the other
queue triggers by one more worker process, and the schedules by the pump's own
process, so that a long scheduled report never holds up a queue. Within one
process handlers run one at a time: in Lambda each invocation has its own
sandbox, and the app's module-level state (logger keys, metrics) must not be
shared between two invocations running at once. CITYBRAIN_PUMP_WORKERS=0 runs
every trigger in the pump's own process, as before. A worker that dies takes
the pump down with it (the supervisor starts a new pump); workers exit within a
second of the pump.

A batch is gathered as the event source mapping does: up to `batch_size`
messages (and 6 MB), waiting at most `maximum_batching_window_in_seconds` for
a full batch once the first message has arrived (at most
CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS, when set: the tests store at once).

    python -m infra.local.pump     (started by `python -m infra.local`)
    python -m infra.local.pump --worker process_readings   (started by the pump)
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
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
MAX_PAYLOAD = 6 * 1024 * 1024  # Lambda's limit on an invocation's event: a batch stops growing there
WORKERS_VARIABLE = "CITYBRAIN_PUMP_WORKERS"
WINDOW_VARIABLE = "CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS"
DEFAULT_WORKERS = 2
SCALED = ("process_readings",)  # the triggers served by CITYBRAIN_PUMP_WORKERS processes


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
    def __init__(
        self,
        name: str,
        queue_url: str,
        batch_size: int,
        invoke: Invoker,
        retry_delay: int,
        region: str,
        batching_window: float = 0,
    ):
        import boto3

        self.name = name
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.batching_window = batching_window
        self.invoke = invoke
        self.retry_delay = retry_delay
        self.region = region
        self.sqs = boto3.client("sqs")
        self.report = BatchReport(name)
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def receive(self, into: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Up to batch_size messages: one long poll, then what is ready at once, or, with a
        batching window, what arrives within the window after the first message (into
        `into`, so that the batch can be kept in flight while it is gathered)."""
        messages: list[dict[str, Any]] = [] if into is None else into
        wait = WAIT_SECONDS
        deadline = 0.0
        payload = 0
        while len(messages) < self.batch_size and payload < MAX_PAYLOAD:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(MAX_RECEIVE, self.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                VisibilityTimeout=IN_FLIGHT_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            payload += sum(len(m["Body"].encode()) for m in got)
            if not messages:
                break
            if not self.batching_window:
                if len(got) < MAX_RECEIVE:
                    break
                wait = 0
                continue
            if not deadline:
                deadline = time.monotonic() + self.batching_window
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # A long poll returns as soon as a message is there; under a second, poll briefly.
            wait = 1 if left >= 1 and len(got) < MAX_RECEIVE else 0
            if not wait and len(got) < MAX_RECEIVE:
                time.sleep(min(left, 0.05))
        return messages

    def poll_once(self) -> int:
        """Deliver one batch; returns how many messages it held."""
        if self.batching_window:
            messages: list[dict[str, Any]] = []
            with self.in_flight(messages):  # a window longer than IN_FLIGHT_SECONDS must not lose the batch
                self.receive(messages)
        else:
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
                held = list(messages)  # a batch being gathered grows meanwhile
                for start in range(0, len(held), MAX_RECEIVE):
                    chunk = held[start : start + MAX_RECEIVE]
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
            window = float(getattr(source, "maximum_batching_window_in_seconds", 0) or 0)
            if WINDOW_VARIABLE in environ:  # at most this long locally (the tests: storing at once)
                window = min(window, _seconds(environ[WINDOW_VARIABLE]))
            triggers.append(
                SqsTrigger(source.name, environ[variable], source.batch_size, invoke, retry_delay, region, window)
            )
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            triggers.append(ScheduleTrigger(source.name, text, invoke, region, now))
        else:
            log.warning("%s: %s triggers are not emulated locally", source.name, type(source).__name__)
    return triggers


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= 300:
        raise SystemExit(f"{WINDOW_VARIABLE}={text!r}: seconds from 0 to 300")
    return seconds


def workers_wanted(environ: dict[str, str]) -> int:
    text = environ.get(WORKERS_VARIABLE, str(DEFAULT_WORKERS))
    try:
        workers = int(text)
    except ValueError:
        raise SystemExit(f"{WORKERS_VARIABLE}={text!r}: a whole number of worker processes (0: none)") from None
    if workers < 0:
        raise SystemExit(f"{WORKERS_VARIABLE}={text!r}: a whole number of worker processes (0: none)")
    return workers


def worker_groups(triggers: list[SqsTrigger | ScheduleTrigger], workers: int) -> list[list[str]]:
    """The SQS triggers each worker process serves: one process per SCALED trigger and
    worker, one process for the others. Schedules stay in the pump's own process."""
    queues = [t.name for t in triggers if isinstance(t, SqsTrigger)]
    if not workers:
        return []
    groups = [[name] for name in queues if name in SCALED for _ in range(workers)]
    others = [name for name in queues if name not in SCALED]
    return groups + ([others] if others else [])


class Worker:
    """A worker process: the same module with --worker, its output passed on as the pump's."""

    def __init__(self, names: list[str]):
        self.names = names
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.pump", "--worker", ",".join(names)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.follower = threading.Thread(target=self._follow, name=f"worker-{self.process.pid}", daemon=True)
        self.follower.start()

    def _follow(self) -> None:
        assert self.process.stdout is not None  # stdout=PIPE
        for line in self.process.stdout:
            if line.rstrip("\n") == "ready":
                self.ready.set()
            else:
                sys.stdout.write(line if line.endswith("\n") else line + "\n")
                sys.stdout.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()

    def wait(self, seconds: float) -> None:
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            log.warning("worker %s did not stop within %.0f s; killing it", ",".join(self.names), seconds)
            self.process.kill()
            self.process.wait()


def _start(triggers: list[SqsTrigger | ScheduleTrigger], stop: threading.Event) -> list[threading.Thread]:
    threads = []
    for trigger in triggers:
        if isinstance(trigger, SqsTrigger):
            window = f", window {trigger.batching_window:g} s" if trigger.batching_window else ""
            log.info(
                "%s <- SQS %s (batch %d%s)",
                trigger.name,
                trigger.queue_arn.rsplit(":", 1)[-1],
                trigger.batch_size,
                window,
            )
        else:
            log.info("%s <- schedule %s (Asia/Shanghai)", trigger.name, trigger.expression)
        thread = threading.Thread(target=trigger.run, args=(stop,), name=trigger.name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _say_ready() -> None:
    # One write: print() writes the newline separately, and unbuffered (PYTHONUNBUFFERED) a
    # trigger thread's log line could land between the two on the shared pipe.
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    serve = args[1].split(",") if len(args) == 2 and args[0] == "--worker" else None
    if args and serve is None:
        raise SystemExit("usage: python -m infra.local.pump [--worker TRIGGER[,TRIGGER...]]")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set() if serve is None else None)  # workers: the pump stops them
    watch_parent(stop)

    region = os.environ["AWS_DEFAULT_REGION"]
    retry_delay = int(os.environ.get("CITYBRAIN_RETRY_DELAY_SECONDS", "2"))
    workers = 0 if serve is not None else workers_wanted(dict(os.environ))
    app = runtime.load_app()
    invoke = Invoker(app, region)
    triggers = discover(app, dict(os.environ), invoke, region, retry_delay, datetime.now(UTC))
    groups = worker_groups(triggers, workers)
    mine: list[SqsTrigger | ScheduleTrigger]
    if serve is not None:
        mine = [t for t in triggers if isinstance(t, SqsTrigger) and t.name in serve]
    else:
        elsewhere = {name for group in groups for name in group}
        mine = [t for t in triggers if t.name not in elsewhere]
    started = [Worker(group) for group in groups]
    threads = _start(mine, stop)
    exit_code = 0
    try:
        while not all(w.ready.is_set() for w in started):
            if stop.wait(0.1):
                break
            if dead := [w for w in started if w.process.poll() is not None]:
                raise SystemExit(f"worker {','.join(dead[0].names)} exited before it was ready")
        if started:
            log.info("%d worker processes: %s", len(started), "; ".join(",".join(w.names) for w in started))
        _say_ready()
        while not stop.wait(0.5):
            if dead := [w for w in started if w.process.poll() is not None]:
                log.error(
                    "worker %s exited (code %s); the pump stops so that the supervisor starts it again",
                    ",".join(dead[0].names),
                    dead[0].process.returncode,
                )
                exit_code = 1
                stop.set()
    finally:
        stop.set()
        for worker in started:
            worker.stop()
        for thread in threads:
            thread.join(WAIT_SECONDS + 5)
        for worker in started:
            worker.wait(WAIT_SECONDS + 30)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

"""A local stack that keeps the district: stopped and started again on the same
directory it resumes where it stopped; a component killed with SIGKILL while
readings pour in is restarted by the supervisor, and afterwards every reading
that was accepted is stored exactly once (rollup counts exact, nothing in a
dead-letter queue). The emulator keeps its state in a snapshot: what was
acknowledged before the snapshot preceding its death survives; what came in
after it (the loss window, at most a snapshot interval plus a snapshot's write)
may be lost, and must then be lost whole, never half-counted."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from citybrain.core.timeutil import LOCAL_TZ
from infra.local.exchange_demo import seed_exchange_demo
from tests.e2e.conftest import RunningStack, launch

SNAPSHOT_SECONDS = 1  # the emulator's snapshot interval in these tests (2 s by default)
DEVICES = [f"durable-air-{n:02d}" for n in range(4)]


@pytest.fixture
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("durable")


@pytest.fixture
def running(workdir):
    """Stacks started on `workdir`; any still running at the end is stopped."""
    stacks: list[RunningStack] = []

    def start(**settings: str) -> RunningStack:
        stack = launch(workdir, demo=False, settings={"CITYBRAIN_SNAPSHOT_SECONDS": str(SNAPSHOT_SECONDS), **settings})
        stacks.append(stack)
        return stack

    yield start
    for stack in stacks:
        stack.stop()


# -- what a department's gateway does, and what the tables hold --------------------------


@dataclass
class Gateway:
    """Posts a batch of readings (one per device) every `every` seconds, each observed a second
    after the previous one, and notes when each batch was acknowledged."""

    stack: RunningStack
    key: str
    every: float = 0.15
    acknowledged: list[tuple[float, list[tuple[str, int]]]] = field(default_factory=list)  # (time.time(), readings)
    # Posted without a 202: the API may have queued them before it died, so they may be stored (once).
    unanswered: set[tuple[str, int]] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    clock: int = field(default_factory=lambda: int(time.time() * 1000) - 3_600_000)

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.clock += 1000
            readings = [(device, self.clock) for device in DEVICES]
            body = {"readings": [{"device_id": d, "observed_at": t, "values": {"pm25": 35.0}} for d, t in readings]}
            try:
                response = self.stack.post("/v1/readings", self.key, body)
            except Exception:  # the API being restarted
                self.unanswered.update(readings)
                continue
            if response.status_code == 202 and response.json()["accepted"] == len(readings):
                self.acknowledged.append((time.time(), readings))
            else:  # the emulator being restarted: the API could not queue them all, and said so
                self.unanswered.update(readings)

    def __enter__(self) -> Gateway:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stop.set()
        self.thread.join(30)

    def acknowledged_between(self, start: float, end: float) -> set[tuple[str, int]]:
        return {r for at, batch in self.acknowledged if start <= at < end for r in batch}


def stored(stack: RunningStack) -> set[tuple[str, int]]:
    """Every reading in the readings table: a chunk's readings (one device-hour of a batch, `r`
    its rows [t, values, ...] as JSON), or one reading an item as stored before chunks."""
    table = stack.resources()["CITYBRAIN_READINGS_TABLE"]
    found = set()
    for device in DEVICES:
        for item in _query(stack, table, device, None):
            if "r" in item:
                found.update((device, int(row[0])) for row in json.loads(item["r"]["S"]))
            else:
                found.add((device, int(item["t"]["N"])))
    return found


def rollup_counts(stack: RunningStack) -> Counter:
    table = stack.resources()["CITYBRAIN_ROLLUPS_TABLE"]
    counts: Counter = Counter()
    for device in DEVICES:
        for item in _query(stack, table, device, None):
            counts[(device, item["hour"]["S"])] += int(item["count"]["N"])
    return counts


def _query(stack: RunningStack, table: str, device: str, attribute: str | None) -> list:
    dynamodb = stack.client("dynamodb")
    items: list = []
    arguments = {
        "TableName": table,
        "KeyConditionExpression": "device_id = :d",
        "ExpressionAttributeValues": {":d": {"S": device}},
    }
    while True:
        page = dynamodb.query(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [int(item[attribute]["N"]) for item in items] if attribute else items


def hour_of(t: int) -> str:
    return datetime.fromtimestamp(t / 1000, LOCAL_TZ).strftime("%Y-%m-%dT%H")


def assert_counted_once(stack: RunningStack, readings: set[tuple[str, int]]) -> None:
    """Every stored reading is in its hour's rollup once; the dead-letter queues are empty."""
    expected = Counter((device, hour_of(t)) for device, t in readings)
    assert rollup_counts(stack) == expected
    sqs = stack.client("sqs")
    for name, url in stack.resources().items():
        if name.endswith("DEAD_LETTER_QUEUE"):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0", name


# -- the components, as processes ------------------------------------------------------------


def component_pid(stack: RunningStack, module: str) -> int:
    """The process of a component (infra.local.pump, .api, .server) that the stack runs now."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:"))
        if parent == stack.process.pid and module.encode() in command:
            return int(entry.name)
    raise AssertionError(f"no {module} process under the stack\n{stack.log_tail()}")


def kill_and_wait_for_restart(stack: RunningStack, component: str, module: str) -> None:
    said = f"{component} restarted; ready in"
    before = stack.log_path.read_text(errors="replace").count(said)
    os.kill(component_pid(stack, module), signal.SIGKILL)
    stack.eventually(
        lambda: stack.log_path.read_text(errors="replace").count(said) > before,
        timeout=60,
        what=f"the supervisor restarting {component}",
    )
    assert f"{component} died (killed by SIGKILL); restarting it" in stack.log_path.read_text(errors="replace")


def snapshot_taken_at(stack: RunningStack) -> float:
    status = stack.http.get(stack.aws_endpoint + "/_citybrain/persistence", timeout=5).json()
    return status["taken_at"] or 0.0


# -- the tests -------------------------------------------------------------------------------------


def test_a_killed_component_is_restarted_and_every_accepted_reading_is_stored_once(running):
    stack = running()
    key = stack.department("durable-environment", "区生态环境局（持久）")
    for device in DEVICES:
        stack.device(key, device)

    with Gateway(stack, key) as gateway:
        stack.eventually(lambda: len(gateway.acknowledged) >= 10, timeout=30, what="the gateway under way")
        kill_and_wait_for_restart(stack, "pump", "infra.local.pump")  # batches in flight come back to the new pump
        time.sleep(1)
        kill_and_wait_for_restart(stack, "api", "infra.local.api")
        time.sleep(1)
        # The emulator: what was acknowledged before its last snapshot must come back from that snapshot.
        stack.eventually(lambda: snapshot_taken_at(stack) > time.time() - SNAPSHOT_SECONDS - 2, what="a snapshot")
        safe_until = snapshot_taken_at(stack)
        killed_at = time.time()
        kill_and_wait_for_restart(stack, "aws", "infra.local.server")
        back_at = time.time()
        stack.eventually(lambda: len(gateway.acknowledged_between(back_at, float("inf"))) >= 20, what="posting again")

    must_survive = gateway.acknowledged_between(0, safe_until) | gateway.acknowledged_between(back_at, float("inf"))
    may_be_lost = gateway.acknowledged_between(safe_until, back_at)
    may_be_stored = gateway.unanswered
    assert killed_at - safe_until < SNAPSHOT_SECONDS + 3  # the window this test tolerates losing
    stack.eventually(lambda: must_survive <= stored(stack), timeout=60, what="every safe accepted reading stored")
    time.sleep(2)  # anything still queued or in flight (redelivered batches) settles
    have = stored(stack)
    assert must_survive <= have and have <= must_survive | may_be_lost | may_be_stored
    assert_counted_once(stack, have)


def test_a_restarted_stack_resumes_the_district_and_a_fresh_one_starts_empty(running):
    first = running()
    keys = {}
    for department_id, name in (("health", "区卫生健康局"), ("safety", "区应急管理局")):
        keys[department_id] = first.department(department_id, name)
    first.device(
        keys["safety"],
        "durable-water-01",
        "water_level",
        "safety",
        "九江镇",
        thresholds={"warning": 5.6, "guarantee": 7.2},
    )
    now = int(time.time() * 1000)
    readings = [
        {"device_id": "durable-water-01", "observed_at": now - 60_000 + i * 10_000, "values": {"waterLevel": level}}
        for i, level in enumerate([5.0, 5.2, 5.9, 6.1])
    ]
    assert first.post("/v1/readings", keys["safety"], {"readings": readings}).json()["accepted"] == 4

    def series(stack: RunningStack) -> list[dict]:
        return stack.get("/v1/devices/durable-water-01/readings", keys["safety"]).json()["items"]

    def alerts(stack: RunningStack) -> list[dict]:
        return stack.get("/v1/alerts", keys["safety"], device="durable-water-01").json()["items"]

    first.eventually(lambda: len(series(first)) == 4 and alerts(first), what="readings stored and the flood alert")
    seed_exchange_demo(lambda m, p, k, b: first.request(m, p, k, b), keys, first.admin_key, say=lambda _: None)
    before = {
        "series": series(first),
        "alerts": alerts(first),
        "device": first.get("/v1/devices/durable-water-01", keys["safety"]).json(),
        "datasets": first.get("/v1/datasets", keys["health"]).json()["items"],
        "audit": first.get("/v1/audit", keys["health"], dataset="civil-dibao").json()["items"],
        "verified": first.get("/v1/audit/verify", keys["safety"]).json(),
    }
    assert before["verified"]["ok"] is True
    assert first.stop() == 0

    second = running()  # the same directory, new ports
    # The API answers a moment before the supervisor says it is up: wait for the line.
    second.eventually(
        lambda: "resumed the district saved in" in second.log_path.read_text(errors="replace"),
        timeout=10,
        what="the stack saying it resumed the district",
    )
    for department_id, key in keys.items():  # every key still opens its department
        assert second.get("/v1/departments", key).status_code == 200, department_id
    assert series(second) == before["series"]
    assert alerts(second) == before["alerts"]
    assert second.get("/v1/devices/durable-water-01", keys["safety"]).json()["latest"] == before["device"]["latest"]
    assert second.get("/v1/datasets", keys["health"]).json()["items"] == before["datasets"]
    assert second.get("/v1/audit", keys["health"], dataset="civil-dibao").json()["items"] == before["audit"]
    verified = second.get("/v1/audit/verify", keys["safety"]).json()
    assert verified["ok"] is True and verified["entries"] == before["verified"]["entries"]
    assert second.stop() == 0

    third = running(CITYBRAIN_FRESH="1")
    assert third.get("/v1/departments", keys["health"]).status_code == 401
    assert third.get("/v1/devices/durable-water-01").status_code == 404

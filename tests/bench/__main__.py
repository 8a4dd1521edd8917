"""`make bench`: City Brain's performance figures, each measured side by side in one run.

The emulated AWS runs in its own process, so CPU time and memory measured here
are City Brain's (and botocore's), not the emulator's.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def emulated_aws():
    port = free_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "ap-east-1",
    }
    proc = subprocess.Popen(
        [PY, "-m", "infra.local.server", "--port", str(port)],
        cwd=ROOT,
        # The emulator knows its own process's credentials: the presigned upload URLs are signed with them.
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.05)
        os.environ.update(env)
        from infra.provision import provision

        resources = provision("citybrain-bench")
        os.environ.update(resources)
        yield {**env, **resources}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a heap of gigabytes takes moto a while to let go of
            proc.kill()
            proc.wait()


def reset_caches() -> None:
    from citybrain import composition as services
    from citybrain.core import aws, config

    aws.reset_clients()
    config.reset_settings()
    services.reset()


# -- (1) cold start -----------------------------------------------------------
def cold_start(rounds: int = 7) -> dict:
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([PY, "-c", code], cwd=ROOT, check=True, env={**os.environ, "AWS_DEFAULT_REGION": "ap-east-1"})
        return time.perf_counter() - start

    app, boto, empty = [], [], []
    for _ in range(rounds):  # interleaved, so machine noise hits both alike
        empty.append(run("pass"))
        app.append(run("import app"))
        boto.append(run("import boto3; boto3.client('sqs')"))
    base = statistics.median(empty)
    a, b = statistics.median(app) - base, statistics.median(boto) - base
    return {
        "import app (ms)": round(a * 1000),
        "import boto3 + client (ms)": round(b * 1000),
        "ratio": round(a / b, 2),
        "goal": "<= 1.5",
    }


# -- readings as the ingest path packs them -----------------------------------
def sample_readings(prefix: str, devices: int = 50, readings: int = 1000):
    """Air readings of a clean hour (no rule fires) and the registry records of their devices."""
    from citybrain.core import timeutil
    from citybrain.sensing.readings import Reading

    start = timeutil.parse_instant("2026-11-27T09:00:00+08:00")
    batch = []
    for i in range(readings):
        device = i % devices
        batch.append(
            Reading(
                device_id=f"{prefix}-{device:03d}",
                t=start + (i // devices) * 60_000,
                values={"pm25": 20.0 + i % 37, "pm10": 40.0 + i % 23, "no2": 18.5, "co": 0.7},
                type="air_quality",
                domain="environment",
                town="桂城街道",
            )
        )
    registry = {
        f"{prefix}-{d:03d}": {
            "id": f"{prefix}-{d:03d}",
            "type": "air_quality",
            "domain": "environment",
            "town": "桂城街道",
            "owner": "environment",
            "location": {"lat": 23.03, "lon": 113.15},
        }
        for d in range(devices)
    }
    return batch, registry


def sample_messages(prefix: str, with_devices: bool = True) -> list[str]:
    """Messages as the ingest path packs them (with the device profiles the rules read)."""
    from citybrain.sensing.queue import pack_messages

    batch, registry = sample_readings(prefix)
    return pack_messages(batch, {"kind": "bench", "id": prefix}, registry if with_devices else None)


def count_requests():
    import boto3

    counter: Counter = Counter()
    reset_caches()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call", lambda model, **_: counter.update([model.name]))
    return counter


# -- (2) AWS requests per 1,000 readings --------------------------------------
def requests_per_thousand() -> dict:
    """With the rules on (no alert firing) and, side by side, with them off."""
    from citybrain.composition import reading_pipeline
    from citybrain.core.rejections import RejectionStore
    from citybrain.sensing.archive import archive_readings
    from citybrain.sensing.pipeline import ReadingPipeline
    from citybrain.sensing.reading_store import DynamoReadingStore

    figures = {}
    for label, processor, messages in (
        ("rules on", lambda: reading_pipeline(), sample_messages("req")),
        (
            "rules off",
            lambda: ReadingPipeline(DynamoReadingStore(), RejectionStore(), archive_readings, lambda ids: {}),
            sample_messages("off", with_devices=False),
        ),
    ):
        counter = count_requests()
        for n, body in enumerate(messages):
            processor().process(body, f"{label}-{n}")
        figures[f"requests, {label}"] = sum(counter.values())
        figures[f"by operation, {label}"] = dict(counter.most_common())
    figures["messages"] = len(messages)
    figures["floor (ceil(1000/25) batch writes)"] = 40
    figures["goal"] = "<= 120; rules add none when nothing fires"
    return figures


# -- (4) processing CPU per reading over the validation floor -----------------
def processing_cpu(rounds: int = 5) -> dict:
    from citybrain.composition import reading_pipeline
    from citybrain.sensing.readings import Reading

    processing, floor = [], []
    for r in range(rounds):
        messages = sample_messages(f"cpu{r}")
        start = time.process_time()
        for body in messages:
            envelope = json.loads(body)
            for item in envelope["readings"]:
                Reading.model_validate(item)
        floor.append(time.process_time() - start)
        start = time.process_time()
        for n, body in enumerate(messages):
            reading_pipeline().process(body, f"c{r}-{n}")
        processing.append(time.process_time() - start)
    p, f = statistics.median(processing), statistics.median(floor)
    return {
        "processing (µs/reading)": round(p * 1000, 1),
        "json.loads + pydantic (µs/reading)": round(f * 1000, 1),
        "ratio": round(p / f, 1),
    }


# -- (5) rule evaluation per reading over the validation floor ---------------
def rule_cpu(rounds: int = 5) -> dict:
    from citybrain.alerts.rules import engine
    from citybrain.sensing.readings import Reading

    batch, registry = sample_readings("rule")
    series: dict[str, list] = {}
    for reading in batch:
        series.setdefault(reading.device_id, []).append((reading.t, reading.values))
    raw = [reading.model_dump() for reading in batch]
    evaluation, floor = [], []
    for _ in range(rounds):
        start = time.process_time()
        for item in raw:
            Reading.model_validate(item)
        floor.append(time.process_time() - start)
        start = time.process_time()
        for device_id, readings in series.items():
            engine.evaluate(registry[device_id], None, readings)
        evaluation.append(time.process_time() - start)
    e, f = statistics.median(evaluation), statistics.median(floor)
    return {
        "rules (µs/reading)": round(e * 1000, 1),
        "pydantic validation (µs/reading)": round(f * 1000, 1),
        "ratio": round(e / f, 2),
    }


def report_figures() -> dict:
    """(8) and (9); `python -m tests.bench reports` prints these alone."""
    from tests.bench import reports

    reset_caches()
    figures = {"(8) daily report, 1× vs 10× readings per device per hour": reports.readings_per_hour()}
    reset_caches()
    devices = int(os.environ.get("CITYBRAIN_BENCH_REPORT_DEVICES", "1000"))
    figures[f"(9) daily report, 100 vs {devices:,} devices"] = reports.device_count(sizes=(100, devices))
    return figures


def safety_figures() -> dict:
    """(10); `python -m tests.bench safety` prints it alone."""
    from tests.bench import safety

    return {
        "(10) big safety: AWS requests added to storing readings, and per fused alert": {
            **safety.readings_without_alerts(),
            **safety.fused_alerts(),
        }
    }


def sensing_figures() -> dict:
    """(11); `python -m tests.bench sensing` prints it alone."""
    from tests.bench import sensing

    reset_caches()
    return sensing.figures({k: v for k, v in os.environ.items() if k.startswith("CITYBRAIN_")})


def show(figures: dict) -> None:
    for name, values in sorted(figures.items()):
        print(name)
        for key, value in values.items():
            print(f"    {key}: {value}")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.bench import exchange, upload_memory

    only = {"reports": report_figures, "safety": safety_figures, "sensing": sensing_figures}
    if sys.argv[1:] and (len(sys.argv) != 2 or sys.argv[1] not in only):
        sys.exit("usage: python -m tests.bench [reports|safety|sensing]")
    if sys.argv[1:]:
        with emulated_aws():
            show(only[sys.argv[1]]())
        return
    figures = {"(1) cold start": cold_start(), "(5) rule evaluation per reading (air, AQI)": rule_cpu()}
    with emulated_aws():
        reset_caches()
        figures["(2) AWS requests per 1,000 readings (50 devices, one hour)"] = requests_per_thousand()
        reset_caches()
        figures["(4) processing CPU per reading"] = processing_cpu()
        reset_caches()
        figures["(3) upload function peak memory"] = upload_memory.measure(
            Path(tempfile.mkdtemp(prefix="citybrain-bench-"))
        )
        figures.update(report_figures())
        reset_caches()
        figures.update(safety_figures())
        reset_caches()
        figures["(7) catalog search, 100 vs 10,000 datasets"] = exchange.catalog_search()
        reset_caches()
        # Seeding a million rows into the emulator takes most of the ~25 minutes this figure needs.
        rows = int(os.environ.get("CITYBRAIN_BENCH_PULL_ROWS", "1000000"))
        figures[f"(6) pulling a {rows:,}-row dataset page by page"] = exchange.pull_memory(rows=rows)
    # Storage rates against an emulator of their own: the groups above leave it gigabytes of
    # tables, whose Scans (moto sorts a whole table for each page) would be measured instead.
    with emulated_aws():
        figures.update(sensing_figures())
    show(figures)


if __name__ == "__main__":
    main()

"""Figure (3): peak memory of the upload function while it reads a large CSV.

The function runs in a child process of its own (so the figure is its memory
alone), against the emulated AWS in another process: it streams the object
from S3, validates every row and forwards the good ones to the readings queue,
exactly as in Lambda.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEVICES = 50
ROOT = Path(__file__).resolve().parents[2]


def write_csv(path: Path, megabytes: int) -> int:
    """device_id,observed_at,pm25,pm10,no2,co rows, every device every 30 s, ending an hour ago."""
    target = megabytes * 1_000_000
    end = int(time.time()) - 3600
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("device_id,observed_at,pm25,pm10,no2,co\n")
        written = 0
        step = 0
        while written < target:
            t = (end - step * 30) * 1000
            block = "".join(
                f"bench-aq-{d:03d},{t},{20 + (step + d) % 60}.5,{40 + d % 30}.0,18.{d % 10},0.{d % 9 + 1}\n"
                for d in range(DEVICES)
            )
            out.write(block)
            written += len(block)
            rows += DEVICES
            step += 1
    return rows


def register_devices() -> None:
    from citybrain.sensing.device_store import DynamoDeviceStore

    store = DynamoDeviceStore()
    for d in range(DEVICES):
        store.create(
            {
                "id": f"bench-aq-{d:03d}",
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": 23.03, "lon": 113.15},
                "owner": "environment",
                "reporting_interval_seconds": 60,
            }
        )


def upload(path: Path) -> str:
    import requests

    from citybrain.composition import uploads
    from citybrain.departments.models import Principal
    from citybrain.uploads.models import UploadIn

    created = uploads().create(Principal("environment", "department"), UploadIn(filename=path.name))
    with path.open("rb") as body:
        response = requests.put(created["url"], data=body, headers=created.get("headers") or {}, timeout=600)
    response.raise_for_status()
    return created["id"]


def run_function(env: dict[str, str]) -> dict:
    """Deliver the uploads queue's notification to process_uploads in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.upload_memory", "--child"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child() -> None:
    import boto3

    interpreter = rss_mb()
    from app import app  # noqa: F401  the whole app, as Lambda loads it
    from functions.uploads import process_uploads
    from infra.local.runtime import lambda_context, sqs_event

    sqs = boto3.client("sqs")
    url = os.environ["CITYBRAIN_UPLOADS_QUEUE"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    region = os.environ["AWS_DEFAULT_REGION"]
    baseline = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    outcome = None
    while outcome is None:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if "s3:TestEvent" in message["Body"]:
                continue
            outcome = process_uploads(
                sqs_event([message], arn, region), lambda_context("process_uploads", region, 900, 1769)
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "interpreter_mb": round(interpreter, 1),
                "baseline_mb": round(baseline, 1),
                "peak_mb": round(peak, 1),
                "wall_s": round(time.perf_counter() - started, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
                "response": outcome,
            }
        )
    )


def measure(workdir: Path, sizes_mb: tuple[int, ...] = (20, 200)) -> dict:
    from citybrain.uploads.store import DynamoUploadStore

    register_devices()
    figures = {}
    for size in sizes_mb:
        path = workdir / f"bench-{size}mb.csv"
        rows = write_csv(path, size)
        upload_id = upload(path)
        result = run_function({})
        record = DynamoUploadStore().get(upload_id)
        path.unlink()
        figures[f"{size} MB CSV ({rows:,} rows)"] = {
            "status": record["status"],
            "accepted": record.get("accepted"),
            "rejected": record.get("rejected"),
            "peak above baseline (MB)": round(result["peak_mb"] - result["baseline_mb"], 1),
            "baseline after imports (MB)": result["baseline_mb"],
            "cpu (s)": result["cpu_s"],
            "rows per cpu second": round(rows / result["cpu_s"]) if result["cpu_s"] else None,
        }
    figures["goal"] = "flat, < 150 MB above baseline"
    return figures


if __name__ == "__main__" and "--child" in sys.argv:
    sys.path.insert(0, str(ROOT))
    child()

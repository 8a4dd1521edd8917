"""One-off measurements of the local stack's persistence (the figures in README):

    python -m infra.local.measure restart --readings 100000
        a district with that many readings stored (a short demo run, its readings,
        archive objects and rollups multiplied in the snapshot), then: how long the
        stack takes to start on it, how long a snapshot of it takes to write, its size
    python -m infra.local.measure loss --runs 5
        `kill -9` of every process of the stack while a gateway posts readings, a
        restart, and how long before the kill the newest lost acknowledged reading was

Not part of the test suite: the first takes minutes for large districts.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra.local.persistence import STATE_FILE, STATUS_PATH, dump, install
from infra.local.settings import ROOT

ADMIN_KEY = "cb_measure_admin_key_0000000000000000000000000000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    def __init__(self, local_dir: Path, demo: bool, pace: int = 20):
        self.aws_port, self.api_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CITYBRAIN_"))}
        env.update(
            CITYBRAIN_LOCAL_DIR=str(local_dir),
            CITYBRAIN_AWS_PORT=str(self.aws_port),
            CITYBRAIN_API_PORT=str(self.api_port),
            CITYBRAIN_ADMIN_KEY=ADMIN_KEY,
            CITYBRAIN_DEMO="1" if demo else "0",
            CITYBRAIN_DEMO_PACE=str(pace),
            AWS_DEFAULT_REGION="ap-east-1",
        )
        self.log = open(local_dir.parent / f"stack-{time.time_ns()}.log", "wb")  # noqa: SIM115
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.aws = f"http://127.0.0.1:{self.aws_port}"

    def wait_healthy(self, timeout: float = 900) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the stack exited ({self.process.returncode}); see {self.log.name}")
            try:
                with urllib.request.urlopen(self.api + "/v1/health", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"not healthy within {timeout} s")

    def persistence(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.aws + STATUS_PATH, timeout=5) as response:
            return json.loads(response.read())

    def call(self, method: str, path: str, body: Any = None, key: str = ADMIN_KEY) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.api + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"X-Api-Key": key, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None

    def stop(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(600)
        return time.monotonic() - started

    def pids(self) -> list[int]:
        """The stack and its components (they run in sessions of their own)."""
        found = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                if f"\nPPid:\t{self.process.pid}\n" in status:
                    found.append(int(entry.name))
        return found


# -- a large district -------------------------------------------------------------------------


def inflate(state_file: Path, readings: int) -> dict[str, int]:
    """Multiply the stored readings of a small district to `readings`, with the archive objects and
    rollups that many readings bring (in the proportions the demo run had)."""
    from infra import moto_fixes

    moto_fixes.apply()
    with open(state_file, "rb") as handle:
        taken_at, state = pickle.load(handle)
    install(state)
    dynamodb = state[("moto.dynamodb.models", "dynamodb_backends")]["accounts"]
    account = next(iter(dynamodb))
    region = next(iter(dynamodb[account]))
    tables = dynamodb[account][region].tables
    readings_table = next(t for name, t in tables.items() if "ReadingsTable" in name)
    rollups_table = next(t for name, t in tables.items() if "RollupsTable" in name)
    templates = [item for partition in readings_table.items.values() for item in partition.values()]
    rollup_templates = [item for partition in rollups_table.items.values() for item in partition.values()]
    s3 = state[("moto.s3.models", "s3_backends")]["accounts"][account]["aws"]
    archive = next(b for name, b in s3.buckets.items() if "archive" in name)
    archive_templates = list(archive.keys.values())
    have = len(templates)
    per_object = max(1, have // max(1, len(archive_templates)))
    added = {"readings": 0, "rollups": 0, "archive objects": 0}
    t0 = 1_700_000_000_000 + (time.time_ns() // 1_000_000) % 10**9 * 1000  # another run's clones stay distinct
    run = time.time_ns()
    for n in range(readings - have):
        template = templates[n % have]
        item = template.to_json()["Attributes"]
        item["t"] = {"N": str(t0 + n * 997)}
        readings_table.put_item(item)
        added["readings"] += 1
        if n % 60 == 0 and rollup_templates:  # a device-hour rollup per 60 readings: one a minute per device
            rollup = copy.deepcopy(rollup_templates[n % len(rollup_templates)].to_json()["Attributes"])
            rollup["hour"] = {"S": f"2023-{run}-{n // 60:08d}"}
            rollups_table.put_item(rollup)
            added["rollups"] += 1
        if n % per_object == 0 and archive_templates:
            source = archive_templates[n % len(archive_templates)]
            s3.put_object(archive.name, f"readings/date=2023-11-14/{run}-{n:012d}.jsonl", source.value)
            added["archive objects"] += 1
    from infra.local.persistence import capture

    temporary = state_file.with_suffix(".tmp")
    with open(temporary, "wb") as handle:
        dump((taken_at, capture()), handle)
    os.replace(temporary, state_file)
    return added


def measure_restart(readings: int, keep: Path | None) -> None:
    work = keep or Path(tempfile.mkdtemp(prefix="citybrain-measure-"))
    local = work / "local"
    local.mkdir(parents=True, exist_ok=True)
    print(f"working in {work}")
    if not (local / "aws" / STATE_FILE).exists():
        stack = Stack(local, demo=True)
        stack.wait_healthy()
        time.sleep(40)  # the demo sets up and its quickened feed stores a few thousand readings
        stack.stop()
    started = time.monotonic()
    # In a child process: the moto backends it builds must not be this process's.
    added = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from infra.local.measure import inflate; import json, pathlib; "
            f"print(json.dumps(inflate(pathlib.Path({str(local / 'aws' / STATE_FILE)!r}), {readings})))",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    size = (local / "aws" / STATE_FILE).stat().st_size
    print(
        f"inflated to {readings} readings in {time.monotonic() - started:.0f} s: added {added.strip()}; "
        f"snapshot {size / 1e6:.0f} MB"
    )

    stack = Stack(local, demo=False)
    up = stack.wait_healthy()
    status = stack.persistence()
    print(f"restart: healthy in {up:.1f} s (loading the snapshot: {status['restore_seconds']:.1f} s)")
    stack.call(
        "POST", "/v1/departments", {"id": f"measure-{time.time_ns()}", "name": "测量"}
    )  # a change: a snapshot falls due
    deadline = time.monotonic() + 600
    while stack.persistence()["taken_at"] == status["taken_at"] and time.monotonic() < deadline:
        time.sleep(0.2)
    after = stack.persistence()
    print(f"snapshot while running: written in {after['write_seconds']:.1f} s, {after['bytes'] / 1e6:.0f} MB")
    print(f"stop (SIGTERM, with the last snapshot): {stack.stop():.1f} s")


# -- the kill -9 loss window --------------------------------------------------------------------


def gateway(stack: Stack, key: str, device: str, acknowledged: list[tuple[float, int]], stop: threading.Event) -> None:
    """One reading at a time, as fast as they are acknowledged; notes when each was."""
    t = int(time.time() * 1000) - 3_600_000
    while not stop.is_set():
        t += 1000
        body = {"readings": [{"device_id": device, "observed_at": t, "values": {"pm25": 30}}]}
        try:
            status, _ = stack.call("POST", "/v1/readings", body, key)
        except OSError:
            return
        if status == 202:
            acknowledged.append((time.time(), t))
        time.sleep(0.05)


def measure_loss(runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="citybrain-loss-"))
    local = work / "local"
    local.mkdir(parents=True)
    windows = []
    for run in range(runs):
        stack = Stack(local, demo=False)
        stack.wait_healthy()
        department = f"loss-{run}"
        _, created = stack.call("POST", "/v1/departments", {"id": department, "name": "测量"})
        key = created["api_key"]
        device = f"loss-air-{run}"
        stack.call(
            "POST",
            "/v1/devices",
            {
                "id": device,
                "type": "air_quality",
                "domain": "environment",
                "town": "桂城街道",
                "location": {"lat": 23.03, "lon": 113.15},
            },
            key,
        )
        acknowledged: list[tuple[float, int]] = []
        stop = threading.Event()
        poster = threading.Thread(target=gateway, args=(stack, key, device, acknowledged, stop), daemon=True)
        poster.start()
        time.sleep(6 + run)  # a different phase of the snapshot cycle each run
        pids = stack.pids()
        killed_at = time.time()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        stop.set()
        stack.process.wait()
        poster.join(5)
        time.sleep(1.5)  # the components notice their parent is gone

        again = Stack(local, demo=False)
        again.wait_healthy()
        time.sleep(3)  # queued readings are processed
        status, body = again.call("GET", f"/v1/devices/{device}/readings?limit=1000", key=key)
        stored = {item["t"] for item in body["items"]} if status == 200 else set()
        lost = [at for at, t in acknowledged if t not in stored]
        window = killed_at - min(lost) if lost else 0.0
        windows.append(window)
        print(
            f"run {run + 1}: {len(acknowledged)} acknowledged, {len(lost)} lost; window {window:.2f} s before the kill"
        )
        again.stop()
    print(f"kill -9 loss window: at most {max(windows):.2f} s in {runs} runs (mean {sum(windows) / runs:.2f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    restart = sub.add_parser("restart")
    restart.add_argument("--readings", type=int, default=100_000)
    restart.add_argument("--keep", type=Path, help="work in this directory (and reuse its demo run)")
    loss = sub.add_parser("loss")
    loss.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if args.what == "restart":
        measure_restart(args.readings, args.keep)
    else:
        measure_loss(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

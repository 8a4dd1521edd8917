"""End-to-end tests: `python -m infra.local` (what `make up` runs) started as a
user starts it, on free loopback ports, and driven the way its users drive it —
over HTTP, and with boto3 against its emulated AWS where a test has to reach
behind the API (a message put on a queue directly, a dead-letter queue read).

Fixtures: `stack` (session-wide, empty district), `demo` (session-wide, the
demo district with a quickened feed) and `start_stack(demo=..., pace=...)` for
a test module that needs its own. A `RunningStack` offers the base URL,
the admin key, JSON requests with an API key, departments and devices in one
call, boto3 clients for the emulated AWS, the provisioned resource names, and
`eventually` for bounded polling."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "cb_e2e_admin_key_000000000000000000000000000000"
REGION = "ap-east-1"
STARTUP_SECONDS = 90
STOP_SECONDS = 20
# The shared demo's feed runs 20 times faster: its first (severe) pollution episode comes
# ~9 s into the feed and is over within a minute, at ~60 readings/s.
DEMO_PACE = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass
class RunningStack:
    process: subprocess.Popen
    api_url: str
    aws_endpoint: str
    aws_port: int
    api_port: int
    admin_key: str
    local_dir: Path
    log_path: Path
    http: requests.Session = field(default_factory=requests.Session)

    # -- HTTP, as clients call it ----------------------------------------------

    def request(
        self, method: str, path: str, key: str | None = None, body: Any = None, params: dict | None = None
    ) -> requests.Response:
        headers = {"X-Api-Key": key or self.admin_key}
        return self.http.request(method, self.api_url + path, json=body, params=params, headers=headers, timeout=30)

    def get(self, path: str, key: str | None = None, **params) -> requests.Response:
        return self.request("GET", path, key, params=params or None)

    def post(self, path: str, key: str | None, body: Any) -> requests.Response:
        return self.request("POST", path, key, body)

    def department(self, department_id: str, name: str = "测试部门") -> str:
        """A new department; returns its API key."""
        response = self.post("/v1/departments", self.admin_key, {"id": department_id, "name": name})
        assert response.status_code == 201, response.text
        return response.json()["api_key"]

    def device(
        self,
        key: str,
        device_id: str,
        type_: str = "air_quality",
        domain: str = "environment",
        town: str = "桂城街道",
        **extra,
    ) -> dict:
        body = {
            "id": device_id,
            "type": type_,
            "domain": domain,
            "town": town,
            "location": {"lat": 23.03, "lon": 113.15},
            **extra,
        }
        response = self.post("/v1/devices", key, body)
        assert response.status_code == 201, response.text
        return response.json()

    def upload(self, key: str, filename: str, content: bytes) -> str:
        """What a gateway does with a file: ask for a presigned URL, PUT the bytes there. Returns the upload id;
        follow it with `eventually` on GET /v1/uploads/{id}."""
        response = self.post("/v1/uploads", key, {"filename": filename})
        assert response.status_code == 201, response.text
        grant = response.json()
        put = self.http.request(
            grant.get("method", "PUT"), grant["url"], data=content, headers=grant.get("headers") or {}, timeout=60
        )
        assert put.status_code == 200, put.text
        return grant["id"]

    # -- behind the API: the emulated AWS -------------------------------------------

    def client(self, service: str):
        import boto3

        return boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION
        ).client(service, endpoint_url=self.aws_endpoint)

    def resources(self) -> dict[str, str]:
        """CITYBRAIN_* names of the provisioned resources (queue URLs, table and bucket names…)."""
        from citybrain.core.config import env_name

        stack = self.client("cloudformation").describe_stacks(StackName="citybrain-local")["Stacks"][0]
        return {env_name(o["OutputKey"]): o["OutputValue"] for o in stack.get("Outputs", [])}

    # -- waiting and stopping ---------------------------------------------------------

    def eventually(self, check: Callable[[], Any], timeout: float = 60, interval: float = 0.5, what: str = ""):
        """Poll until `check` returns something truthy; fail with the stack's log after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"not seen within {timeout:.0f} s: {what or check}\n{self.log_tail()}")
            assert self.process.poll() is None, f"the local stack exited\n{self.log_tail()}"
            time.sleep(interval)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "--- local stack log (tail) ---\n" + "\n".join(text[-lines:])

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the local stack did not stop within {STOP_SECONDS} s of SIGTERM\n{self.log_tail()}")


def launch(workdir: Path, demo: bool, pace: int = 1, settings: dict[str, str] | None = None) -> RunningStack:
    """The stack on fresh ports, its state in workdir/local (a second launch on the same workdir resumes
    it); `settings` adds or overrides CITYBRAIN_* variables."""
    aws_port, api_port = free_port(), free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CITYBRAIN_", "POWERTOOLS_"))}
    env.update(
        {
            "CITYBRAIN_AWS_PORT": str(aws_port),
            "CITYBRAIN_API_PORT": str(api_port),
            "CITYBRAIN_ADMIN_KEY": ADMIN_KEY,
            "CITYBRAIN_DEMO": "1" if demo else "0",
            "CITYBRAIN_DEMO_PACE": str(pace),
            "CITYBRAIN_RETRY_DELAY_SECONDS": "1",
            # An answer its response model does not describe is a 500 here, so the tests see the drift.
            "CITYBRAIN_STRICT_RESPONSES": "1",
            "CITYBRAIN_LOCAL_DIR": str(workdir / "local"),
            "AWS_DEFAULT_REGION": REGION,
            # Snapshots of the emulated state cost CPU that the other tests share; the tests of
            # persistence itself (test_durable_stack) set their own interval.
            "CITYBRAIN_SNAPSHOT_SECONDS": "10",
            # Readings stored at once rather than gathered for the event source's 5 s window.
            "CITYBRAIN_PUMP_BATCHING_WINDOW_SECONDS": "0.5",
            **(settings or {}),
        }
    )
    log_path = workdir / "stack.log"
    with open(log_path, "ab") as log:  # appended: a restarted stack's log follows the first one's
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = RunningStack(
        process,
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{aws_port}",
        aws_port,
        api_port,
        ADMIN_KEY,
        workdir / "local",
        log_path,
    )

    def healthy():
        if process.poll() is not None:
            pytest.fail(f"the local stack exited with {process.returncode}\n{stack.log_tail()}")
        try:
            return stack.http.get(stack.api_url + "/v1/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        stack.eventually(healthy, timeout=STARTUP_SECONDS, interval=0.25, what="GET /v1/health answering 200")
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="session")
def start_stack(tmp_path_factory):
    """start_stack(demo=False) -> RunningStack; every stack it starts is stopped at the end."""
    started: list[RunningStack] = []

    def start(demo: bool = False, pace: int = 1) -> RunningStack:
        stack = launch(tmp_path_factory.mktemp("stack"), demo, pace)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.stop()


@pytest.fixture(scope="session")
def stack(start_stack):
    """The local stack with an empty district, shared by the session; stopping it must be clean."""
    running = start_stack(demo=False)
    yield running
    code = running.stop()
    assert code == 0, f"the local stack exited {code} on SIGTERM\n{running.log_tail()}"
    assert port_is_free(running.api_port) and port_is_free(running.aws_port)


@pytest.fixture(scope="session")
def demo(start_stack):
    """The demo district, its feed DEMO_PACE times faster, shared by the modules that watch it.
    Ready once the district is set up: departments and devices registered, their keys written.
    Stopping it at the end must be as clean as stopping the empty one."""
    running = start_stack(demo=True, pace=DEMO_PACE)

    def keys_written():
        try:
            return json.loads((running.local_dir / "demo-keys.json").read_text())["departments"]
        except (OSError, ValueError):  # not yet, or being written
            return None

    running.eventually(keys_written, timeout=STARTUP_SECONDS, interval=0.5, what="the demo district set up")
    yield running
    code = running.stop()
    assert code == 0, f"the demo stack exited {code} on SIGTERM\n{running.log_tail()}"
    assert port_is_free(running.api_port) and port_is_free(running.aws_port)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium for a page's browser test (tests/e2e/chromium.py)."""
    from tests.e2e.chromium import chromium

    driver = chromium(tmp_path)
    yield driver
    driver.quit()

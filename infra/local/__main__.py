"""`make up`: City Brain on this machine, in the foreground.

    aws   moto server on 127.0.0.1:$CITYBRAIN_AWS_PORT (5000), provisioned from infra/resources.json
    api   the Chalice app on 127.0.0.1:$CITYBRAIN_API_PORT (8000)
    pump  SQS triggers and schedules, delivered to the handlers as Lambda would
    demo  the demo district and its live feed (CITYBRAIN_DEMO=0: an empty district)

Settings: CITYBRAIN_ADMIN_KEY (generated and printed if unset),
CITYBRAIN_RETRY_DELAY_SECONDS (2: how soon a failed message comes back),
CITYBRAIN_LOCAL_DIR (.local: where the demo keys are written), CITYBRAIN_DEMO_PACE
(1: how many times faster the demo feed runs), AWS_DEFAULT_REGION (ap-east-1).
Ctrl-C or SIGTERM stops everything; the emulated AWS keeps its state in memory
only, so each start is a fresh district.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request

from citybrain.core.config import env_name
from infra.local.console import Console
from infra.local.settings import ROOT, STACK_NAME, LocalSettings, aws_environment, function_environment


class StartupFailed(RuntimeError):
    pass


class LocalStack:
    def __init__(self, settings: LocalSettings, console: Console):
        self.settings = settings
        self.console = console
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False
        self.failed = threading.Event()
        self.failure = ""
        self.pump_ready = threading.Event()
        self.demo_stop = threading.Event()
        self.demo_thread: threading.Thread | None = None
        self.admin_key = settings.admin_key or ""  # none given: _bootstrap_admin generates one

    def say(self, text: str, component: str = "stack") -> None:
        self.console.block(component, text)

    # -- processes ------------------------------------------------------------

    def spawn(self, name: str, module: str, args: list[str], env: dict[str, str], on_line=None) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this process only; it stops the others in order
        )
        self.children.append((name, process))
        assert process.stdout is not None  # stdout=PIPE
        follower = self.console.follow(name, process.stdout, on_line)

        def watch() -> None:
            follower.join()
            code = process.wait()
            if not self.stopping:
                self.failure = f"{name} exited unexpectedly (code {code})"
                self.failed.set()

        threading.Thread(target=watch, name=f"watch-{name}", daemon=True).start()
        return process

    def _check(self) -> None:
        if self.failed.is_set():
            raise StartupFailed(self.failure)

    def _free(self, port: int, variable: str) -> None:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.settings.host, port))
            except OSError:
                raise StartupFailed(
                    f"port {port} on {self.settings.host} is in use; "
                    f"stop what holds it or choose another with {variable}=..."
                ) from None

    def _wait_until(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            self._check()
            if time.monotonic() > deadline:
                raise StartupFailed(f"{what} not ready after {timeout:.0f} s")
            time.sleep(0.1)

    @staticmethod
    def _answers(url: str, status: int | None = None) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return status is None or response.status == status
        except urllib.error.HTTPError:
            return status is None
        except OSError:
            return False

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        s = self.settings
        started = time.monotonic()
        self._free(s.aws_port, "CITYBRAIN_AWS_PORT")
        self._free(s.api_port, "CITYBRAIN_API_PORT")
        aws = aws_environment(s.aws_endpoint, s.region)
        os.environ.update(aws)
        self.spawn("aws", "infra.local.server", ["--host", s.host, "--port", str(s.aws_port)], dict(os.environ))
        self._wait_until("the emulated AWS", lambda: self._answers(f"{s.aws_endpoint}/moto-api/data.json"), 30)

        from infra.provision import provision

        stack = provision(STACK_NAME)
        os.environ.update(stack)
        self.say(
            f"provisioned {len(stack)} resources from infra/resources.json on {s.aws_endpoint} (region {s.region})"
        )
        self._bootstrap_admin()

        env = {
            **os.environ,
            **function_environment(),
            **stack,
            **aws,
            "CITYBRAIN_RETRY_DELAY_SECONDS": str(s.retry_delay_seconds),
        }

        def pump_said(line: str) -> None:
            if line == "ready":
                self.pump_ready.set()

        self.spawn("pump", "infra.local.pump", [], env, on_line=pump_said)
        self._wait_until("the trigger pump", self.pump_ready.is_set, 60)
        # The API comes last, so that a 200 from /v1/health means everything behind it is ready.
        self.spawn("api", "infra.local.api", ["--host", s.host, "--port", str(s.api_port)], env)
        self._wait_until("the API", lambda: self._answers(f"{s.api_url}/v1/health", 200), 60)
        self.say(
            f"City Brain is up in {time.monotonic() - started:.1f} s: API {s.api_url}, "
            f"emulated AWS {s.aws_endpoint}; Ctrl-C stops it"
        )
        if s.demo:
            self._start_demo()
        else:
            from infra.local.demo import empty_district_hint

            self.say(empty_district_hint(s.api_url, self.admin_key))
        self.say(alerts_hint(s.aws_endpoint, s.region, stack[env_name("AlertsTopic")]), "alerts")

    def _bootstrap_admin(self) -> None:
        from citybrain.composition import departments
        from citybrain.departments.service import new_key

        if self.admin_key:
            self.say("admin key: the one in CITYBRAIN_ADMIN_KEY")
        else:
            self.admin_key = new_key()
            self.say(f"admin key (generated; set CITYBRAIN_ADMIN_KEY to choose one): {self.admin_key}")
        departments().ensure_admin(self.admin_key)

    def _start_demo(self) -> None:
        from infra.local.demo import DemoDistrict

        district = DemoDistrict(
            self.settings.api_url,
            self.admin_key,
            self.settings.local_dir / "demo-keys.json",
            lambda text: self.say(text, "demo"),
            pace=self.settings.demo_pace,
        )
        district.set_up()
        self.say(district.try_this(), "demo")

        def run() -> None:
            try:
                district.feed(self.demo_stop)
            except Exception as exc:  # the feed is a convenience; the stack stays up without it
                if not self.demo_stop.is_set():
                    self.say(f"live feed stopped: {exc!r}", "demo")

        self.demo_thread = threading.Thread(target=run, name="demo-feed", daemon=True)
        self.demo_thread.start()

    def wait(self) -> None:
        while not self.failed.wait(1):
            pass
        raise StartupFailed(self.failure)

    def stop(self) -> None:
        self.stopping = True
        self.demo_stop.set()
        if self.demo_thread:
            self.demo_thread.join(15)
        # The emulated AWS goes last: the others may be finishing a call to it.
        for group in ([p for n, p in self.children if n != "aws"], [p for n, p in self.children if n == "aws"]):
            running = [p for p in group if p.poll() is None]
            for process in running:
                process.terminate()
            deadline = time.monotonic() + 10
            for process in running:
                try:
                    process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    name = next(n for n, p in self.children if p is process)
                    self.say(f"{name} did not stop within 10 s; killing it")
                    process.kill()
                    process.wait()
        self.say("stopped")


def alerts_hint(endpoint: str, region: str, topic_arn: str) -> str:
    """How a department subscribes a queue of its own to the alerts topic, with a filter policy."""
    policy = '{"domain": ["environment"], "severity": ["high", "critical"]}'
    return "\n".join(
        [
            f"alerts are published to the SNS topic {topic_arn}",
            "subscribe a queue to it, with a filter policy on domain, town, severity or category:",
            f"  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local; "
            f'aws=".venv/bin/aws --endpoint-url {endpoint} --region {region}"',
            "  Q=$($aws sqs create-queue --queue-name environment-alerts --query QueueUrl --output text)",
            "  A=$($aws sqs get-queue-attributes --queue-url $Q --attribute-names QueueArn "
            "--query Attributes.QueueArn --output text)",
            f"  $aws sns subscribe --topic-arn {topic_arn} --protocol sqs --notification-endpoint $A \\",
            f"       --attributes '{json.dumps({'FilterPolicy': policy}, ensure_ascii=False)}'",
            "  $aws sqs receive-message --queue-url $Q --max-number-of-messages 10",
        ]
    )


def main() -> int:
    console = Console()
    settings = LocalSettings.from_env()
    stack = LocalStack(settings, console)

    def interrupt(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    code = 0
    try:
        stack.start()
        stack.wait()
    except KeyboardInterrupt:
        stack.say("stopping")
    except StartupFailed as exc:
        stack.say(f"error: {exc}")
        code = 1
    except Exception:
        stack.say(f"error: {traceback.format_exc().rstrip()}")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())

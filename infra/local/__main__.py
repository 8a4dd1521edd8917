"""`make up`: City Brain on this machine, in the foreground.

    aws   moto server on 127.0.0.1:$CITYBRAIN_AWS_PORT (5000), provisioned from infra/resources.json
    api   the Chalice app on 127.0.0.1:$CITYBRAIN_API_PORT (8000)
    pump  SQS triggers and schedules, delivered to the handlers as Lambda would
    demo  the demo district and its live feed (CITYBRAIN_DEMO=0: an empty district)

Settings: CITYBRAIN_ADMIN_KEY (generated and printed if unset, then kept in the
local dir), CITYBRAIN_RETRY_DELAY_SECONDS (2: how soon a failed message comes
back), CITYBRAIN_LOCAL_DIR (.local: the district's state and the demo keys),
CITYBRAIN_SNAPSHOT_SECONDS (2: how often the emulated AWS saves its state),
CITYBRAIN_FRESH (1: forget the saved district), CITYBRAIN_DEMO_PACE (1: how many
times faster the demo feed runs), AWS_DEFAULT_REGION (ap-east-1).

The district survives a restart: the emulated AWS saves its state under the
local dir (infra.local.persistence) and loads it at start. Once the stack is up,
a component that dies is restarted (this process supervises them); Ctrl-C or
SIGTERM stops everything, the emulated AWS last, after its final snapshot.
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
from collections.abc import Callable
from dataclasses import dataclass, field

from citybrain.core.config import env_name
from infra.local.console import Console
from infra.local.settings import ROOT, STACK_NAME, LocalSettings, aws_environment, function_environment
from infra.local.state import LocalState, StateInUse


class StartupFailed(RuntimeError):
    pass


RESTARTS_ALLOWED = 5  # within RESTART_WINDOW_SECONDS; a component that keeps dying is a bug to see, not to hide
RESTART_WINDOW_SECONDS = 60.0
# How long a component may take to be ready: the emulator loads the saved district first, which takes
# about 10 s per 100,000 readings stored (README).
READY_SECONDS = 900


@dataclass
class Component:
    """A process of the stack, and how to start it again."""

    name: str
    module: str
    args: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    on_line: Callable[[str], None] | None = None
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)  # monotonic times of the recent restarts


class LocalStack:
    def __init__(self, settings: LocalSettings, console: Console):
        self.settings = settings
        self.console = console
        self.components: dict[str, Component] = {}
        self.lock = threading.Lock()  # starting and stopping components: one at a time
        self.stopping = False
        self.up = False  # startup done: from now on a component that dies is restarted
        self.failed = threading.Event()
        self.failure = ""
        self.pump_ready = threading.Event()
        self.demo_stop = threading.Event()
        self.demo_thread: threading.Thread | None = None
        self.admin_key = settings.admin_key or ""  # none given: _bootstrap_admin reuses the saved one or makes one
        self.resumed = False

    def say(self, text: str, component: str = "stack") -> None:
        self.console.block(component, text)

    # -- processes ------------------------------------------------------------

    def spawn(self, component: Component) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", component.module, *component.args],
            cwd=ROOT,
            env={**component.env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this process only; it stops the others in order
        )
        component.process = process
        self.components[component.name] = component
        assert process.stdout is not None  # stdout=PIPE
        follower = self.console.follow(component.name, process.stdout, component.on_line)

        def watch() -> None:
            follower.join()
            code = process.wait()
            if self.stopping:
                return
            if not self.up:
                self.failure = f"{component.name} exited unexpectedly ({exit_reason(code)})"
                self.failed.set()
                return
            self._restart(component, code)

        threading.Thread(target=watch, name=f"watch-{component.name}", daemon=True).start()
        return process

    def _restart(self, component: Component, code: int) -> None:
        """The supervisor: a component that died is started again, and it says so."""
        now = time.monotonic()
        component.restarts = [t for t in component.restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
        if len(component.restarts) > RESTARTS_ALLOWED:
            self.failure = (
                f"{component.name} died {len(component.restarts)} times within {RESTART_WINDOW_SECONDS:.0f} s "
                f"(last: {exit_reason(code)}); giving up"
            )
            self.failed.set()
            return
        self.say(f"{component.name} died ({exit_reason(code)}); restarting it")
        started = time.monotonic()
        with self.lock:
            if self.stopping:
                return
            if component.name == "pump":
                self.pump_ready.clear()
            self.spawn(component)
        deadline = started + READY_SECONDS
        while not component.ready():
            if self.stopping or component.process is None or component.process.poll() is not None:
                return  # stopping, or died again: its own watcher takes over
            if time.monotonic() > deadline:
                self.say(f"{component.name} restarted but not ready after {READY_SECONDS} s")
                return
            time.sleep(0.1)
        if component.name == "aws":
            # Killed before its first snapshot, the emulator comes back empty: provision again (a no-op
            # when the stack is there).
            self._provision()
        self.say(f"{component.name} restarted; ready in {time.monotonic() - started:.1f} s")

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
        state = LocalState(s.local_dir)
        try:
            state.hold()
        except StateInUse as exc:
            raise StartupFailed(str(exc)) from None
        if s.fresh:
            state.forget()
            self.say(f"CITYBRAIN_FRESH: the saved district in {s.local_dir} is forgotten; starting empty")
        self.resumed = state.has_snapshot()
        aws = aws_environment(s.aws_endpoint, s.region)
        os.environ.update(aws)
        aws_args = ["--host", s.host, "--port", str(s.aws_port)]
        aws_args += ["--state-dir", str(s.state_dir), "--snapshot-seconds", str(s.snapshot_seconds)]
        emulator = Component(
            "aws", "infra.local.server", aws_args, dict(os.environ), lambda: self._answers(persistence_url(s))
        )
        if self.resumed:
            self.say(f"loading the district saved in {s.local_dir}")
        self.spawn(emulator)
        self._wait_until("the emulated AWS", emulator.ready, READY_SECONDS)

        stack = self._provision()
        self.say(
            f"provisioned {len(stack)} resources from infra/resources.json on {s.aws_endpoint} (region {s.region})"
        )
        self._bootstrap_admin(state)

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

        self.spawn(Component("pump", "infra.local.pump", [], env, self.pump_ready.is_set, pump_said))
        self._wait_until("the trigger pump", self.pump_ready.is_set, 60)
        # The API comes last, so that a 200 from /v1/health means everything behind it is ready.
        api = Component(
            "api",
            "infra.local.api",
            ["--host", s.host, "--port", str(s.api_port)],
            env,
            lambda: self._answers(f"{s.api_url}/v1/health", 200),
        )
        self.spawn(api)
        self._wait_until("the API", api.ready, 60)
        self.up = True
        resumed = f"resumed the district saved in {s.local_dir}" if self.resumed else f"state in {s.local_dir}"
        self.say(
            f"City Brain is up in {time.monotonic() - started:.1f} s ({resumed}): API {s.api_url}, "
            f"emulated AWS {s.aws_endpoint}; Ctrl-C stops it"
        )
        if s.demo:
            self._start_demo()
        else:
            from infra.local.demo import empty_district_hint

            self.say(empty_district_hint(s.api_url, self.admin_key))
        self.say(alerts_hint(s.aws_endpoint, s.region, stack[env_name("AlertsTopic")]), "alerts")

    def _provision(self) -> dict[str, str]:
        from infra.provision import provision

        if self.resumed:
            self._update_saved_stack()
        stack = provision(STACK_NAME)
        os.environ.update(stack)
        return stack

    def _update_saved_stack(self) -> None:
        """A district saved by an older checkout has the resources of its infra/resources.json: bring
        the stack to the current definitions (new tables, queues...), as a deploy would update it."""
        import boto3

        from infra.provision import load_resources

        cfn = boto3.client("cloudformation")
        try:
            deployed = cfn.get_template(StackName=STACK_NAME)["TemplateBody"]
        except cfn.exceptions.ClientError:
            return  # not there (the emulator came back empty): provision creates it
        template = load_resources()
        if (json.loads(deployed) if isinstance(deployed, str) else deployed) == template:
            return
        self.say("infra/resources.json changed since the district was saved: updating the stack")
        cfn.update_stack(StackName=STACK_NAME, TemplateBody=json.dumps(template))
        cfn.get_waiter("stack_update_complete").wait(
            StackName=STACK_NAME, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )

    def _bootstrap_admin(self, state: LocalState) -> None:
        from citybrain.composition import departments
        from citybrain.departments.service import new_key

        saved = state.admin_key() if self.resumed else None
        if self.admin_key:
            self.say("admin key: the one in CITYBRAIN_ADMIN_KEY")
        elif saved:
            self.admin_key = saved
            self.say(f"admin key (generated on the first start, kept in {state.admin_key_file}): {self.admin_key}")
        else:
            self.admin_key = new_key()
            state.save_admin_key(self.admin_key)
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
        with self.lock:
            self.stopping = True
        self.demo_stop.set()
        if self.demo_thread:
            self.demo_thread.join(15)
        # The emulated AWS goes last: the others may be finishing a call to it; and it saves the state
        # once they are gone (a large district takes a while: it is given longer).
        components = list(self.components.values())
        for group, seconds in (
            ([c for c in components if c.name != "aws"], 10),
            ([c for c in components if c.name == "aws"], 120),
        ):
            running = [c for c in group if c.process is not None and c.process.poll() is None]
            for component in running:
                assert component.process is not None
                component.process.terminate()
            deadline = time.monotonic() + seconds
            for component in running:
                assert component.process is not None
                try:
                    component.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.say(f"{component.name} did not stop within {seconds} s; killing it")
                    component.process.kill()
                    component.process.wait()
        self.say("stopped")


def persistence_url(settings: LocalSettings) -> str:
    from infra.local.persistence import STATUS_PATH

    return settings.aws_endpoint + STATUS_PATH


def exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


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

"""What the local stack reads from the environment, and the environment it gives
the processes it starts (the same variables Lambda would give the functions)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "citybrain-local"
STAGE = "dev"
# moto's default account: ARNs that the emulated AWS hands out carry it.
ACCOUNT_ID = "123456789012"
DEMO_AGENT = "citybrain-demo"  # User-Agent of the demo's clients


def _int(name: str, default: int, low: int = 0, high: int = 65535) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SystemExit(f"{name}={value}: expected {low}..{high}")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class LocalSettings:
    aws_port: int
    api_port: int
    region: str
    admin_key: str | None
    demo: bool
    retry_delay_seconds: int
    local_dir: Path
    host: str = "127.0.0.1"
    demo_pace: int = 1  # the demo's clock runs this many times faster (readings, episodes)
    fresh: bool = False  # forget the saved district and start empty
    snapshot_seconds: int = 2  # how often the emulated AWS saves its state while it changes

    @property
    def state_dir(self) -> Path:
        """Where the emulated AWS keeps its snapshot."""
        return self.local_dir / "aws"

    @classmethod
    def from_env(cls) -> LocalSettings:
        return cls(
            aws_port=_int("CITYBRAIN_AWS_PORT", 5000, 1),
            api_port=_int("CITYBRAIN_API_PORT", 8000, 1),
            region=os.environ.get("AWS_DEFAULT_REGION") or "ap-east-1",
            admin_key=os.environ.get("CITYBRAIN_ADMIN_KEY") or None,
            demo=_flag("CITYBRAIN_DEMO", True),
            retry_delay_seconds=_int("CITYBRAIN_RETRY_DELAY_SECONDS", 2, 0, 43200),
            local_dir=Path(os.environ.get("CITYBRAIN_LOCAL_DIR") or ROOT / ".local"),
            demo_pace=_int("CITYBRAIN_DEMO_PACE", 1, 1, 60),
            fresh=_flag("CITYBRAIN_FRESH", False),
            snapshot_seconds=_int("CITYBRAIN_SNAPSHOT_SECONDS", 2, 1, 3600),
        )

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


def aws_environment(endpoint: str, region: str) -> dict[str, str]:
    """Point every boto3 client at the emulated AWS, with credentials that can
    never reach a real account."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        # A profile or config file of the developer must not redirect the clients.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def function_environment(stage: str = STAGE) -> dict[str, str]:
    """The environment_variables that chalice.json gives the functions of a stage."""
    config = json.loads((ROOT / "chalice.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    # EMF blobs on every invocation would drown the local logs; opt back in by
    # setting POWERTOOLS_METRICS_DISABLED=false.
    env.setdefault("POWERTOOLS_METRICS_DISABLED", os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"))
    return {k: str(v) for k, v in env.items()}


def stack_environment(stack_name: str = STACK_NAME) -> dict[str, str]:
    """The CITYBRAIN_* variables of a stack already provisioned on the (emulated) AWS."""
    import boto3

    from citybrain.core.config import env_name

    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    return {env_name(o["OutputKey"]): o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def watch_parent(
    stop: threading.Event | None = None, interval: float = 1.0, on_orphaned: Callable[[], None] | None = None
) -> None:
    """Exit when the process that started this one is gone, so a killed
    `make up` never leaves servers holding its ports. With `on_orphaned`, call
    that instead (the emulator stops as on SIGTERM: it saves its state first)."""
    parent = os.getppid()

    def watch() -> None:
        while not (stop and stop.is_set()):
            if os.getppid() != parent:
                if on_orphaned is None:
                    os._exit(0)
                on_orphaned()
                return
            threading.Event().wait(interval)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()

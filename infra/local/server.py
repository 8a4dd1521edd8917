"""The emulated AWS: moto server on loopback, in its own process (its own GIL:
the functions and the API must not wait on it). With --state-dir it loads its
state from the snapshot there before it answers, and saves it while it runs
and when it stops (infra.local.persistence).

    python -m infra.local.server --port 5000 [--state-dir .local/aws --snapshot-seconds 2]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.local.persistence import Snapshots
from infra.local.settings import watch_parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state-dir", type=Path, help="keep the state in a snapshot here (none: in memory only)")
    parser.add_argument("--snapshot-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)

    # One log line per AWS call (the pump long-polls all the time) would bury
    # everything else; werkzeug still reports errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # moto's CloudFormation skips queue policies; infra.provision applies them itself.
    warnings.filterwarnings("ignore", message="Tried to parse AWS::SQS::QueuePolicy")
    logging.getLogger("moto").addFilter(
        lambda record: (
            not (record.msg.startswith("No Moto CloudFormation support") and record.args == ("AWS::SQS::QueuePolicy",))
        )
    )
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from infra import moto_fixes

    moto_fixes.apply()  # without it each transaction copies whole tables: the live feed would grind to a halt

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watch_parent(stop, on_orphaned=stop.set)
    application: Callable[..., Any] = DomainDispatcherApplication(create_backend_app)
    snapshots = None
    if args.state_dir:
        try:
            hold_state_dir(args.state_dir)
        except StateDirBusy as exc:
            print(exc, file=sys.stderr)
            return 1
        snapshots = Snapshots(args.state_dir, args.snapshot_seconds, say=lambda text: print(text, flush=True))
        snapshots.watch_sqs_receives()
        if snapshots.restore():
            status = snapshots.status
            taken = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.taken_at))
            print(
                f"state restored from the snapshot of {taken} ({(status.bytes or 0) / 1e6:.1f} MB "
                f"in {status.restore_seconds:.1f} s)",
                flush=True,
            )
        else:
            print(f"no saved state in {args.state_dir}: starting empty", flush=True)
        application = snapshots.wrap(application)

    # What moto's ThreadedMotoServer does, but binding here so that a busy port
    # is an error instead of a thread that never becomes ready.
    class KeepAlive(MotoRequestHandler):
        # HTTP/1.1: a client's connection serves its next request too. With moto's HTTP/1.0
        # every request was a new TCP connection and a new server thread, on both sides.
        protocol_version = "HTTP/1.1"

    try:
        server = make_server(
            args.host,
            args.port,
            application,
            threaded=True,
            request_handler=KeepAlive,
        )
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    saver = None
    if snapshots:
        saver = threading.Thread(target=snapshots.run, args=(stop,), name="snapshots")
        saver.start()
    print(f"moto server on http://{args.host}:{args.port}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    thread.join(5)
    if saver:
        saver.join()  # its last snapshot, now that no request can change the state any more
        if snapshots and snapshots.status.taken_at:
            print(f"state saved ({(snapshots.status.bytes or 0) / 1e6:.1f} MB)", flush=True)
    return 0


class StateDirBusy(RuntimeError):
    pass


def hold_state_dir(directory: Path, wait_seconds: float = 300.0) -> None:
    """Hold the state directory's lock for the life of this process: two emulators
    writing one snapshot would each overwrite the other's district. A previous
    emulator may still be writing its last snapshot: wait for it a while."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / "lock", "w")  # noqa: SIM115 - held until the process exits
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise StateDirBusy(
                    f"{directory} is in use by another emulator (another `make up` on the same "
                    "CITYBRAIN_LOCAL_DIR?); stop it first"
                ) from None
            time.sleep(0.2)
    handle.write(str(os.getpid()))
    handle.flush()
    _held.append(handle)


_held: list = []  # the lock files held (a closed file would release its lock)


if __name__ == "__main__":
    sys.exit(main())

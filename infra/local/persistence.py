"""The emulated AWS's state on disk, so that the local district survives a restart.

moto keeps everything in memory. The emulator process pickles its backends
(every service it has answered for: tables, queues with their messages and
receipt handles, buckets, topics, the CloudFormation stack) into
`<local dir>/aws/state.pickle` every few seconds while requests change
something, and once more when it stops; at start it loads the file before it
serves a request.

Why a snapshot and not moto's recorder: replaying every recorded write at start
takes as long as the writes took (hours of a live feed), and the replay is not
faithful (message ids, receipt handles, timestamps are drawn anew). Why a fork:
pickling a large district takes seconds, and the API must not stand still that
long. The snapshot waits until no request is inside moto (a gate that every
request passes; a long poll steps out of it while it waits), forks, and lets
requests in again at once; the child, a frozen copy of the state between two
requests, writes the file and exits. So a snapshot never holds half a
transaction, and what it holds is as of the instant of the fork.

A hard kill loses what changed after the last snapshot's fork: at most the
pause between two snapshots (the interval, or the last write's time if longer)
plus the time one snapshot takes to write (README gives measured figures). A
write goes to `state.pickle.tmp`, is flushed to disk and renamed over the
previous snapshot: a kill in the middle leaves the previous one whole.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import pickle
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from infra.moto_fixes import _patch

STATE_FILE = "state.pickle"
STATUS_PATH = "/_citybrain/persistence"  # `_` is not allowed in bucket names: no S3 path can mean this
# Actions that never change the emulated state: a request of these kinds does not make a new snapshot due.
# (A ReceiveMessage that returns messages does change it; watch_sqs_receives counts those.)
READ_ONLY_PREFIXES = ("Get", "Describe", "List", "Head", "Query", "Scan", "BatchGet", "ReceiveMessage")


class Gate:
    """Requests pass side by side; a snapshot waits until none is inside and
    keeps new ones out for as long as it takes to fork."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._inside = 0
        self._closed = False
        self._local = threading.local()

    def enter(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: not self._closed)
            self._inside += 1
        self._local.inside = getattr(self._local, "inside", 0) + 1

    def leave(self) -> None:
        self._local.inside -= 1
        with self._condition:
            self._inside -= 1
            if not self._inside:
                self._condition.notify_all()

    def step_out(self) -> bool:
        """Leave for a while (a long poll waiting for messages), if this thread is inside."""
        if not getattr(self._local, "inside", 0):
            return False
        self.leave()
        return True

    def close(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: not self._closed)
            self._closed = True
            self._condition.wait_for(lambda: self._inside == 0)

    def open(self) -> None:
        with self._condition:
            self._closed = False
            self._condition.notify_all()


@dataclass
class SnapshotStatus:
    """What GET /_citybrain/persistence answers: when the state on disk was taken."""

    directory: str
    restored_from: float | None = None  # taken_at of the snapshot loaded at start
    restore_seconds: float | None = None
    taken_at: float | None = None  # epoch seconds of the fork of the newest complete snapshot
    write_seconds: float | None = None
    bytes: int | None = None
    snapshots: int = 0
    failures: int = 0
    last_error: str | None = None


# -- pickling moto's backends -----------------------------------------------------------


def _lock_types() -> dict[type, Callable[[], Any]]:
    return {
        type(threading.Lock()): threading.Lock,
        type(threading.RLock()): threading.RLock,
        threading.Condition: threading.Condition,
        threading.Event: threading.Event,
    }


def _private_key_from_pem(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


class BackendPickler(pickle.Pickler):
    """pickle, plus what moto holds that pickle cannot: locks and conditions come
    back as new ones (no request is inside moto when a snapshot is taken, so
    none is held), KMS keys as their PEM."""

    locks = _lock_types()

    def reducer_override(self, obj: Any) -> Any:
        fresh = self.locks.get(type(obj))
        if fresh is not None:
            return fresh, ()
        if type(obj).__module__.startswith("cryptography") and hasattr(obj, "private_bytes"):
            from cryptography.hazmat.primitives import serialization

            pem = obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return _private_key_from_pem, (pem,)
        return NotImplemented


def _backend_dicts() -> Iterable[tuple[tuple[str, str], Any]]:
    """((module, attribute), BackendDict) for every moto service that has state."""
    from moto.core.base_backend import BackendDict

    for backends in list(vars(BackendDict)["_instances"]):  # the services moto has made backends for
        module = importlib.import_module(backends.backend.__module__)
        attribute = next(
            (name for name, value in vars(module).items() if value is backends),
            None,
        )
        if attribute is None:  # not reachable by name: it could not be put back either
            continue
        yield (module.__name__, attribute), backends


def capture() -> dict[tuple[str, str], dict[str, Any]]:
    """{(module, attribute): {"accounts": {account: {region: backend}}, "attributes": {...}}}; the
    attributes are what a service keeps beside its backends (S3: which account owns each bucket name)."""
    standard = {"backend", "service_name", "_use_boto3_regions", "_additional_regions", "_id"}
    return {
        name: {
            "accounts": {account: dict(regional) for account, regional in backends.items()},
            "attributes": {k: v for k, v in vars(backends).items() if k not in standard},
        }
        for name, backends in _backend_dicts()
    }


def dump(state: Any, handle: IO[bytes]) -> None:
    BackendPickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump(state)


def install(state: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Put captured backends in place of moto's (before the server answers anything)."""
    for (module_name, attribute), captured in state.items():
        backends = getattr(importlib.import_module(module_name), attribute)
        backends.clear()
        for name, value in captured["attributes"].items():
            setattr(backends, name, value)
        for account, regions in captured["accounts"].items():
            regional = backends[account]  # creates the account's backend map and registers the service
            for region, backend in regions.items():
                dict.__setitem__(regional, region, backend)


# -- the snapshots of one emulator -------------------------------------------------------


class Snapshots:
    def __init__(self, directory: Path, interval: float, say: Callable[[str], None] = print):
        self.directory = directory
        self.interval = interval
        self.say = say
        self.gate = Gate()
        self.status = SnapshotStatus(directory=str(directory))
        self._changes = 0  # requests that may have changed the state since the last snapshot's fork
        self._changes_lock = threading.Lock()
        self._taking = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    def changed(self) -> None:
        with self._changes_lock:
            self._changes += 1

    def restore(self) -> bool:
        """Load the newest snapshot, if there is one; True if there was."""
        try:
            handle = open(self.path, "rb")
        except FileNotFoundError:
            return False
        started = time.monotonic()
        # Millions of small objects: the cyclic collector would run over and over while they are
        # created (it halves the load time to keep it off), and then scan them all at every full
        # collection; frozen, they are left out of its scans.
        gc.disable()
        try:
            with handle:
                taken_at, state = pickle.load(handle)
            install(state)
        finally:
            gc.freeze()
            gc.enable()
        self.status.restored_from = self.status.taken_at = taken_at
        self.status.restore_seconds = round(time.monotonic() - started, 3)
        self.status.bytes = self.path.stat().st_size
        return True

    def take(self) -> bool:
        """One snapshot: fork between two requests, the child writes it. True once it is on disk."""
        with self._taking:
            self.gate.close()
            try:
                taken_at = time.time()
                with self._changes_lock:
                    changes, self._changes = self._changes, 0
                with warnings.catch_warnings():
                    # Python warns that a forked child of a threaded process may deadlock; the child
                    # only pickles and writes a file, and no request thread is inside moto.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    parent = os.getpid()
                    child = os.fork()
                if child == 0:  # pragma: no cover - the child process
                    die_with(parent)
                    os._exit(self._write_in_child(taken_at))
            except BaseException:
                with self._changes_lock:
                    self._changes += changes
                raise
            finally:
                self.gate.open()  # (the child never gets here: it leaves by os._exit)
            started = time.monotonic()
            _, status = os.waitpid(child, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                with self._changes_lock:
                    self._changes += changes  # still due
                self.status.failures += 1
                self.status.last_error = (self.directory / "snapshot-error.txt").read_text(errors="replace")[-2000:]
                return False
            self.status.taken_at = taken_at
            self.status.write_seconds = round(time.monotonic() - started, 3)
            self.status.bytes = self.path.stat().st_size
            self.status.snapshots += 1
            return True

    def _write_in_child(self, taken_at: float) -> int:  # pragma: no cover - runs in the forked child
        temporary = self.path.with_suffix(".pickle.tmp")
        gc.disable()  # this process only writes the file and exits: nothing for the collector to do
        try:
            with open(temporary, "wb", buffering=1 << 20) as handle:
                dump((taken_at, capture()), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            return 0
        except BaseException:
            import traceback

            (self.directory / "snapshot-error.txt").write_text(traceback.format_exc())
            return 1

    def run(self, stop: threading.Event) -> None:
        """Every `interval` seconds, a snapshot if anything may have changed; a last one at stop."""
        while not stop.wait(self.pause()):
            self._take_if_due()
        self._take_if_due()

    def pause(self) -> float:
        """A large district takes seconds to write: wait at least that long between two snapshots,
        so that the emulator spends at most half a core on them (the loss window grows to about
        twice the write time; README gives figures)."""
        return max(self.interval, self.status.write_seconds or 0.0)

    def _take_if_due(self) -> None:
        if not self._changes:
            return
        try:
            if not self.take():
                self.say(f"snapshot failed; the previous one stays: {self.status.last_error}")
        except Exception as exc:
            self.status.failures += 1
            self.status.last_error = repr(exc)
            self.say(f"snapshot failed; the previous one stays: {exc!r}")

    # -- the WSGI side: the gate around moto, and the status page ------------------------

    def wrap(self, app: Callable) -> Callable:
        def application(environ: dict[str, Any], start_response: Callable) -> Any:
            path = environ.get("PATH_INFO", "")
            if path == STATUS_PATH:
                body = json.dumps(asdict(self.status)).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            if path.startswith("/moto-api/"):
                return app(environ, start_response)
            if not _reads_only(environ):
                self.changed()
            self.gate.enter()
            try:
                return app(environ, start_response)
            finally:
                self.gate.leave()

        return application

    def watch_sqs_receives(self) -> None:
        """An SQS ReceiveMessage that waits for messages waits outside the gate, so a snapshot
        never waits for a long poll (nor do the requests behind the snapshot); and a receive
        changes the state (receive counts, visibility) only when it returns messages: the
        pump's idle polls do not make a snapshot due."""
        from moto.sqs.models import Queue, SQSBackend

        gate = self.gate
        waits = Queue.wait_for_messages
        receive = SQSBackend.receive_message
        changed = self.changed

        def receive_message(backend: Any, *args: Any, **kwargs: Any) -> Any:
            messages = receive(backend, *args, **kwargs)
            if messages:
                changed()
            return messages

        def wait_for_messages(queue: Any, timeout: int) -> None:
            stepped_out = gate.step_out()
            try:
                waits(queue, timeout)
            finally:
                if stepped_out:
                    gate.enter()

        _patch(Queue, "wait_for_messages", wait_for_messages)
        _patch(SQSBackend, "receive_message", receive_message)


def die_with(parent: int) -> None:  # pragma: no cover - runs in the forked child
    """A snapshot writer whose emulator was killed must not outlive it: the supervisor's new
    emulator would find the state directory locked, and two writers would share one file."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass  # elsewhere the new emulator waits for the lock until this one is done
    if os.getppid() != parent:  # killed before the line above
        os._exit(1)


def _reads_only(environ: dict[str, Any]) -> bool:
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    target = environ.get("HTTP_X_AMZ_TARGET", "")  # JSON protocols: DynamoDB_20120810.Query, AmazonSQS.ListQueues
    action = target.rpartition(".")[2]
    return bool(action) and action.startswith(READ_ONLY_PREFIXES)

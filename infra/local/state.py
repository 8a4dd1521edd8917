"""What the local stack keeps between runs, under CITYBRAIN_LOCAL_DIR (.local):

aws/state.pickle   the emulated AWS's snapshot (infra.local.persistence): the whole district
admin-key          the admin key generated on the first start (when CITYBRAIN_ADMIN_KEY is unset)
demo-keys.json     the demo departments' keys
stack.lock         held by the running stack: one stack per directory

python -m infra.local.state reset     (`make reset`): forget it all; the next start is empty
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import IO

from infra.local.persistence import STATE_FILE


class StateInUse(RuntimeError):
    pass


class LocalState:
    def __init__(self, directory: Path):
        self.directory = directory
        self._lock: IO[str] | None = None

    @property
    def aws_dir(self) -> Path:
        return self.directory / "aws"

    @property
    def admin_key_file(self) -> Path:
        return self.directory / "admin-key"

    def hold(self) -> None:
        """Hold the directory for this stack's life; a second stack on it is refused, not allowed
        to overwrite the first one's district."""
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.directory / "stack.lock", "a+")  # noqa: SIM115 - held until the process exits
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateInUse(
                f"another local stack runs on {self.directory}; stop it, or give this one its own "
                "CITYBRAIN_LOCAL_DIR=..."
            ) from None
        self._lock = handle

    def in_use(self) -> bool:
        import fcntl

        try:
            handle = open(self.directory / "stack.lock")
        except FileNotFoundError:
            return False
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def has_snapshot(self) -> bool:
        return (self.aws_dir / STATE_FILE).exists()

    def forget(self) -> None:
        """The saved district and the keys that belong to it (they would open nothing any more)."""
        shutil.rmtree(self.aws_dir, ignore_errors=True)
        for name in ("admin-key", "demo-keys.json"):
            (self.directory / name).unlink(missing_ok=True)

    def admin_key(self) -> str | None:
        try:
            return self.admin_key_file.read_text().strip() or None
        except OSError:
            return None

    def save_admin_key(self, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.admin_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["reset"]:
        print(__doc__, file=sys.stderr)
        return 2
    from infra.local.settings import LocalSettings

    state = LocalState(LocalSettings.from_env().local_dir)
    if state.in_use():
        print(f"a local stack is running on {state.directory}; stop it first", file=sys.stderr)
        return 1
    state.forget()
    print(f"forgot the district saved in {state.directory}; the next `make up` starts empty")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One terminal for several components: every line carries its component's name."""

from __future__ import annotations

import sys
import threading
from typing import IO

COLOURS = {"stack": "1;37", "aws": "33", "api": "36", "pump": "35", "demo": "32"}


class Console:
    def __init__(self, stream: IO[str] = sys.stdout):
        self.stream = stream
        self.colour = stream.isatty()
        self.lock = threading.Lock()
        self.width = max(len(name) for name in COLOURS)

    def line(self, component: str, text: str) -> None:
        label = component.ljust(self.width)
        if self.colour:
            label = f"\x1b[{COLOURS.get(component, '0')}m{label}\x1b[0m"
        with self.lock:
            self.stream.write(f"{label} | {text}\n")
            self.stream.flush()

    def block(self, component: str, text: str) -> None:
        for line in text.splitlines():
            self.line(component, line)

    def follow(self, component: str, pipe: IO[bytes], on_line=None) -> threading.Thread:
        """Copy a child's output, line by line, until it closes."""

        def copy() -> None:
            for raw in iter(pipe.readline, b""):
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self.line(component, text)
                if on_line:
                    on_line(text)
            pipe.close()

        thread = threading.Thread(target=copy, name=f"log-{component}", daemon=True)
        thread.start()
        return thread

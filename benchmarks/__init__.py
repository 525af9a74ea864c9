"""Large-scale measurements (not tests): each prints its figures and the command that made them."""

from __future__ import annotations

import os
import resource
import sys
import threading
from pathlib import Path


def peak_rss_gib() -> float:
    """This process's peak resident memory so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def command_line(module: str) -> str:
    """The command that reproduces this run."""
    return " ".join([f".venv/bin/python -m {module}", *sys.argv[1:]])


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants now (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:"))) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration, PermissionError):
            continue
    return total


class TreeMemory:
    """Samples the resident memory of this process and its worker processes together, and
    keeps the largest total seen: the memory a run needs at once, workers included."""

    def __init__(self, every: float = 0.2) -> None:
        self.peak = 0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, _tree_rss_bytes(os.getpid()))

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_gib(self) -> float:
        return self.peak / 1024**3

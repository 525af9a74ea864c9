"""Large-scale measurements (not tests): each prints its figures and the command that made them."""

from __future__ import annotations

import resource
import sys


def peak_rss_gib() -> float:
    """This process's peak resident memory so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def command_line(module: str) -> str:
    """The command that reproduces this run."""
    return " ".join([f".venv/bin/python -m {module}", *sys.argv[1:]])

"""Working days left until a home check falls due: weekends and the configured public holidays
(``scoring.holidays``) do not count; a date already past is overdue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from lowinc.settings import config_dir_from


@dataclass(frozen=True)
class Deadline:
    """How far a due date is from today: working days left (negative when overdue)."""

    due_date: dt.date | None
    days_left: int | None  # None: no due date (a blue row, watch only)
    overdue: bool


def holiday_array(holidays: Iterable[str | dt.date] = ()) -> np.ndarray:
    """The holidays as numpy days (ISO strings or dates); a malformed one raises ValueError."""
    return np.array([np.datetime64(str(h), "D") for h in holidays], dtype="datetime64[D]")


def working_days_left(
    today: dt.date, due_dates: Sequence[dt.date | None], holidays: np.ndarray | None = None
) -> list[Deadline]:
    """For each due date, the working days from today (exclusive) up to and including the due
    date, counted with numpy's busday_count over the whole column at once. A due date today gives
    0 (due today, not overdue); a past one gives minus the working days since, and overdue."""
    marks = np.array([d is not None for d in due_dates], dtype=bool)
    result: list[Deadline] = [Deadline(None, None, False)] * len(due_dates)
    if not marks.any():
        return result
    days = np.array([d for d in due_dates if d is not None], dtype="datetime64[D]")
    start = np.datetime64(today, "D")
    hol = holiday_array() if holidays is None else holidays
    # busday_count(a, b) counts [a, b): shift by one so today itself is never counted
    ahead = np.busday_count(start + 1, days + 1, holidays=hol)
    behind = -np.busday_count(days + 1, start + 1, holidays=hol)
    counts = np.where(days >= start, ahead, np.minimum(behind, -1))
    for slot, due, count in zip(np.flatnonzero(marks), days.astype(object), counts, strict=True):
        result[int(slot)] = Deadline(due, int(count), bool(due < today))
    return result


def deadline(today: dt.date, due_date: dt.date | None, holidays: np.ndarray | None = None) -> Deadline:
    """One due date's :class:`Deadline`."""
    return working_days_left(today, [due_date], holidays)[0]


@cache
def configured_holidays(config_dir: Path | None = None) -> np.ndarray:
    """The public holidays of ``scoring.holidays`` in the configuration folder's scoring.yaml
    (``LOWINC_CONFIG_DIR``, else the checkout's configs/); none when the file or key is absent.
    Read once per process: the due dates themselves were counted with the same list."""
    path = (config_dir or config_dir_from()) / "scoring.yaml"
    if not path.is_file():
        return holiday_array()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scoring = data.get("scoring") if isinstance(data, dict) else None
    listed = scoring.get("holidays") if isinstance(scoring, dict) else None
    return holiday_array(listed or [])

"""Time in one place: as-of dates, knowledge months and look-back windows.

Every canonical row has an ``event_date`` (when it happened) and a ``known_month``
('YYYY-MM', when its delivery arrived). A snapshot at T (the 1st of a month) may use a row
only if it was known before T's month, whatever its event date says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_of_date(value: str | pd.Timestamp) -> pd.Timestamp:
    """An as-of date: the 1st of a month (a 'YYYY-MM' or any date in the month is refused
    unless it is the 1st, so a typo cannot shift the cut-off silently)."""
    ts = pd.Timestamp(value)
    if ts != ts.normalize() or ts.day != 1:
        raise ValueError(f"an as-of date is the 1st of a month, got {value!r}")
    return ts


def month_label(ts: pd.Timestamp) -> str:
    return f"{ts.year:04d}-{ts.month:02d}"


def add_months(ts: pd.Timestamp, months: int) -> pd.Timestamp:
    return ts + pd.DateOffset(months=months)


def month_number(values: pd.Series) -> np.ndarray:
    """Months since year 0 of 'YYYY-MM' labels: arithmetic on months."""
    text = values.astype("str")
    months: np.ndarray = (
        text.str.slice(0, 4).astype("int64") * 12 + text.str.slice(5, 7).astype("int64") - 1
    ).to_numpy()
    return months


def date_month_number(dates: pd.Series) -> np.ndarray:
    """Months since year 0 of timestamps."""
    d = pd.DatetimeIndex(dates)
    months: np.ndarray = d.year.to_numpy(dtype="int64") * 12 + d.month.to_numpy(dtype="int64") - 1
    return months.astype("int64")


def ts_month_number(ts: pd.Timestamp) -> int:
    return int(ts.year * 12 + ts.month - 1)


def known_before(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rows delivered in a month before T's month: the only rows a snapshot at T may use."""
    if frame.empty:
        return frame
    return frame[frame["known_month"].astype("str").to_numpy() < month_label(as_of)]


def known_between(frame: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Rows delivered in the months from ``first`` to ``last`` (both included)."""
    if frame.empty:
        return frame
    km = frame["known_month"].astype("str").to_numpy()
    return frame[(km >= month_label(first)) & (km <= month_label(last))]


def in_window(
    frame: pd.DataFrame, as_of: pd.Timestamp, months: int, column: str = "event_date"
) -> np.ndarray:
    """Mask of rows whose event falls in the ``months`` before T: [T - months, T)."""
    when: np.ndarray = frame[column].to_numpy()
    start = np.datetime64(add_months(as_of, -months))
    end = np.datetime64(as_of)
    return (when >= start) & (when < end)

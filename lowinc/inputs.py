"""Reading what a user types on the command line (dates, months, files) into values, refusing
a malformed one with a :class:`~lowinc.errors.BadValue` that names the option and the form it
takes, before any work starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from lowinc.errors import BadValue, NotFound
from lowinc.months import check_month


def parse_date(value: str, option: str) -> dt.date:
    """A calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{option} {value!r} is not a date", hint=f"give {option} as YYYY-MM-DD") from None


def parse_as_of(value: str, option: str = "--as-of") -> pd.Timestamp:
    """An as-of date: a real date on the 1st of a month (a typo cannot shift a cut-off silently)."""
    day = parse_date(value, option)
    if day.day != 1:
        first = day.replace(day=1)
        raise BadValue(f"{option} {value} is not the 1st of a month", hint=f"give {option} {first:%Y-%m-%d}")
    return pd.Timestamp(day)


def parse_month(value: str, option: str = "--month") -> str:
    """A delivery month written YYYY-MM (the one check of :mod:`lowinc.months`)."""
    return check_month(value, option)


def existing_file(path: Path, option: str) -> Path:
    """A file the user named, which must exist."""
    if not Path(path).is_file():
        raise NotFound(f"{option} {path}: no such file", hint=f"give {option} the path of an existing file")
    return Path(path)

"""Delivery months (``YYYY-MM``): the one strict check every month argument and every month
folder goes through.

A month names a folder (``raw/<source>/<YYYY-MM>/``), a partition (``known_month=YYYY-MM``)
and a report file (``reports/ingest/<YYYY-MM>.json``), so anything looser than four digits,
a dash and a month 01-12 in a plausible year would either fail deep inside a run (``2022-13``
is no date) or write where it should not (``--month ../../x`` is a path). Checked here, once,
before anything is read or written.
"""

from __future__ import annotations

import re

from lowinc.errors import BadValue

FIRST_YEAR = 1990  # the earliest dates a source definition accepts (min: 1990)
LAST_YEAR = 2099
_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits: \d takes full-width ones too
MONTH_HINT = "lowinc ingest --month YYYY-MM, e.g. --month 2023-03"


def month_problem(text: str) -> str | None:
    """Why ``text`` is not a delivery month, or None when it is one."""
    shape = _SHAPE.fullmatch(text)
    if shape is None:
        return "not a month folder (YYYY-MM)"
    year, month = int(shape.group(1)), int(shape.group(2))
    if not 1 <= month <= 12:
        return f"month {shape.group(2)} is not 01-12"
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}"
    return None


def is_month(text: str) -> bool:
    """Whether ``text`` is a delivery month (``YYYY-MM``, month 01-12, a plausible year)."""
    return month_problem(text) is None


def check_month(text: str, option: str = "--month", hint: str = MONTH_HINT) -> str:
    """``text`` when it is a delivery month; else a one-line :class:`BadValue` (exit 2)."""
    problem = month_problem(text)
    if problem is not None:
        shown = text if text.isprintable() and len(text) <= 40 else repr(text[:40])
        raise BadValue(f"{option} {shown}: {problem.replace(' folder', '')}", hint=hint)
    return text

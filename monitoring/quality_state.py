"""What each delivery month looked like when its data quality was first assessed, kept so a
file delivered later can be told apart from one delivered on time (a late file).

One JSON file per month, ``<folder>/<YYYY-MM>.json``: ``{"source/table": "ingested" |
"rejected" | "missing"}`` (monitoring.quality.first_seen_record). Written once, at the
month's first assessment, never overwritten. Owner-only (folder 0700, file 0600) like the
ingest reports: it names sources and tables only, but lives beside what does not.
The caller chooses the folder (e.g. ``<home>/reports/monitoring/first_seen``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ingest.report import MonthReport
from lowinc.errors import BadValue
from lowinc.months import check_month, is_month
from lowinc.private import private_dir, private_file
from monitoring.quality import first_seen_record


def _path(folder: Path, month: str) -> Path:
    return Path(folder) / f"{check_month(month, option='month')}.json"


def read_first_seen(folder: Path) -> dict[str, dict[str, str]]:
    """month → the record of its first assessment, for every month recorded in ``folder``
    (none when the folder does not exist yet)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {path.stem: _read(path) for path in sorted(folder.glob("*.json")) if is_month(path.stem)}


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadValue(
            f"monitoring state {path.name} cannot be read ({type(exc).__name__})",
            hint=f"delete {path} and run lowinc monitor again",
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise BadValue(
            f"monitoring state {path.name} is not a source/table → status map",
            hint=f"delete {path} and run lowinc monitor again",
        )
    return data


def record_first_seen(folder: Path, report: MonthReport) -> dict[str, str]:
    """The month's first-assessment record: the one kept in ``folder`` if the month was
    assessed before, else ``report``'s, written now (atomically, owner-only)."""
    path = _path(folder, report.month)
    if path.exists():
        return _read(path)
    record = first_seen_record(report)
    private_dir(path.parent)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    private_file(tmp)
    os.replace(tmp, path)
    return record

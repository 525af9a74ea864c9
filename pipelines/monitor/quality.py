"""The delivery month's data quality for a scored month: the ingest report of T - 1 against
the months before it, with each month's first assessment kept (what makes a file late)."""

from __future__ import annotations

import json

import pandas as pd

from ingest.report import MonthReport, month_report_from_dict
from monitoring.quality import QualityResult, assess_quality
from monitoring.quality_state import read_first_seen, record_first_seen
from pipelines.settings import Settings


def read_report(settings: Settings, month: str) -> MonthReport | None:
    path = settings.layout.ingest_reports / f"{month}.json"
    if not path.exists():
        return None
    return month_report_from_dict(json.loads(path.read_text(encoding="utf-8")))


def assess_month_quality(settings: Settings, as_of: pd.Timestamp) -> QualityResult | None:
    """None when the delivery month before ``as_of`` has no ingest report."""
    cfg = settings.monitoring.quality
    delivery = pd.Period(as_of, "M") - 1
    current = read_report(settings, str(delivery))
    if current is None:
        return None
    months = [str(delivery - i) for i in range(cfg.history_months, 0, -1)]
    history = [r for m in months if (r := read_report(settings, m)) is not None]
    state = settings.layout.monitoring_state
    for report in [*history, current]:  # a month assessed for the first time keeps what it saw
        record_first_seen(state, report)
    return assess_quality(current, history, cfg, read_first_seen(state))

"""Re-verification of current recipients (定期核查, 渐退) for one as-of date: the two lists of
scoring/recipients.py, written beside the visit list as ``recipient_checks.parquet`` (keys and
division codes only; names are added only for the worker entitled to them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.store import read_snapshots
from lowinc.private import write_parquet
from models.registry import load_champion
from pipelines.score.scores import resolve_as_of
from pipelines.settings import Settings
from scoring.recipients import recipient_checks
from scoring.scorer import Scorer


@dataclass
class RecipientRun:
    """What one run listed (the CLI's --json): per list and county, households listed."""

    as_of: str
    recipients: int
    listed: dict[str, int]
    by_county: dict[str, dict[str, int]] = field(default_factory=dict)
    output: str = ""


def check_recipients(settings: Settings, as_of: str | None, model: Scorer | None = None) -> RecipientRun:
    """Rank the as-of date's recipients for a check (核查) or a visit before phase-out ends."""
    ts = resolve_as_of(settings.home, as_of)
    snapshot = read_snapshots(settings.home, [ts])
    phase = snapshot["in_phase_out"].to_numpy(bool)
    risk = np.full(len(snapshot), np.nan)
    if phase.any():
        model = model or load_champion(settings.model, settings.home)
        risk[phase] = model.predict_risk(snapshot[phase])
    lists = recipient_checks(snapshot, risk, settings.scoring)
    path = write_parquet(lists, settings.layout.recipient_checks(ts))
    counts = lists.groupby(["county_code", "kind"]).size().unstack(fill_value=0)
    by_county = {str(c): {str(k): int(n) for k, n in row.items()} for c, row in counts.iterrows()}
    recipients = int(snapshot["assistance_state"].isin(("dibao", "tekun", "edge")).sum())
    listed = {str(k): int(n) for k, n in lists["kind"].value_counts().sort_index().items()}
    return RecipientRun(f"{pd.Timestamp(ts):%Y-%m-%d}", recipients, listed, by_county, str(path))

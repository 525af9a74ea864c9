"""Labels of a snapshot at T, from deliveries after T only.

Observable (what training uses, shared/domain.md): within H months after T a household not
in 低保/特困 at T enters 低保 or 特困, receives 支出型 temporary aid, or a visit confirms
hardship. Only deliveries of months T .. T+H-1 count (the snapshot builder passes no other),
and only events dated from T on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.spine import Spine
from features.timeline import add_months, month_label

VISIT_COLUMNS = ("household_key", "visit_date", "hardship_confirmed")


def empty_visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_key": pd.Series(dtype="str"),
            "visit_date": pd.Series(dtype="datetime64[us]"),
            "hardship_confirmed": pd.Series(dtype="bool"),
        }
    )


def horizon_complete(as_of: pd.Timestamp, horizon: int, delivered_through: str | None) -> bool:
    """Whether every month T .. T+H-1 has been delivered."""
    return delivered_through is not None and delivered_through >= month_label(add_months(as_of, horizon - 1))


def observable_label(
    spine: Spine,
    in_cohort: np.ndarray,
    assistance_roster: pd.DataFrame,
    temporary_assistance: pd.DataFrame,
    horizon: int,
    delivered_through: str | None,
    visits: pd.DataFrame | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """(label, label_complete) per household from the deliveries of months T .. T+H-1:
    the label is NA outside the cohort (the household is already helped) and while the
    horizon is not fully delivered."""
    t = spine.as_of
    end = add_months(t, horizon)
    hit = np.zeros(spine.n, bool)
    r = assistance_roster
    if len(r):
        r = r[r["category"].isin(("dibao", "tekun")).to_numpy()]
        hit |= spine.any(spine.household_of(r))
    a = temporary_assistance
    if len(a):
        when = a["event_date"].to_numpy()
        a = a[
            (a["aid_type"].to_numpy() == "expenditure")
            & (when >= np.datetime64(t))
            & (when < np.datetime64(end))
        ]
        hit |= spine.any(spine.household_of(a))
    if visits is not None and len(visits):
        when = pd.to_datetime(visits["visit_date"]).to_numpy()
        v = visits[
            visits["hardship_confirmed"].astype(bool).to_numpy()
            & (when >= np.datetime64(t))
            & (when < np.datetime64(end))
        ]
        hit |= spine.any(spine.position_of(v["household_key"]))
    complete = horizon_complete(t, horizon, delivered_through)
    label = pd.array(hit, dtype="boolean")
    label[~np.asarray(in_cohort, dtype=bool)] = pd.NA
    if not complete:
        label[:] = pd.NA
    return pd.Series(label), np.full(spine.n, complete)

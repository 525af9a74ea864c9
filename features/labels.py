"""Labels of a snapshot at T, from deliveries after T only.

Observable (shared/domain.md): within H months after T a household not in 低保/特困 at T
enters 低保 or 特困, receives 支出型 temporary aid, or a visit confirms hardship (``label``).
Only deliveries of months T .. T+H-1 count (the snapshot builder passes no other), and only
events dated from T on.

Besides it (:func:`snapshot_labels`):

- ``label_applied``: the same without visits, the observable label only. It depends on take-up
  (the household applies); a model trained on it learns who applies.
- ``visit_label`` / ``visit_weight``: for a household listed at T itself (the alert's month is T)
  and visited with a label result from T to before T+H: confirmed hardship (True) or none found
  (False), weighted by 1 / the probability it was listed with. A household drawn at random for
  exploration with probability p stands for 1/p households like it, so the weighted visit labels
  describe the population and not only the list. NA / NaN for every other household.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.spine import Spine
from features.timeline import add_months, month_label

VISIT_COLUMNS = (
    "household_key",
    "visit_date",
    "hardship_confirmed",
    "alert_as_of",
    "listing_probability",
    "selection",
)
LABEL_COLUMNS = ("label", "label_applied", "visit_label", "visit_weight", "label_complete")


def empty_visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_key": pd.Series(dtype="str"),
            "visit_date": pd.Series(dtype="datetime64[us]"),
            "hardship_confirmed": pd.Series(dtype="bool"),
            "alert_as_of": pd.Series(dtype="datetime64[us]"),
            "listing_probability": pd.Series(dtype="float64"),
            "selection": pd.Series(dtype="str"),
        }
    )


def horizon_complete(as_of: pd.Timestamp, horizon: int, delivered_through: str | None) -> bool:
    """Whether every month T .. T+H-1 has been delivered."""
    return delivered_through is not None and delivered_through >= month_label(add_months(as_of, horizon - 1))


def applied_hits(
    spine: Spine, assistance_roster: pd.DataFrame, temporary_assistance: pd.DataFrame, horizon: int
) -> np.ndarray:
    """Households entering 低保/特困 or paid 支出型 temporary aid from T to before T+H."""
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
    return hit


def visits_in_horizon(spine: Spine, visits: pd.DataFrame | None, horizon: int) -> pd.DataFrame:
    """The visits made from T to before T+H (any alert's), as given."""
    if visits is None or not len(visits):
        return empty_visits()
    when = pd.to_datetime(visits["visit_date"]).to_numpy()
    t, end = np.datetime64(spine.as_of), np.datetime64(add_months(spine.as_of, horizon))
    return visits.loc[(when >= t) & (when < end)]


def _masked(label: pd.arrays.BooleanArray, in_cohort: np.ndarray, complete: bool) -> pd.arrays.BooleanArray:
    label[~np.asarray(in_cohort, dtype=bool)] = pd.NA
    if not complete:
        label[:] = pd.NA
    return label


def visit_labels(
    spine: Spine, in_cohort: np.ndarray, visits: pd.DataFrame, complete: bool
) -> tuple[pd.arrays.BooleanArray, np.ndarray]:
    """(visit_label, visit_weight) of the households listed at T and visited within the horizon
    (``visits`` already cut to it): confirmed → True, no hardship → False, weight 1 / listing
    probability; NA and NaN elsewhere, outside the cohort and while the horizon is incomplete.
    Visits answering an alert of another month are left out: that household was listed, and drawn
    with its probability, at another T."""
    label = pd.array(np.zeros(spine.n, bool), dtype="boolean")
    label[:] = pd.NA
    weight = np.full(spine.n, np.nan)
    if "alert_as_of" in visits.columns and len(visits):
        listed_at_t = pd.to_datetime(visits["alert_as_of"]).to_numpy() == np.datetime64(spine.as_of)
        v = visits.loc[listed_at_t]
        pos = spine.position_of(v["household_key"])
        known = pos >= 0
        pos = pos[known]
        confirmed = v["hardship_confirmed"].astype(bool).to_numpy()[known]
        if "listing_probability" in v.columns:
            p = pd.to_numeric(v["listing_probability"]).fillna(1.0).to_numpy(float)[known]
        else:
            p = np.ones(len(pos))
        # a probability outside (0, 1] is a bad record: count the visit for itself only
        p = np.where((p > 0) & (p <= 1), p, 1.0)
        visited = spine.any(pos)
        hit = spine.any(pos[confirmed])
        label[visited] = hit[visited]
        np.fmax.at(weight, pos, 1.0 / p)  # fmax: NaN (not yet set) gives way to the weight
    label = _masked(label, in_cohort, complete)
    weight[np.asarray(label.isna())] = np.nan
    return label, weight


def snapshot_labels(
    spine: Spine,
    in_cohort: np.ndarray,
    assistance_roster: pd.DataFrame,
    temporary_assistance: pd.DataFrame,
    horizon: int,
    delivered_through: str | None,
    visits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every label column of the snapshot (:data:`LABEL_COLUMNS`, in order), one row per household."""
    complete = horizon_complete(spine.as_of, horizon, delivered_through)
    applied = applied_hits(spine, assistance_roster, temporary_assistance, horizon)
    seen = visits_in_horizon(spine, visits, horizon)
    confirmed = seen.loc[seen["hardship_confirmed"].astype(bool).to_numpy()]
    hit = applied | spine.any(spine.position_of(confirmed["household_key"]))
    visit_label, visit_weight = visit_labels(spine, in_cohort, seen, complete)
    return pd.DataFrame(
        {
            "label": _masked(pd.array(hit, dtype="boolean"), in_cohort, complete),
            "label_applied": _masked(pd.array(applied, dtype="boolean"), in_cohort, complete),
            "visit_label": visit_label,
            "visit_weight": visit_weight,
            "label_complete": np.full(spine.n, complete),
        }
    )


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
    frame = snapshot_labels(
        spine, in_cohort, assistance_roster, temporary_assistance, horizon, delivered_through, visits
    )
    return frame["label"], frame["label_complete"].to_numpy()

"""A small synthetic feature-snapshot frame honouring the features/ interface contract.

Households carry a hidden income share (as in the simulator, departments see only part of
income), so the visible income ratio is an imperfect signal; shocks (death of an earner,
severe disability, job loss, medical bills, a dangerous house) and an interaction (chronic
illness in an elderly household near the line) raise the true risk. The latent fall is drawn
from that risk; the observed label is the fall only when the household applies (partial
take-up). ``p_fall`` is the true probability for a sample, as the simulator's oracle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SynthFeature:
    name: str
    dtype: str
    categorical: bool = False


FEATURES: tuple[SynthFeature, ...] = (
    SynthFeature("income_ratio_to_dibao", "float"),
    SynthFeature("income_change_6m", "float"),
    SynthFeature("oop_medical_12m", "float"),
    SynthFeature("oop_medical_12m_to_local_income", "float"),
    SynthFeature("new_severe_disability_3m", "int"),
    SynthFeature("newly_unemployed_3m", "int"),
    SynthFeature("earner_died_6m", "int"),
    SynthFeature("house_grade_d", "bool"),
    SynthFeature("members", "int"),
    SynthFeature("elderly_share", "float"),
    SynthFeature("chronic_ill", "int"),
    SynthFeature("household_type_code", "category", categorical=True),
    SynthFeature("noise", "float"),
)
FEATURE_NAMES = [f.name for f in FEATURES]
TYPES = ["elderly_alone", "couple", "nuclear", "single_parent", "three_generation"]
COUNTIES = ["330502", "330503", "330521", "330522", "330523"]
LOCAL_INCOME = 52_000.0


def _keys(n: int, seed: int) -> np.ndarray:
    return np.array([hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:32] for i in range(n)])


def make_snapshots(
    households: int = 3_000, months: int = 30, horizon: int = 6, seed: int = 0, start: str = "2022-01"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(snapshots, truth): one row per household and month; the last ``horizon`` months lack labels."""
    rng = np.random.default_rng(seed)
    n, t = households, months
    # household-level traits
    htype = rng.choice(len(TYPES), n, p=[0.15, 0.2, 0.35, 0.1, 0.2])
    county = rng.integers(0, len(COUNTIES), n)
    urban = rng.random(n) < 0.4
    village = np.array(
        [f"{COUNTIES[c]}{rng.integers(100, 120):03d}{rng.integers(100, 140):03d}" for c in county]
    )
    members = np.choose(
        htype,
        [
            np.ones(n),
            2 * np.ones(n),
            3 + rng.integers(0, 2, n),
            2 + rng.integers(0, 2, n),
            5 + rng.integers(0, 2, n),
        ],
    )
    elderly = np.choose(
        htype, [np.ones(n), rng.uniform(0.3, 1, n), np.zeros(n), np.zeros(n), rng.uniform(0.2, 0.5, n)]
    )
    chronic = (rng.random(n) < 0.15 + 0.3 * elderly).astype(int)
    base_ratio = np.exp(rng.normal(np.log(2.3), 0.45, n))
    visible = rng.uniform(0.4, 1.0, n)  # share of income departments see
    house_d = (~urban & (rng.random(n) < 0.02)).astype(int)
    # monthly panel (household-major)
    hh = np.repeat(np.arange(n), t)
    month = np.tile(np.arange(t), n)
    rows = n * t
    true_ratio = base_ratio[hh] * np.exp(rng.normal(0, 0.12, rows))
    income_change = rng.normal(0, 0.15, rows)
    died = (rng.random(rows) < 0.006).astype(int)
    disabled = (rng.random(rows) < 0.005).astype(int)
    unemployed = ((rng.random(rows) < 0.03) & (elderly[hh] < 0.5)).astype(int)
    true_ratio = true_ratio * np.where(unemployed == 1, 0.6, 1.0) * np.where(died == 1, 0.7, 1.0)
    income_change = income_change - 0.4 * unemployed - 0.3 * died
    oop = np.where(rng.random(rows) < 0.2 + 0.3 * chronic[hh], np.exp(rng.normal(8.5, 1.3, rows)), 0.0)
    oop_share = oop / LOCAL_INCOME
    z = (
        -3.8
        + 2.5 * (true_ratio < 1.6)
        + 2.5 * died
        + 2.5 * disabled
        + 1.8 * unemployed * (true_ratio < 2.5)
        + 2.5 * (oop_share >= 0.5) * (true_ratio < 2.5)
        + 1.0 * house_d[hh]
        + 2.5 * chronic[hh] * (elderly[hh] > 0.5) * (true_ratio < 2.2)
    )
    p_fall = 1 / (1 + np.exp(-z))
    latent = rng.random(rows) < p_fall
    takeup = np.where(htype[hh] == 0, 0.6, 0.85)
    applied = rng.random(rows) < takeup
    in_assistance = (true_ratio * visible[hh] < 0.9) & (rng.random(rows) < 0.8)
    ratio_seen = true_ratio * visible[hh] * np.exp(rng.normal(0, 0.05, rows))
    ratio_seen[rng.random(rows) < 0.02] = np.nan
    as_of = pd.date_range(start, periods=t, freq="MS")[month]
    complete = month < t - horizon
    label = pd.array(latent & applied, dtype="boolean")
    label[~complete] = pd.NA
    keys = _keys(n, seed)
    frame = pd.DataFrame(
        {
            "household_key": keys[hh],
            "as_of": as_of,
            "county_code": np.array(COUNTIES)[county][hh],
            "town_code": pd.Series(village[hh]).str[:9].to_numpy(),
            "village_code": village[hh],
            "urban": urban[hh],
            "household_type": np.array(TYPES)[htype][hh],
            "assistance_state": np.where(in_assistance, "dibao", "none"),
            "in_phase_out": np.zeros(rows, dtype=bool),
            "in_cohort": ~in_assistance,
            "income_ratio_to_dibao": ratio_seen,
            "income_change_6m": income_change,
            "oop_medical_12m": oop,
            "oop_medical_12m_to_local_income": oop_share,
            "new_severe_disability_3m": disabled,
            "newly_unemployed_3m": unemployed,
            "earner_died_6m": died,
            "house_grade_d": house_d[hh].astype(bool),
            "members": members[hh].astype(int),
            "elderly_share": elderly[hh],
            "chronic_ill": chronic[hh],
            "household_type_code": htype[hh],
            "noise": rng.normal(0, 1, rows),
            "label": label,
            "label_applied": label.copy(),
            "visit_label": pd.array(np.full(rows, pd.NA), dtype="boolean"),
            "visit_weight": np.full(rows, np.nan),
            "label_complete": complete,
        }
    )
    sampled = (rng.random(rows) < 0.3) & np.isin(month, [t - horizon - 1, t - horizon - 4])
    truth = pd.DataFrame(
        {
            "household_key": frame["household_key"],
            "as_of": frame["as_of"],
            "latent_fall": pd.array(np.where(frame["in_cohort"], latent, False), dtype="boolean"),
            "p_fall": np.where(sampled, p_fall, np.nan),
        }
    )
    return frame, truth


def with_field_visits(
    snapshots: pd.DataFrame,
    truth: pd.DataFrame,
    listed: int = 60,
    explored: int = 40,
    miss: float = 0.15,
    seed: int = 0,
) -> pd.DataFrame:
    """The snapshots after a field loop: each month the ``listed`` cohort households with the
    lowest visible income ratio are listed by rank (probability 1) and ``explored`` more are
    drawn at random from the rest of the cohort (probability explored / rest). Every listed
    household is visited; a latent fall is confirmed unless the worker misses it (``miss``).
    ``label`` gains the confirmed visits, ``label_applied`` stays the applications only,
    ``visit_label`` / ``visit_weight`` are set for the listed households as features/labels.py
    sets them. A visit finds the falls that never applied, which only the visit labels teach."""
    rng = np.random.default_rng(seed)
    frame = snapshots.copy()
    latent = frame.merge(truth[["household_key", "as_of", "latent_fall"]], on=["household_key", "as_of"])[
        "latent_fall"
    ].to_numpy(bool)
    cohort = frame["in_cohort"].to_numpy(bool) & frame["label_complete"].to_numpy(bool)
    ratio = frame["income_ratio_to_dibao"].fillna(np.inf).to_numpy(float)
    month = frame["as_of"].to_numpy()
    prob = np.full(len(frame), np.nan)
    for as_of in np.unique(month[cohort]):  # a handful of months: one loop iteration each
        rows = np.flatnonzero(cohort & (month == as_of))
        ranked = rows[np.argsort(ratio[rows], kind="stable")]
        top, rest = ranked[:listed], ranked[listed:]
        drawn = rng.choice(rest, size=min(explored, len(rest)), replace=False)
        prob[top] = 1.0
        prob[drawn] = len(drawn) / len(rest)
    visited = ~np.isnan(prob)
    confirmed = visited & latent & (rng.random(len(frame)) >= miss)
    visit_label = pd.array(np.where(visited, confirmed, False), dtype="boolean")
    visit_label[~visited] = pd.NA
    frame["visit_label"] = visit_label
    frame["visit_weight"] = 1.0 / prob
    label = frame["label_applied"].to_numpy(dtype=object).copy()
    label[confirmed] = True
    frame["label"] = pd.array(label, dtype="boolean")
    return frame

"""What the model reads from a feature snapshot, and the design matrix it builds from it.

The feature list comes from ``features.catalogue`` (imported only when asked, so the model
code and its tests run with any list of specs that has a name and a categorical flag).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from features.catalogue import FEATURES

KEY_COLUMNS = ("household_key", "as_of")
GROUP_COLUMNS = ("county_code", "urban", "household_type")
# Feature names that the rule baselines of shared/domain.md rely on.
RULE_FEATURES = (
    "income_ratio_to_dibao",
    "oop_medical_12m",
    "oop_medical_12m_to_local_income",
    "new_severe_disability_3m",
    "newly_unemployed_3m",
    "earner_died_6m",
    "house_grade_d",
)


class FeatureSpec(Protocol):
    """The two attributes of ``features.catalogue.Feature`` the model needs."""

    @property
    def name(self) -> str: ...

    @property
    def categorical(self) -> bool: ...


def registered_features() -> tuple[FeatureSpec, ...]:
    """The project's feature registry (the features layer below models)."""
    return tuple(FEATURES)


def design_matrix(frame: pd.DataFrame, feature_names: Sequence[str]) -> pd.DataFrame:
    """Features as float32 columns in the model's order (categoricals stay integer codes).

    One numeric dtype keeps the model's input stable: a pandas ``category`` or a nullable
    integer column would change the MLflow schema between snapshots; NaN is LightGBM's missing
    value. float32 because LightGBM bins in single precision anyway and a city's validation
    window is millions of rows: training and scoring both go through here, so they agree.
    """
    missing = [n for n in feature_names if n not in frame.columns]
    if missing:
        raise KeyError(f"snapshot lacks features {missing}")
    data = {n: pd.to_numeric(frame[n], errors="raise").astype("float32") for n in feature_names}
    return pd.DataFrame(data, index=frame.index)


def labelled_cohort(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the model is trained and evaluated on: in the cohort, label complete and known."""
    keep = frame["in_cohort"].astype(bool) & frame["label_complete"].astype(bool) & frame["label"].notna()
    out = frame.loc[keep].copy()
    out["label"] = out["label"].astype(bool)
    return out


def complete_as_ofs(frame: pd.DataFrame) -> list[pd.Timestamp]:
    """As-of dates whose labels are complete for every cohort row."""
    cohort = frame.loc[frame["in_cohort"].astype(bool), ["as_of", "label_complete"]]
    done = cohort.groupby("as_of")["label_complete"].all()
    return [pd.Timestamp(d) for d in done.index[done.to_numpy(dtype=bool)]]


def as_float(values: np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(values, dtype=float)

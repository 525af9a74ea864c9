"""Baselines scored beside every model on the same test window.

- The rule-based warnings monitoring platforms use today (shared/domain.md, hard triggers):
  death of an earner, a new grade 1-2 disability, 12-month out-of-pocket medical cost at or
  above last year's local per-capita disposable income, a registered job loss, a house graded
  D. Alone, and together as the number of triggers fired (more triggers, visited first).
- One feature: the visible income ratio to the 低保 line (lowest first).
- Logistic regression on every feature (median-imputed, standardised, categoricals one-hot).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models.schema import design_matrix

RULES: dict[str, tuple[str, float]] = {
    # rule name: (feature, threshold); the rule fires when feature >= threshold
    "earner_died": ("earner_died_6m", 1.0),
    "severe_disability": ("new_severe_disability_3m", 1.0),
    "medical_bills": ("oop_medical_12m_to_local_income", 1.0),
    "unemployment": ("newly_unemployed_3m", 1.0),
    "house_grade_d": ("house_grade_d", 1.0),
}


def rule_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per rule (a missing value does not fire)."""
    return pd.DataFrame(
        {
            name: frame[col].astype("float64").fillna(-np.inf).to_numpy() >= thr
            for name, (col, thr) in RULES.items()
        },
        index=frame.index,
    )


def rule_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Scores of each rule alone and of all rules (number fired): heavy ties by construction."""
    flags = rule_flags(frame)
    scores = {f"rule_{name}": flags[name].to_numpy(float) for name in flags.columns}
    scores["rules_any"] = flags.sum(axis=1).to_numpy(float)
    return scores


def income_ratio_score(frame: pd.DataFrame) -> np.ndarray:
    """The single-feature baseline: the lower the visible income against the line, the higher."""
    return np.asarray(-frame["income_ratio_to_dibao"].astype("float64").to_numpy(), dtype="float64")


def fit_logistic(
    x: pd.DataFrame, y: np.ndarray, weight: np.ndarray, categorical: Sequence[str], seed: int
) -> Pipeline:
    cats = [c for c in categorical if c in x.columns]
    nums = [c for c in x.columns if c not in cats]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=20),
                ),
                cats,
            ),
        ]
    )
    model = Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000, C=1.0, random_state=seed))])
    return model.fit(x, y, lr__sample_weight=weight)


def logistic_score(
    model: Pipeline, frame: pd.DataFrame, feature_names: Sequence[str], chunk: int = 250_000
) -> np.ndarray:
    """In chunks: the imputer, scaler and one-hot encoder each copy their input in float64."""
    parts = [
        model.predict_proba(design_matrix(frame.iloc[i : i + chunk], feature_names))[:, 1]
        for i in range(0, len(frame), chunk)
    ]
    return np.concatenate(parts) if parts else np.array([])

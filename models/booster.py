"""LightGBM on the cohort: fit with early stopping on the validation window."""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.config import LightGBMConfig


def booster_params(cfg: LightGBMConfig, seed: int) -> dict[str, object]:
    return {
        "objective": "binary",
        "metric": ["average_precision", "binary_logloss"],
        "first_metric_only": True,  # stop on PR-AUC: visits act on the top of the ranking
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "min_child_samples": cfg.min_child_samples,
        "feature_fraction": cfg.feature_fraction,
        "bagging_fraction": cfg.bagging_fraction,
        "bagging_freq": cfg.bagging_freq,
        "lambda_l2": cfg.lambda_l2,
        "num_threads": cfg.num_threads,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }


def fit_booster(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    w_train: np.ndarray,
    x_valid: pd.DataFrame,
    y_valid: np.ndarray,
    categorical: Sequence[str],
    cfg: LightGBMConfig,
    seed: int,
) -> lgb.Booster:
    """Train until PR-AUC on the (unsampled) validation window stops improving."""
    cats = [c for c in categorical if c in x_train.columns]
    train = lgb.Dataset(x_train, label=y_train, weight=w_train, categorical_feature=cats, free_raw_data=True)
    valid = lgb.Dataset(x_valid, label=y_valid, reference=train, categorical_feature=cats)
    return lgb.train(
        booster_params(cfg, seed),
        train,
        num_boost_round=cfg.max_rounds,
        valid_sets=[valid],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
    )

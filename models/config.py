"""Configuration of the risk model (``model:`` in configs/model.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from lowinc.home import HomeLayout
from lowinc.section import Section


class SplitConfig(Section):
    """Temporal splits in the triage style, counted in monthly snapshots (as-of dates).

    The test window is the latest ``test_months`` snapshots whose labels are complete. The
    validation window (early stopping and calibration) ends ``gap_months`` before the test
    window, and training ends ``gap_months`` before validation, so every label a window uses
    was known before the next window's first as-of date. ``gap_months`` defaults to the label
    horizon: anything shorter lets outcomes observed after a snapshot's horizon leak in.
    """

    test_months: int = Field(default=3, ge=1)  # a quarter: one month holds too few falls to compare models
    validation_months: int = Field(default=3, ge=1)
    train_months: int | None = Field(default=12, ge=1)  # None: every earlier complete snapshot
    gap_months: int | None = Field(default=None, ge=0)  # None: the label horizon (features.label_horizon)


class LightGBMConfig(Section):
    """Booster parameters. Small, regularised trees on purpose: a region's training window holds
    a couple of thousand falls, and larger trees fit noise (measured on the default region)."""

    learning_rate: float = 0.03
    num_leaves: int = 15
    min_child_samples: int = 200
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    bagging_freq: int = 1
    lambda_l2: float = 1.0
    max_rounds: int = 1000
    early_stopping_rounds: int = 100
    num_threads: int = 0  # 0: LightGBM's default (all cores)


class ModelConfig(Section):
    """Training, evaluation and promotion of the risk model."""

    name: str = "lowinc-risk"  # the registered model name in MLflow
    experiment: str = "lowinc-risk"
    # MLflow tracking store; None: sqlite:///<home>/mlflow/mlflow.db with artifacts in
    # <home>/mlflow/artifacts. A URL (http://mlflow.internal:5000, postgresql://...) overrides it.
    # A secret: a database URL carries its password (printed masked, logged as **********).
    tracking_uri: SecretStr | None = None
    artifact_location: Path | None = None  # None: <home>/mlflow/artifacts (database stores)
    # evaluation at capacity
    visit_capacity: int = Field(default=200, ge=1)  # k: home checks the region's workers make a month
    top_shares: list[float] = Field(default_factory=lambda: [0.01, 0.05, 0.10])
    group_columns: list[str] = Field(default_factory=lambda: ["county_code", "urban", "household_type"])
    # group gaps: a group whose recall at capacity is below this share of the overall recall is
    # flagged (card, run and version tags), if its test window holds at least
    # ``group_min_positives`` falls; smaller groups are reported but not judged (too noisy)
    group_recall_ratio_min: float = Field(default=0.8, gt=0)
    group_min_positives: int = Field(default=20, ge=1)
    splits: SplitConfig = SplitConfig()
    lightgbm: LightGBMConfig = LightGBMConfig()
    # Class imbalance: negatives are sampled down to at most this many per positive in the
    # training window and reweighted by 1/rate (see models/sampling.py for why). None: keep all.
    negatives_per_positive: float | None = Field(default=20.0, gt=0)
    # Labels from visits (selective labels, shared/domain.md). true: train two models on the same
    # split, "observable" (applications and temporary aid only) and "with_visits" (visit outcomes
    # too, each visit label weighted by 1 / the probability its household was listed with), log
    # both and keep the better on the same test window. false: the observable label only.
    visit_labels: bool = True
    # an explored household whose visit found hardship the application label misses stands for
    # at most this many households (1 / listing probability, capped): bounds the variance one
    # visit adds to the with_visits model (models/train.py correction_weight). None: no cap.
    visit_weight_cap: float | None = Field(default=20.0, ge=1)
    calibration: Literal["platt", "isotonic"] = "platt"
    reliability_bins: int = Field(default=10, ge=2)
    # promotion: a challenger replaces the champion automatically only if its precision at
    # capacity on the same latest window beats the champion's by at least this (absolute) margin
    promotion_margin: float = Field(default=0.01, ge=0)
    shap_rows: int = Field(default=2_000, ge=10)  # test rows explained for the SHAP summary plot
    seed: int = 7

    def resolved_tracking_uri(self, home: Path) -> str:
        """The configured URL, or the embedded SQLite store under the project home."""
        if self.tracking_uri:
            return self.tracking_uri.get_secret_value()
        return f"sqlite:///{HomeLayout(home).mlflow_db.resolve()}"

    def resolved_artifact_location(self, home: Path) -> Path:
        return (self.artifact_location or HomeLayout(home).mlflow_artifacts).resolve()

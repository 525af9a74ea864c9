"""Configuration of model monitoring (``monitoring:`` in configs/monitoring.yaml; docs/monitoring.md)."""

from __future__ import annotations

from pydantic import Field, model_validator

from lowinc.section import Section
from monitoring.quality import QualityConfig


class DriftRules(Section):
    """When a month turns amber or red (shared/domain.md: PSI < 0.1 stable, 0.1-0.25 moderate,
    >= 0.25 major). Judged overall and in every county and urban/rural group large enough."""

    psi_amber: float = Field(default=0.10, gt=0)
    psi_red: float = Field(default=0.25, gt=0)
    top_features: int = Field(default=10, ge=1)  # the model's most important features judged
    # a group (county, urban/rural) with fewer cohort households is reported, not judged:
    # the PSI of a small sample is mostly noise, about (bins - 1) x (1/n_reference + 1/n_month)
    min_group_rows: int = Field(default=1_000, ge=1)
    amber_months_to_red: int = Field(default=2, ge=1)  # amber this many months running: red
    # realised precision at capacity below expected - z x its standard error (Poisson-binomial
    # from the calibrated risks of the k visited) is amber
    precision_band_z: float = Field(default=2.0, gt=0)
    # observed falls of a matured month outside expected ± max(z sd, this share of expected)
    falls_tolerance: float = Field(default=0.15, ge=0)
    # False: a watch finding. Calibrated on a few dozen validation falls, a small region's model
    # can miss its base rate by 2x while ranking well; the precision band above is the rule
    falls_outside_band_is_amber: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> DriftRules:
        if self.psi_red <= self.psi_amber:
            raise ValueError("monitoring.rules.psi_red must be above psi_amber")
        return self


class MonitoringConfig(Section):
    """Drift against reference bins frozen at training, expected vs observed outcomes, rules."""

    experiment: str = "lowinc-monitoring"  # MLflow experiment: one long-lived run per model version
    bins: int = Field(default=10, ge=2)  # quantile bins of a numeric feature in the reference window
    rules: DriftRules = DriftRules()
    quality: QualityConfig = QualityConfig()
    group_columns: list[str] = Field(default_factory=lambda: ["county_code", "urban"])
    retrain_on_red: bool = False  # a red month starts a training run (the promotion rule decides)
    notify_model_owners: bool = True  # red: the model_owner users hear through the delivery channels
    notify_data_team: bool = True  # data-quality breaks: the data_team users hear
    report_features: int = Field(default=25, ge=1)  # features shown in the HTML report's table

"""Freeze a model version's reference when it is trained (or, for a version trained before
monitoring existed, the first time it is monitored): a sample of the cohort households of its
training window, scored by the version, binned and stored with its training run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from features import store
from lowinc.errors import NotFound
from models.risk_model import RiskModel
from monitoring.reference import Reference, build_reference
from monitoring.tracking import load_reference, save_reference
from pipelines.settings import Settings

REFERENCE_ROWS = 600_000  # households sampled over the training window: bins of a 1% share still hold 6,000


def sample_window(
    settings: Settings, as_ofs: Sequence[pd.Timestamp], columns: list[str], rows: int = REFERENCE_ROWS
) -> pd.DataFrame:
    """Up to ``rows`` cohort households of the window, the same share of each month, read one
    snapshot at a time (a city's window never sits in memory whole)."""
    per_month = max(1, rows // max(len(as_ofs), 1))
    parts = []
    for i, as_of in enumerate(as_ofs):
        frame = store.read_snapshots(settings.home, [as_of], columns=columns)
        frame = frame.loc[frame["in_cohort"].to_numpy(bool)]
        if len(frame) > per_month:
            frame = frame.sample(per_month, random_state=settings.model.seed + i)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def importance_order(model: RiskModel) -> list[str]:
    """Features by total gain, most important first."""
    gain = np.asarray(model.booster.feature_importance(importance_type="gain"), dtype=float)
    names = list(model.booster.feature_name())
    return [names[i] for i in np.argsort(-gain, kind="stable")]


def reference_for(settings: Settings, model: RiskModel, as_ofs: Sequence[pd.Timestamp]) -> Reference:
    groups = [c for c in settings.monitoring.group_columns]
    columns = list(dict.fromkeys(["as_of", "in_cohort", *groups, *model.feature_names]))
    frame = sample_window(settings, as_ofs, columns)
    if frame.empty:
        raise NotFound(
            "no snapshot of the model's training window is left to freeze its reference from",
            hint="lowinc features --from ... --to ... (rebuild the training window's snapshots)",
        )
    cats = set(model.categorical)
    return build_reference(
        frame,
        model.predict_risk(frame),
        [(n, n in cats) for n in model.feature_names],
        model_version=str(model.version or ""),
        group_columns=groups,
        importance=importance_order(model),
        tier_shares=settings.scoring.tier_shares.model_dump(),
        n_bins=settings.monitoring.bins,
    )


def training_months(client: MlflowClient, run_id: str) -> list[pd.Timestamp]:
    """The training window's as-of dates from the run's ``split.train`` (YYYY-MM..YYYY-MM)."""
    window = client.get_run(run_id).data.params.get("split.train", "")
    if ".." not in window:
        raise NotFound(f"training run {run_id} records no training window", hint="lowinc train")
    first, last = window.split("..")
    return list(pd.date_range(f"{first}-01", f"{last}-01", freq="MS"))


def freeze_reference(
    settings: Settings, client: MlflowClient, run_id: str, model: RiskModel, as_ofs: Sequence[pd.Timestamp]
) -> Reference:
    """Build the reference and store it with the training run."""
    reference = reference_for(settings, model, as_ofs)
    save_reference(client, run_id, reference)
    return reference


def version_reference(settings: Settings, client: MlflowClient, model: RiskModel) -> Reference:
    """The version's frozen reference; frozen now from its training window if it has none."""
    run_id = str(client.get_model_version(settings.model.name, str(model.version)).run_id)
    found = load_reference(client, run_id)
    if found is not None:
        return found
    return freeze_reference(settings, client, run_id, model, training_months(client, run_id))

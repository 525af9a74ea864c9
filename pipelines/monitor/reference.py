"""Freeze a model version's reference when it is trained (or, for a version trained before
monitoring existed, the first time it is monitored), and store it with its training run.

The reference is a sample of the cohort households of the version's test window, scored by
the version: the latest window whose labels were complete at training, out of sample, and
the one its precision at capacity was measured on. Not the training window itself: on a
region whose deliveries start shortly before it, the 12- and 24-month features of the early
training snapshots are sums over a few months only, so the training window is a population
the model never serves (on a stable simulated region every month then alarms on
``oop_medical_12m_share``, PSI 0.26). How far the training window lies from the reference is
logged with the training run instead (``train_skew.*``), for the model owner to judge."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from features import store
from lowinc.errors import NotFound
from models.risk_model import RiskModel
from monitoring.drift import measure_drift
from monitoring.reference import SCORE, Reference, build_reference
from monitoring.tracking import load_reference, save_reference
from pipelines.monitor.inputs import single_precision
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
        frame = single_precision(store.read_snapshots(settings.home, [as_of], columns=columns))
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


def window_months(client: MlflowClient, run_id: str, window: str = "test") -> list[pd.Timestamp]:
    """A window's as-of dates from the training run's ``split.<window>`` (YYYY-MM..YYYY-MM)."""
    dates = client.get_run(run_id).data.params.get(f"split.{window}", "")
    if ".." not in dates:
        raise NotFound(f"training run {run_id} records no {window} window", hint="lowinc train")
    first, last = dates.split("..")
    return list(pd.date_range(f"{first}-01", f"{last}-01", freq="MS"))


def freeze_reference(
    settings: Settings,
    client: MlflowClient,
    run_id: str,
    model: RiskModel,
    as_ofs: Sequence[pd.Timestamp],
    train_as_ofs: Sequence[pd.Timestamp] = (),
) -> Reference:
    """Build the reference from ``as_ofs`` (the test window) and store it with the training
    run; with ``train_as_ofs``, also log how far the training window lies from it."""
    reference = reference_for(settings, model, as_ofs)
    save_reference(client, run_id, reference)
    if train_as_ofs:
        log_train_skew(settings, client, run_id, model, reference, train_as_ofs)
    return reference


def log_train_skew(
    settings: Settings,
    client: MlflowClient,
    run_id: str,
    model: RiskModel,
    reference: Reference,
    train_as_ofs: Sequence[pd.Timestamp],
) -> None:
    """PSI of the training window against the reference: metrics and a tag naming the features
    at or above the amber threshold (immature windows, or drift during training)."""
    cfg = settings.monitoring
    columns = list(dict.fromkeys(["as_of", "in_cohort", *model.feature_names]))
    sample = sample_window(settings, train_as_ofs, columns, rows=REFERENCE_ROWS // 4)
    drift = measure_drift(reference, sample, model.predict_risk(sample), [], 1, cfg.rules.top_features)
    overall = drift.features.sort_values("psi", ascending=False)
    skewed = overall[overall["psi"] >= cfg.rules.psi_amber]
    top = overall.loc[overall["top"], "psi"]
    client.log_metric(run_id, "train_skew.score_psi", drift.overall(SCORE))
    client.log_metric(run_id, "train_skew.top_feature_psi_max", float(top.max()) if len(top) else 0.0)
    text = "; ".join(f"{f}:{v:.2f}" for f, v in zip(skewed["feature"], skewed["psi"], strict=True))
    client.set_tag(run_id, "train_skew_features", text[:5000] or "none")


def version_reference(settings: Settings, client: MlflowClient, model: RiskModel) -> Reference:
    """The version's frozen reference; frozen now from its training window if it has none."""
    run_id = str(client.get_model_version(settings.model.name, str(model.version)).run_id)
    found = load_reference(client, run_id)
    if found is not None:
        return found
    return freeze_reference(settings, client, run_id, model, window_months(client, run_id))

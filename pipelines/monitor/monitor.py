"""One month of monitoring without Prefect: measure, judge, log to MLflow, notify.

For the scored as-of date T: the serving version's drift against its frozen reference and
the outcomes its risks promise; the challenger, if one is registered, shadow-scored on the
same cohort; the month T - H whose labels have matured, measured for every version that
scored it; the delivery month's data quality; the visits recorded in the month before. The
CLI (`lowinc monitor`) and the monthly flow's monitor stage both call :func:`monitor`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from lowinc.errors import NotFound
from models.registry import load_version
from models.risk_model import RiskModel
from models.tracking import configure, ensure_experiment
from monitoring.drift import measure_drift
from monitoring.month import ModelMonth, MonitorMonth, Realised
from monitoring.outcomes import expected_outcomes, realised_outcomes
from monitoring.reference import ALL, TIERS, group_codes, tier_of_rank
from monitoring.rules import Finding, drift_findings, outcome_findings
from monitoring.selective import selective_evaluation
from pipelines.monitor import inputs
from pipelines.monitor.history import Versions, challenger_of
from pipelines.monitor.notices import notify
from pipelines.monitor.publish import log_month
from pipelines.monitor.quality import assess_month_quality
from pipelines.monitor.reference import version_reference
from pipelines.settings import Settings


def tier_counts(
    frame: pd.DataFrame, tiers: np.ndarray, group_columns: list[str]
) -> dict[str, dict[str, int]]:
    """Households per tier (codes 0 red .. 3 blue) in every group, in one bincount per column."""
    groups, codes = group_codes(frame, group_columns)
    counts = np.zeros((len(groups), len(TIERS)), dtype=np.int64)
    for j in range(codes.shape[1]):
        keep = codes[:, j] >= 0
        flat = codes[keep, j] * len(TIERS) + tiers[keep]
        counts += np.bincount(flat, minlength=len(groups) * len(TIERS)).reshape(len(groups), len(TIERS))
    return {g: {t: int(counts[i, k]) for k, t in enumerate(TIERS)} for i, g in enumerate(groups)}


def tier_codes(tier: pd.Series) -> np.ndarray:
    return tier.map({t: i for i, t in enumerate(TIERS)}).fillna(3).to_numpy(np.int64)


def model_month(
    settings: Settings,
    versions: Versions,
    model: RiskModel,
    role: str,
    as_of: pd.Timestamp,
    frame: pd.DataFrame,
    risk: np.ndarray,
    tiers: np.ndarray,
) -> ModelMonth:
    cfg = settings.monitoring
    reference = version_reference(settings, versions.client, model)
    groups = [c for c in cfg.group_columns if c in frame.columns]
    drift = measure_drift(reference, frame, risk, groups, cfg.rules.min_group_rows, cfg.rules.top_features)
    first = inputs.first_month(settings.layout, str(model.version)) or as_of
    return ModelMonth(
        version=str(model.version),
        role=role,
        as_of=f"{as_of:%Y-%m-%d}",
        step=max(0, inputs.months_between(first, as_of)),
        drift=drift,
        expected=expected_outcomes(risk, settings.model.visit_capacity),
        tier_counts=tier_counts(frame, tiers, groups),
        findings=drift_findings(drift, cfg.rules),
        bins=reference.bins,
    )


def realised_months(settings: Settings, as_of: pd.Timestamp) -> list[Realised]:
    """The month whose labels have just matured (T - H), measured for every version that
    scored it (serving and shadow). None when it was not scored or is not complete yet."""
    cfg = settings.monitoring
    matured = as_of - pd.DateOffset(months=settings.features.label_horizon)
    layout = settings.layout
    if matured not in inputs.scored_months(layout):
        return []
    extra = [
        c for c in dict.fromkeys([*cfg.group_columns, *settings.model.group_columns]) if c != "county_code"
    ]
    labels = inputs.matured_labels(settings.home, matured, ["county_code", *extra])
    if labels is None:
        return []
    scores = inputs.read_scores(layout, matured)
    runs = [(str(v), scores) for v in scores["model_version"].astype(str).unique()]
    runs += [
        (v, pd.read_parquet(inputs.shadow_file(layout, matured, v)))
        for v in inputs.shadow_versions(layout, matured)
    ]
    out = []
    for version, risks in runs:
        frame = labels.merge(
            risks[["household_key", "risk"]], on="household_key", how="inner", validate="one_to_one"
        )
        frame = frame.assign(as_of=matured)
        metrics, groups = realised_outcomes(
            frame,
            settings.model.visit_capacity,
            settings.model.group_columns,
            cfg.rules.precision_band_z,
            cfg.rules.falls_tolerance,
        )
        month = f"{matured:%Y-%m}"
        first = inputs.first_month(layout, version) or matured
        out.append(
            Realised(
                as_of=f"{matured:%Y-%m-%d}",
                version=version,
                step=max(0, inputs.months_between(first, matured)),
                metrics=metrics,
                groups=groups,
                findings=outcome_findings(metrics, month, cfg.rules),
            )
        )
    return out


def field_figures(settings: Settings, as_of: pd.Timestamp) -> dict[str, float]:
    """Visits recorded for the month before ``as_of``: field-verified precision (confirmed ÷
    visited with a label result), from the outreach database's visit outcomes; and, for the
    list of that month, the inverse-propensity estimates under selective labels
    (monitoring.selective): the hardship rate over the households the list and its exploration
    cover, and the share of it the households listed by rank hold."""
    from outreach.outcomes import listed_outcomes, outcome_counts
    from outreach.startup import open_outreach_db

    start = (as_of - pd.DateOffset(months=1)).date()
    engine = open_outreach_db(settings.outreach, settings.home)
    try:
        counts = outcome_counts(engine, start, as_of.date())
        listed = listed_outcomes(engine, start)
    finally:
        engine.dispose()
    out = selective_figures(listed)
    visited = sum(counts.values())
    labelled = counts.get("confirmed", 0) + counts.get("no_hardship", 0)
    out |= {"field.visits": float(visited), "field.confirmed": float(counts.get("confirmed", 0))}
    out["field.labelled"] = float(labelled)
    if labelled:
        out["field.precision"] = counts.get("confirmed", 0) / labelled
    return out


def selective_figures(listed: pd.DataFrame) -> dict[str, float]:
    """``field.list_*`` figures of one month's list: visited precision by how households were
    listed, and the weighted estimates (with their 95% intervals) once a label exists."""
    labelled = listed["result"].isin(("confirmed", "no_hardship"))
    out: dict[str, float] = {
        "field.list_tasks": float(len(listed)),
        "field.list_labelled": float(labelled.sum()),
    }
    for kind in ("rank", "explore"):
        part = labelled & (listed["selection"] == kind)
        out[f"field.list_labelled_{kind}"] = float(part.sum())
        if part.any():
            out[f"field.list_precision_{kind}"] = float((listed.loc[part, "result"] == "confirmed").mean())
    if not labelled.any():
        return out
    est = selective_evaluation(listed)
    for name, value in (("hardship_rate_ipw", est.hardship_rate), ("rank_recall_ipw", est.rank_recall)):
        if np.isfinite(value.value):
            out |= {
                f"field.{name}": value.value,
                f"field.{name}_low": value.low,
                f"field.{name}_high": value.high,
            }
    return out


def registered(client: MlflowClient, name: str, version: str) -> RiskModel:
    """A registered version; one that is gone from the registry is a user's error, not a crash."""
    try:
        return load_version(client, name, version)
    except MlflowException:
        raise NotFound(f"model {name} v{version} is not in the registry", hint="lowinc model list") from None


def monitor(settings: Settings, as_of: str | None = None) -> dict[str, Any]:
    """Monitor one scored month (default: the latest); returns the summary the CLI prints."""
    started = time.perf_counter()
    layout = settings.layout
    ts = inputs.resolve_month(layout, as_of)
    client = configure(settings.model, settings.home)
    experiment = ensure_experiment(client, settings.model, settings.home, name=settings.monitoring.experiment)
    versions = Versions(client, experiment, settings.model.name)
    scores = inputs.read_scores(layout, ts)
    if scores.empty:
        raise NotFound(
            f"no household was scored at {ts:%Y-%m-%d}", hint=f"lowinc score --as-of {ts:%Y-%m-%d}"
        )
    serving = str(scores["model_version"].astype(str).iloc[0])
    model = registered(client, settings.model.name, serving)
    challenger_version = challenger_of(versions, serving)
    challenger = registered(client, settings.model.name, challenger_version) if challenger_version else None
    cfg = settings.monitoring
    snapshot_columns = inputs.snapshot_columns(settings.home, ts)
    if challenger is not None and not set(challenger.feature_names) <= snapshot_columns:
        challenger = None  # it reads features this snapshot lacks: not shadow-scored (a person decides)
    names = list(dict.fromkeys([*model.feature_names, *(challenger.feature_names if challenger else [])]))
    frame = inputs.cohort_frame(settings.home, ts, scores, [*cfg.group_columns, *names])
    risk = scores["risk"].to_numpy(float)
    months = [model_month(settings, versions, model, "serving", ts, frame, risk, tier_codes(scores["tier"]))]
    if challenger is not None:
        risk = challenger.predict_risk(frame)
        inputs.write_shadow(layout, ts, str(challenger.version), scores["household_key"], risk)
        tiers = tier_of_rank(risk, None, settings.scoring.tier_shares.model_dump())
        months.append(model_month(settings, versions, challenger, "shadow", ts, frame, risk, tiers))
    del frame
    realised = realised_months(settings, ts)
    for month in months:
        month.realised = next((r for r in realised if r.version == month.version), None)
        if month.realised is not None:
            month.findings += month.realised.findings
    quality = assess_month_quality(settings, ts)
    if quality is not None and quality.schema_break:
        breaks = "; ".join(f.text for f in quality.findings if f.severity == "red")
        months[0].findings.insert(
            0, Finding("red", "schema_break", "data", ALL, 1.0, f"schema break: {breaks}"[:300])
        )
    visits = field_figures(settings, ts)
    result = MonitorMonth(as_of=f"{ts:%Y-%m-%d}", models=months, quality=quality, visits=visits)
    logged = log_month(settings, versions, result, realised)
    notified = notify(settings, result)
    return summary(settings, result, logged, notified, round(time.perf_counter() - started, 1))


def _round(value: float, digits: int = 4) -> float | None:
    return None if value is None or value != value else round(float(value), digits)


def summary(
    settings: Settings, result: MonitorMonth, logged: dict[str, Any], notified: dict[str, Any], seconds: float
) -> dict[str, Any]:
    """What `lowinc monitor --json` prints (figures, findings, where to look)."""

    def one(m: ModelMonth) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": m.version,
            "role": m.role,
            "step": m.step,
            "status": m.status,
            "score_psi": _round(m.drift.overall("score")),
            "top_feature_psi_max": _round(float(m.drift.features.loc[m.drift.features["top"], "psi"].max())),
            "expected_falls": _round(m.expected["expected_falls"], 1),
            "expected_precision_at_k": _round(m.expected["expected_precision_at_k"]),
            "findings": [f.to_dict() for f in m.findings],
        }
        if m.realised is not None:
            r = m.realised.metrics
            out["realised"] = {"as_of": m.realised.as_of} | {
                k.removeprefix("realised."): _round(v) for k, v in r.items()
            }
        return out

    quality = result.quality
    return {
        "as_of": result.as_of,
        "model": settings.model.name,
        "status": result.status,
        "models": [one(m) for m in result.models],
        "data_quality": None
        if quality is None
        else {
            "month": quality.month,
            "status": quality.status,
            "findings": [f.text for f in quality.findings],
        },
        "field": result.visits,
        "champion_vs_challenger": result.comparison.to_dict(orient="records"),
        "mlflow": {"experiment": settings.monitoring.experiment} | logged,
        "notified": notified,
        "seconds": seconds,
    }

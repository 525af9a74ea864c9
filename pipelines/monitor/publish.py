"""Log a monitored month to MLflow: statuses, figures by month, the report and plots, tags.

The serving version's run gets the month's figures at its step, the data-quality and field
figures, the HTML report, the drift tables and the trend plots under ``reports/YYYY-MM/``
(the latest plots also under ``plots/``); a shadow-scored challenger's run gets its own
figures and tables; a matured month's figures go to the run of the version that scored it,
at that month's step. A copy of the report is kept at ``<home>/reports/monitoring/``.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from lowinc.private import private_dir
from monitoring.month import ModelMonth, MonitorMonth, Realised, metric_key
from monitoring.plots import drift_bars, trend_figures
from monitoring.report import render_report
from monitoring.rules import status_of
from monitoring.tracking import (
    log_figures,
    log_folder,
    month_statuses,
    previous_statuses,
    record_status,
    tag_version,
)
from pipelines.monitor.history import Versions, comparison, metric_history
from pipelines.settings import Settings


def judge(versions: Versions, month: ModelMonth, settings: Settings) -> str:
    """Settle the month's status (amber running turns red) and record it; returns the run id."""
    rules = settings.monitoring.rules
    run_id = versions.run_of(month.version)
    key = month.as_of[:7]
    previous = previous_statuses(
        month_statuses(versions.client, run_id), key, max(rules.amber_months_to_red - 1, 0)
    )
    month.status, month.findings = status_of(month.findings, previous, rules)
    record_status(versions.client, run_id, key, month.status)
    return run_id


def realised_figures(realised: Realised, min_positives: int) -> dict[str, float]:
    out = dict(realised.metrics)
    g = realised.groups
    for name, ratio, positives in zip(g["group_name"], g["recall_ratio"], g["positives"], strict=True):
        if positives >= min_positives and not math.isnan(float(ratio)):
            out[f"realised.recall_ratio/{metric_key(str(name))}"] = float(ratio)
    return {k: v for k, v in out.items() if not math.isnan(float(v))}


def write_tables(folder: Path, month: ModelMonth) -> None:
    month.drift.features.to_csv(folder / "drift_features.csv", index=False)
    month.drift.score.to_csv(folder / "drift_score.csv", index=False)
    month.drift.tiers.to_csv(folder / "drift_tiers.csv", index=False)
    month.drift.means.to_csv(folder / "feature_means.csv", index=False)
    if month.realised is not None:
        month.realised.groups.to_csv(folder / "realised_groups.csv", index=False)


def save_figure(fig: Any, path: Path) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def log_month(
    settings: Settings, versions: Versions, result: MonitorMonth, realised: list[Realised]
) -> dict[str, Any]:
    """Everything of the month into MLflow; returns the run ids and where the report is."""
    cfg = settings.monitoring
    client = versions.client
    runs = {m.version: judge(versions, m, settings) for m in result.models}
    serving = result.serving
    figures = serving.metrics(cfg.rules.min_group_rows) | result.visits
    if result.quality is not None:
        figures |= {k: v for k, v in result.quality.metrics.items() if not math.isnan(float(v))}
    log_figures(client, runs[serving.version], figures, serving.step, serving.as_of)
    for shadow in result.models[1:]:
        log_figures(
            client, runs[shadow.version], shadow.metrics(cfg.rules.min_group_rows), shadow.step, shadow.as_of
        )
    min_positives = settings.model.group_min_positives
    for r in realised:
        log_figures(client, versions.run_of(r.version), realised_figures(r, min_positives), r.step, r.as_of)
    challenger = result.models[1].version if len(result.models) > 1 else None
    result.comparison = comparison(versions, serving.version, challenger)
    result.history = metric_history(client, runs[serving.version])
    month = serving.as_of[:7]
    html = render_report(
        result,
        model_name=settings.model.name,
        top_n=cfg.report_features,
        bins=serving.bins,
        amber=cfg.rules.psi_amber,
        red=cfg.rules.psi_red,
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "drift_report.html").write_text(html, encoding="utf-8")
        write_tables(folder, serving)
        if result.quality is not None:
            result.quality.table.to_csv(folder / "data_quality.csv", index=False)
        if not result.comparison.empty:
            result.comparison.to_csv(folder / "champion_vs_challenger.csv", index=False)
        bars = drift_bars(serving.drift, amber=cfg.rules.psi_amber, red=cfg.rules.psi_red)
        save_figure(bars, folder / "drift_features.png")
        plots = Path(tmp) / "plots"
        plots.mkdir()
        for name, fig in trend_figures(
            result.history, amber=cfg.rules.psi_amber, red=cfg.rules.psi_red
        ).items():
            save_figure(fig, plots / name)
        log_folder(client, runs[serving.version], plots, "plots")
        for png in plots.iterdir():
            png.replace(folder / png.name)
        plots.rmdir()
        log_folder(client, runs[serving.version], folder, f"reports/{month}")
        for shadow in result.models[1:]:
            shadow_dir = Path(tmp) / f"shadow-{shadow.version}"
            shadow_dir.mkdir()
            write_tables(shadow_dir, shadow)
            log_folder(client, runs[shadow.version], shadow_dir, f"reports/{month}")
    local = private_dir(settings.layout.monitoring_reports) / f"{month}.html"
    local.write_text(html, encoding="utf-8")
    local.chmod(0o600)
    for m in result.models:
        tags = {
            "monitoring_status": m.status,
            "last_monitored_month": month,
            "monitoring_summary": m.summary(),
        }
        if m.role == "shadow" and not result.comparison.empty:
            tags["live_months_compared"] = str(len(result.comparison))
            tags["live_precision_at_k_gain"] = f"{result.comparison['gain'].mean():+.4f}"
        tag_version(client, settings.model.name, m.version, tags)
    return {
        "runs": runs,
        "experiment_id": versions.experiment_id,
        "report": str(local),
        "artifacts": f"reports/{month}",
    }

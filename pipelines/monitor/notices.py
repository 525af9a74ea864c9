"""Who hears of a month: the model owners of a red month, the data team of a data-quality
break, through the outreach outbox and the delivery channels (pipelines.notify). Texts carry
versions, months, feature names, division codes and figures, never a delivered value."""

from __future__ import annotations

from typing import Any

from ingest.notice import IngestNotice
from monitoring.month import MonitorMonth
from pipelines.notify import MONITORING_NOTICE, QUALITY_NOTICE, send_notice
from pipelines.settings import Settings

MAX_LINES = 12


def model_owner_notice(result: MonitorMonth, settings: Settings) -> IngestNotice:
    serving = result.serving
    month = result.as_of[:7]
    lines = [f"- {f.text}" for f in serving.findings[:MAX_LINES]]
    if len(serving.findings) > MAX_LINES:
        lines.append(f"- … and {len(serving.findings) - MAX_LINES} more (see the report)")
    lines.append(
        f"MLflow: experiment {settings.monitoring.experiment}, run monitor-v{serving.version}, "
        f"reports/{month}/drift_report.html"
    )
    if settings.monitoring.retrain_on_red:
        lines.append("A training run starts now; the promotion rule decides whether it serves.")
    else:
        lines.append("Review the drift; retrain with `lowinc train` (the promotion rule decides).")
    title = f"lowinc: model {settings.model.name} v{serving.version} is red for {month}"
    return IngestNotice(title=title, lines=tuple(lines), months=(month,))


def quality_notice(result: MonitorMonth) -> IngestNotice | None:
    from monitoring.quality import quality_notice_lines

    quality = result.quality
    if quality is None or quality.status == "green":
        return None
    month = str(quality.month)
    title = f"lowinc: data quality {quality.status} for delivery month {month}"
    return IngestNotice(title=title, lines=tuple(quality_notice_lines(quality)), months=(month,))


def notify(settings: Settings, result: MonitorMonth) -> dict[str, Any]:
    cfg = settings.monitoring
    sent: dict[str, Any] = {}
    if cfg.notify_model_owners and result.status == "red":
        notice = model_owner_notice(result, settings)
        sent["model_owners"] = send_notice(settings, notice, role="model_owner", kind=MONITORING_NOTICE)
    quality = quality_notice(result)
    if cfg.notify_data_team and quality is not None:
        sent["data_team"] = send_notice(settings, quality, role="data_team", kind=QUALITY_NOTICE)
    return sent

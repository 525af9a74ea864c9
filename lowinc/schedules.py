"""When the flows run in production (``deployments:`` in configs/deployments.yaml)."""

from __future__ import annotations

from lowinc.section import Section


class DeploymentsConfig(Section):
    """Prefect deployments: a work pool and cron schedules in the bureau's time zone."""

    timezone: str = "Asia/Shanghai"
    work_pool: str = "lowinc"
    # the monthly loop (ingest → features → score → deliver) once deliveries are due
    monthly_cron: str = "0 2 8 * *"
    # retries of queued alerts that could not be delivered yet
    delivery_cron: str = "*/30 * * * *"
    # retraining; the promotion rule decides whether the new model serves
    retrain_cron: str = "0 3 10 1,4,7,10 *"

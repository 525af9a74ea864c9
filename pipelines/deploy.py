"""Prefect deployments declared in the repository: which flow, on which schedule, in which
work pool. ``lowinc deploy`` registers them with the Prefect server of PREFECT_API_URL; a
process worker (``prefect worker start --pool lowinc``) runs them from this checkout.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

from lowinc.settings import REPO_ROOT, Settings

# Settings a flow run needs from the environment of the process that deploys
FORWARDED_ENV = ("LOWINC_HOME", "LOWINC_CONFIG_DIR", "LOWINC_PSEUDONYM_KEY")


@dataclass(frozen=True)
class Deployment:
    """One deployment: a flow entrypoint in this repository and its cron schedule (or none)."""

    name: str
    entrypoint: str
    cron: str | None
    description: str


def declared(settings: Settings) -> list[Deployment]:
    d = settings.deployments
    return [
        Deployment(
            "monthly",
            "pipelines/loop.py:monthly_flow",
            d.monthly_cron,
            "Ingest new deliveries, build snapshots, score, queue and deliver alerts",
        ),
        Deployment(
            "deliver",
            "pipelines/alerts/flow.py:deliver_flow",
            d.delivery_cron,
            "Retry alerts not delivered yet (backoff, dead letters)",
        ),
        Deployment(
            "retrain",
            "pipelines/train/flow.py:train_flow",
            d.retrain_cron,
            "Train a challenger; promoted only if it beats the champion by the margin",
        ),
    ]


def ensure_work_pool(name: str) -> None:
    """Create the process work pool when the server does not have it yet."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def deploy_all(settings: Settings, source: Path = REPO_ROOT, env: dict[str, str] | None = None) -> list[str]:
    """Create or update every declared deployment; returns their names (flow/deployment)."""
    import os

    from prefect import Flow
    from prefect.schedules import Cron

    job_env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ} | {
        "LOWINC_HOME": str(settings.home)
    }
    job_env |= env or {}
    ensure_work_pool(settings.deployments.work_pool)
    names = []
    for dep in declared(settings):
        flow = Flow.from_source(source=str(source), entrypoint=dep.entrypoint)
        schedules = [Cron(dep.cron, timezone=settings.deployments.timezone)] if dep.cron else []
        with contextlib.redirect_stdout(sys.stderr):  # Prefect prints its tables on stdout
            flow.deploy(
                name=dep.name,
                work_pool_name=settings.deployments.work_pool,
                schedules=schedules,
                job_variables={"env": job_env, "working_dir": str(source)},
                description=dep.description,
                print_next_steps=False,
                build=False,
                push=False,
            )
        names.append(f"{flow.name}/{dep.name}")
    return names

"""Prefect deployments declared in the repository: which flow, on which schedule, in which
work pool. ``lowinc deploy`` registers them with the Prefect server of PREFECT_API_URL; a
process worker (``prefect worker start --pool lowinc``) runs them from this checkout.

A deployment's job variables are stored in Prefect's database and shown in its UI, so they
carry only where things are (``LOWINC_HOME``, ``LOWINC_CONFIG_DIR``), never a secret: each
worker reads the pseudonym key (``LOWINC_PSEUDONYM_KEY``, ``LOWINC_PSEUDONYM_KEY_FILE`` or
``<home>/secure/pseudonym.key``), passwords and database URLs from its own environment.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound
from prefect.schedules import Cron

from lowinc.errors import UserError
from lowinc.settings import REPO_ROOT
from pipelines.settings import Settings

# Settings a flow run needs from the environment of the process that deploys: locations only
FORWARDED_ENV = ("LOWINC_HOME", "LOWINC_CONFIG_DIR")
# Names of variables that hold secrets: never put into a deployment
SECRET_MARKERS = ("KEY", "PASSWORD", "SECRET", "TOKEN", "DATABASE_URL", "TRACKING_URI", "ADDRESSES", "USERS")


@dataclass(frozen=True)
class Deployment:
    """One deployment: a flow entrypoint in this repository and its cron schedule (or none).

    The entrypoint is a module path (``pipelines.loop.monthly_flow``), never a file path: Prefect
    loads a file path by putting the file's folder first on ``sys.path``, where ``pipelines/`` would
    shadow the packages its stages are named after (``features``, ``outreach``)."""

    name: str
    entrypoint: str
    cron: str | None
    description: str


def declared(settings: Settings) -> list[Deployment]:
    d = settings.deployments
    return [
        Deployment(
            "monthly",
            "pipelines.loop.monthly_flow",
            d.monthly_cron,
            "Ingest new deliveries, build snapshots, score, queue and deliver alerts",
        ),
        Deployment(
            "deliver",
            "pipelines.outreach.flow.deliver_flow",
            d.delivery_cron,
            "Retry alerts not delivered yet (backoff, dead letters)",
        ),
        Deployment(
            "retrain",
            "pipelines.train.flow.train_flow",
            d.retrain_cron,
            "Train a challenger; promoted only if it beats the champion by the margin",
        ),
    ]


def ensure_work_pool(name: str) -> None:
    """Create the process work pool when the server does not have it yet."""
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret (or personal data)."""
    return any(marker in name.upper() for marker in SECRET_MARKERS)


def job_environment(
    settings: Settings, environ: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a deployment's flow runs get: locations only. A secret among ``extra``
    is refused rather than stored in Prefect."""
    env = os.environ if environ is None else environ
    job_env = {k: env[k] for k in FORWARDED_ENV if k in env} | {"LOWINC_HOME": str(settings.home)}
    if secret := sorted(k for k in (extra or {}) if is_secret_name(k)):
        raise UserError(
            f"refusing to store {', '.join(secret)} in Prefect's deployments (its database and UI show them)",
            hint="set secrets in each worker's own environment, or LOWINC_PSEUDONYM_KEY_FILE",
        )
    return job_env | dict(extra or {})


def deploy_all(settings: Settings, source: Path = REPO_ROOT, env: dict[str, str] | None = None) -> list[str]:
    """Create or update every declared deployment; returns their names (flow/deployment)."""
    job_env = job_environment(settings, extra=env)
    ensure_work_pool(settings.deployments.work_pool)
    names = []
    for dep in declared(settings):
        # called from sync code, Prefect's sync_compatible from_source returns the flow itself
        flow = cast(Flow[..., Any], Flow.from_source(source=str(source), entrypoint=dep.entrypoint))
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

"""Process environment for the embedded default: Prefect, Great Expectations and MLflow keep
their state under the project home and send no telemetry. Call before importing them."""

from __future__ import annotations

import os

from lowinc.settings import Settings


def prepare_environment(settings: Settings) -> None:
    """Set what the libraries read from the environment (a value already set wins)."""
    defaults = {
        "PREFECT_HOME": str(settings.home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # a first start creates the server's database: slow on a small machine
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "GX_ANALYTICS_ENABLED": "false",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)

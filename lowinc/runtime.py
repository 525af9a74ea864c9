"""Process environment for the embedded default: Prefect, Great Expectations and MLflow keep
their state under the project home and send no telemetry; whatever the process writes is
readable by its owner only (:mod:`lowinc.private`). Call before importing them."""

from __future__ import annotations

import os

from lowinc.home import HomeLayout
from lowinc.private import private_process, secure_home


def prepare_environment(home: HomeLayout) -> None:
    """Set what the libraries read from the environment (a value already set wins), and make
    the process and the home private."""
    defaults = {
        "PREFECT_HOME": str(home.prefect),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # a first start creates the server's database: slow on a small machine
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "GX_ANALYTICS_ENABLED": "false",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    private_run(home)


def private_run(home: HomeLayout) -> None:
    """What every entry point (the command line, each deployed flow a worker starts) does
    first: an owner-only umask for the process and the home's personal-data folders fixed up.
    A Prefect worker's flow run is a fresh process with the worker's umask, hence the flows."""
    private_process()
    secure_home(home.root)

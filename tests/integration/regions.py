"""The small simulated region the end-to-end tests run the whole loop on: small enough for
CI, with the label horizon and the training windows shortened so 16 months can train."""

from __future__ import annotations

import os
from pathlib import Path

SMALL_REGION = {
    "LOWINC_SIMULATION__HOUSEHOLDS": "1500",
    "LOWINC_SIMULATION__MONTHS": "16",
    "LOWINC_SIMULATION__COUNTY": "330503",
    "LOWINC_SIMULATION__MC_MONTHS": "[]",
    "LOWINC_FEATURES__LABEL_HORIZON": "3",
    "LOWINC_MODEL__SPLITS__TRAIN_MONTHS": "3",
    "LOWINC_MODEL__SPLITS__VALIDATION_MONTHS": "2",
    "LOWINC_MODEL__VISIT_CAPACITY": "20",
}


def small_region_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without Prefect or lowinc settings, plus the small region."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LOWINC_"))}
    return env | {"LOWINC_HOME": str(home), **SMALL_REGION, **extra}

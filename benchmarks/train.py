"""Benchmark: train the risk model on a large region (features excluded) and print wall time
and peak memory.

    .venv/bin/python -m benchmarks.train --households 1000000 --home DIR

The issue's scale goal: 1,000,000 households with 12 monthly snapshots in the training window
in at most 15 minutes and 10 GB. Building real features for a million households is the
feature stage's benchmark, so this one writes snapshots with the registry's exact columns and
dtypes (features.store) and synthetic values: a planted signal on the policy features, ~1%
positives over the horizon. 18 snapshots are written: 12 for training, 3 for validation and
3 for test, spaced by the label horizon as the default split needs (the gap months are not
written: nothing reads them). Then the same call as ``lowinc train`` (read the windows
snapshot by snapshot, LightGBM, calibration, baselines, evaluation) and the MLflow logging
and registration, timed apart.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks import command_line, peak_rss_gib
from features import store
from features.catalogue import FEATURES
from features.snapshot import SNAPSHOT_COLUMNS
from pipelines.settings import load_settings

TRAIN = pd.date_range("2022-01-01", periods=12, freq="MS")
VALIDATION = pd.date_range("2023-06-01", periods=3, freq="MS")
TEST = pd.date_range("2024-02-01", periods=3, freq="MS")
COUNTIES = ["330502", "330503", "330521", "330522", "330523"]
TYPES = ["elderly_alone", "couple", "nuclear", "single_parent", "three_generation"]


def household_keys(n: int) -> np.ndarray:
    return np.array([hashlib.blake2b(str(i).encode(), digest_size=16).hexdigest() for i in range(n)])


def synthetic_snapshot(keys: np.ndarray, as_of: pd.Timestamp, seed: int) -> pd.DataFrame:
    """One snapshot with the registry's columns and dtypes; a signal in the policy features."""
    rng = np.random.default_rng(seed)
    n = len(keys)
    base = np.random.default_rng(0)  # household traits stay put between months
    county = base.integers(0, len(COUNTIES), n)
    data: dict[str, object] = {
        "household_key": keys,
        "as_of": np.full(n, as_of),
        "county_code": np.array(COUNTIES)[county],
        "town_code": np.array(COUNTIES)[county],  # values irrelevant here; never logged
        "village_code": np.array(COUNTIES)[county],
        "urban": base.random(n) < 0.4,
        "household_type": np.array(TYPES)[base.integers(0, len(TYPES), n)],
        "assistance_state": np.full(n, "none"),
        "in_phase_out": np.zeros(n, bool),
        "in_cohort": rng.random(n) < 0.96,
    }
    for f in FEATURES:
        if f.dtype == "float":
            data[f.name] = rng.lognormal(0.5, 0.8, n)
        elif f.dtype == "int":
            data[f.name] = rng.poisson(0.3, n).astype("int64")
        elif f.dtype == "bool":
            data[f.name] = rng.random(n) < 0.02
        else:
            data[f.name] = rng.integers(0, max(len(f.codes), 2), n).astype("int64")
    ratio = base.lognormal(np.log(2.3), 0.5, n) * rng.lognormal(0, 0.1, n)
    data["income_ratio_to_dibao"] = ratio
    z = -6.2 + 2.0 * (ratio < 1.5) + 2.0 * data["earner_died_6m"] + 1.5 * (data["newly_unemployed_3m"] > 0)
    label = rng.random(n) < 1 / (1 + np.exp(-z))
    data["label"] = pd.array(label, dtype="boolean")
    data["label_applied"] = data["label"].copy()  # no visits: the label is the applied one
    data["visit_label"] = pd.array(np.full(n, pd.NA), dtype="boolean")
    data["visit_weight"] = np.full(n, np.nan)
    data["label_complete"] = np.ones(n, bool)
    return pd.DataFrame(data)[list(SNAPSHOT_COLUMNS)]


def write_region(home: Path, households: int) -> None:
    keys = household_keys(households)
    for i, as_of in enumerate([*TRAIN, *VALIDATION, *TEST]):
        started = time.perf_counter()
        store.write_snapshot(home, as_of, synthetic_snapshot(keys, as_of, seed=i), truth=None)
        print(f"  wrote {as_of:%Y-%m} in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--home", default=None, help="project home (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="keep snapshots already written in --home")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="lowinc-bench-train-"))
    if not (args.reuse and store.available_as_ofs(home)):
        write_region(home, args.households)
    from pipelines.train import training

    settings = load_settings(home=home)
    started = time.perf_counter()
    result = training.train(settings)
    trained = time.perf_counter() - started
    peak_train = peak_rss_gib()
    logged, decision = training.log_and_register(settings, result)
    wall = time.perf_counter() - started
    m = result.metrics
    print(f"command: {command_line('benchmarks.train')}")
    print(
        f"households: {args.households:,}  snapshots: train {len(result.split.train)}, "
        f"validation {len(result.split.validation)}, test {len(result.split.test)}"
    )
    print(f"rows: {result.info}")
    print(
        f"read + train + evaluate: {trained / 60:.1f} min (peak {peak_train:.2f} GiB); "
        f"with MLflow logging and registration: {wall / 60:.1f} min; "
        f"peak memory (RSS) {peak_rss_gib():.2f} GiB"
    )
    print(
        f"best iteration {int(m['best_iteration'])}; precision@k {m['precision_at_k']:.3f}, "
        f"ROC-AUC {m['roc_auc']:.3f}; version {logged.version} ({decision.reason})"
    )


if __name__ == "__main__":
    main()

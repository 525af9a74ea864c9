"""Benchmark: score, tier, explain and list one snapshot with a registered model, and how
SHAP time grows with the rows explained and with the model's size.

    .venv/bin/python -m benchmarks.score --snapshots-home DIR --as-of 2022-09-01 --model-home DIR2

``--snapshots-home``: a project home with feature snapshots (e.g. a 1,000,000-household
region: ``benchmarks.simulate``, ``lowinc ingest --all``, ``lowinc features``);
``--model-home``: a home whose MLflow registry has a champion (the same feature registry).
Peak memory is this process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import time

import lightgbm as lgb
import pandas as pd

from benchmarks import command_line, peak_rss_gib
from features.store import read_snapshots
from models.registry import load_champion
from pipelines.settings import load_settings
from scoring.scorer import score_snapshot


def shap_ms_per_row(booster: lgb.Booster, x: pd.DataFrame, rows: int) -> float:
    sample = x.iloc[:rows]
    started = time.perf_counter()
    booster.predict(sample, pred_contrib=True)
    return (time.perf_counter() - started) / len(sample) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots-home", required=True)
    parser.add_argument("--model-home", required=True)
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args()

    settings = load_settings(home=args.model_home)
    model = load_champion(settings.model, settings.home)
    cfg = load_settings().scoring
    started = time.perf_counter()
    as_of = pd.Timestamp(args.as_of)
    snapshot = read_snapshots(args.snapshots_home, [as_of])
    previous = read_snapshots(args.snapshots_home, [as_of - pd.DateOffset(months=1)])
    read = time.perf_counter() - started
    started = time.perf_counter()
    scored = score_snapshot(snapshot, model, cfg, previous if len(previous) else None)
    wall = time.perf_counter() - started
    tiers = scored.scores["tier"].value_counts().to_dict()

    print(f"command: {command_line('benchmarks.score')}")
    print(f"households in the snapshot: {len(snapshot):,}  scored (cohort): {len(scored.scores):,}")
    print(f"tiers: {tiers}  explained: {scored.explained:,}  listed: {len(scored.visit_list):,}")
    print(f"read snapshot: {read:.1f} s  score + tier + explain + list: {wall:.1f} s")
    print(f"peak memory (RSS): {peak_rss_gib():.2f} GiB")

    x = snapshot.loc[snapshot["in_cohort"], model.feature_names].astype("float32")
    trees = model.booster.num_trees()
    print(f"champion: {trees} trees; SHAP (pred_contrib) ms per row by rows explained:")
    for rows in (1_000, 10_000, 50_000):
        print(f"  {rows:>6,} rows: {shap_ms_per_row(model.booster, x, rows):.3f} ms/row")
    y = (model.predict_risk(snapshot.loc[snapshot["in_cohort"]]) > 0.02).astype(int)
    train = lgb.Dataset(x.iloc[:100_000], y[:100_000], free_raw_data=False)
    print("model size: SHAP ms per row on 10,000 rows (a booster fitted to the champion's flags)")
    for rounds, leaves in ((100, 15), (300, 31), (300, 63)):
        params = {"objective": "binary", "num_leaves": leaves, "verbose": -1, "min_data_in_leaf": 20}
        booster = lgb.train(params, train, num_boost_round=rounds)
        print(f"  {rounds} trees x {leaves} leaves: {shap_ms_per_row(booster, x, 10_000):.3f} ms/row")


if __name__ == "__main__":
    main()

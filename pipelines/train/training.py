"""The training job without Prefect: read windows, train, log to MLflow, apply the promotion rule.

The CLI calls these functions directly; the flow wraps each in a thin task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features import store
from ingest import delivery
from lowinc.errors import NotFound, UserError
from lowinc.settings import mask_url
from models.card import gap_tag, group_gaps, worst_group_ratio
from models.registry import PromotionDecision, register_challenger
from models.schema import FeatureSpec, complete_as_ofs, design_matrix, labelled_cohort, registered_features
from models.splits import TemporalSplit, make_split
from models.tracking import HEADLINE_METRICS, LoggedRun, configure, log_training, variant_metrics
from models.train import TrainingResult, attach_truth, sample_training_rows, train_variants
from pipelines.monitor.reference import freeze_reference
from pipelines.settings import Settings

# columns besides the features: keys, context for group metrics, the cohort and label flags
NEEDED = [
    "household_key",
    "as_of",
    "county_code",
    "urban",
    "household_type",
    "in_cohort",
    "label_complete",
    "label",
]
# the label variants' columns (features/labels.py): the applied label, the visit label and its weight
VARIANT_COLUMNS = ["label_applied", "visit_label", "visit_weight"]


@dataclass
class Windows:
    """What training reads: the split, the three windows, and evaluation-only truth."""

    split: TemporalSplit
    train: pd.DataFrame  # labelled cohort rows, negatives sampled per snapshot, with ``weight``
    validation: pd.DataFrame
    test: pd.DataFrame
    truth: pd.DataFrame | None  # the test window's latent truth (simulator only)
    oracle: pd.DataFrame | None  # cohort rows at an as-of with sampled true probabilities


def complete_snapshots(home) -> list[pd.Timestamp]:
    """As-of dates whose cohort labels are all complete, reading two columns a snapshot."""
    done = []
    for as_of in store.available_as_ofs(home):
        flags = store.read_snapshots(home, as_ofs=[as_of], columns=["as_of", "in_cohort", "label_complete"])
        done += complete_as_ofs(flags)
    return done


def compact(rows: pd.DataFrame, context: Sequence[str], names: Sequence[str]) -> pd.DataFrame:
    """The context columns and the features as float32 (half the memory; the model's own dtype)."""
    return pd.concat(
        [rows[list(context)].reset_index(drop=True), design_matrix(rows, names).reset_index(drop=True)],
        axis=1,
    )


class NoSnapshots(NotFound, FileNotFoundError):
    """No feature snapshot has been built yet."""


class NotEnoughHistory(UserError, ValueError):
    """Too few snapshots with complete labels for the test, validation and training windows."""


class StaleSnapshot(UserError, KeyError):
    """A snapshot built before a feature was registered."""

    def __str__(self) -> str:  # a KeyError would quote its message
        return self.message


def features_hint(settings: Settings) -> str:
    """What to run for more snapshots: the features of every ingested month when some are
    missing, else ingest more months first."""
    months = delivery.ingested_months(settings.layout)
    if not months:
        return "lowinc ingest --all (then lowinc features --from ... --to ...)"
    first = pd.Timestamp(f"{months[0]}-01") + pd.DateOffset(months=1)
    last = pd.Timestamp(f"{months[-1]}-01") + pd.DateOffset(months=1)
    have = set(store.available_as_ofs(settings.home))
    if any(t not in have for t in pd.date_range(first, last, freq="MS")):
        return f"lowinc features --from {first:%Y-%m-%d} --to {last:%Y-%m-%d}"
    return (
        "lowinc ingest --month YYYY-MM as more months are delivered (or lowinc simulate --months N "
        "for a longer synthetic history), then lowinc features"
    )


def read_windows(settings: Settings, features: Sequence[FeatureSpec]) -> Windows:
    """Read snapshot by snapshot: a city's training window never sits in memory unsampled.

    Only the columns each window needs are kept: features, as-of date and label everywhere;
    the applied label and the visit label and weight in training and validation (the label
    variants); keys and groups only in the test window (truth join, group metrics), judged
    against ``label`` alone.
    """
    cfg, home = settings.model, settings.home
    if not store.available_as_ofs(home):
        raise NoSnapshots(f"no feature snapshots under {home}", hint=features_hint(settings))
    try:
        split = make_split(complete_snapshots(home), cfg.splits, settings.features.label_horizon)
    except ValueError as error:  # too short a history: the user builds or delivers more
        horizon = settings.features.label_horizon
        raise NotEnoughHistory(
            f"{error} (a snapshot's labels are complete {horizon} months after its as-of date)",
            hint=features_hint(settings),
        ) from None
    names = [f.name for f in features]
    test_context = list(dict.fromkeys([*NEEDED, *cfg.group_columns]))

    def window(as_ofs: Sequence[pd.Timestamp], context: list[str], sample: bool) -> pd.DataFrame:
        parts = []
        for as_of in as_ofs:
            rows = labelled_cohort(store.read_snapshots(home, as_ofs=[as_of]))
            missing = [c for c in [*context, *names] if c not in rows.columns and c != "weight"]
            if missing:
                raise StaleSnapshot(
                    f"snapshot {as_of:%Y-%m-%d} lacks {missing}",
                    hint=f"lowinc features --as-of {as_of:%Y-%m-%d} (rebuild it)",
                )
            if sample:
                rows = sample_training_rows(rows, cfg)
            parts.append(compact(rows, context, names))
            del rows
        return pd.concat(parts, ignore_index=True)

    train = window(split.train, ["as_of", "label", *VARIANT_COLUMNS, "weight"], sample=True)
    validation = window(split.validation, ["as_of", "label", *VARIANT_COLUMNS], sample=False)
    test = window(split.test, test_context, sample=False)
    truth, oracle = read_truth_windows(settings, split, [c for c in test_context if c != "label"], names)
    return Windows(split, train, validation, test, truth, oracle)


def read_truth_windows(
    settings: Settings, split: TemporalSplit, context: list[str], names: list[str]
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The test window's truth, and the oracle snapshot: the latest as-of after training at
    which the simulator sampled true probabilities (``simulation.mc_months``)."""
    home = settings.home
    truth = store.read_truth(home, as_ofs=split.test)
    if truth.empty:
        return None, None
    available = set(store.available_as_ofs(home))
    candidates = sorted(
        d
        for d in (pd.Timestamp(f"{m}-01") for m in settings.simulation.mc_months)
        if d > split.train[-1] and d in available
    )
    oracle = None
    for as_of in reversed(candidates):
        sampled = store.read_truth(home, as_ofs=[as_of])
        if not sampled["p_fall"].notna().any():
            continue
        rows = store.read_snapshots(home, as_ofs=[as_of])
        rows = compact(rows.loc[rows["in_cohort"].astype(bool)], context, names)
        oracle = attach_truth(rows, sampled)
        break
    return truth, oracle


def train(settings: Settings, features: Sequence[FeatureSpec] | None = None) -> TrainingResult:
    feats = registered_features() if features is None else features
    w = read_windows(settings, feats)
    return train_variants(w.train, w.validation, w.test, w.split, feats, settings.model, w.truth, w.oracle)


def log_and_register(settings: Settings, result: TrainingResult) -> tuple[LoggedRun, PromotionDecision]:
    logged = log_training(result, settings.model, settings.home, settings.features.label_horizon)
    result.model.version = logged.version
    # the reference every served month is compared with, frozen with the training run
    client = configure(settings.model, settings.home)
    freeze_reference(settings, client, logged.run_id, result.model, result.split.test, result.split.train)
    decision = register_challenger(
        settings.model,
        settings.home,
        logged.version,
        logged.run_id,
        result.metrics["precision_at_k"],
        result.windows["test"],
    )
    return logged, decision


def summarise(
    settings: Settings, result: TrainingResult, logged: LoggedRun, decision: PromotionDecision
) -> dict[str, Any]:
    """What `lowinc train --json` prints: identifiers, windows, headline figures, the decision."""
    m = result.metrics | {"group_recall_ratio_min": worst_group_ratio(result.groups, settings.model)}
    # the run's headline, plus the baselines a reader of the summary compares with
    extra = (
        "baseline.income_ratio.precision_at_k",
        "baseline.rules_any.precision_at_k",
        "baseline.rules_any.flagged_per_month",
        "group_recall_ratio_min",
    )
    keys = [*HEADLINE_METRICS, *variant_metrics(m), *extra]
    return {
        "model": settings.model.name,
        "version": logged.version,
        "run_id": logged.run_id,
        "tracking_uri": mask_url(settings.model.resolved_tracking_uri(settings.home)),  # no password
        "promoted": decision.promote,
        "decision": decision.reason,
        "champion_precision_at_k": decision.champion_metric,
        "visit_capacity": settings.model.visit_capacity,
        "splits": result.split.to_params(),
        "label_variant": result.info.get("label_variant"),
        "label_variants_identical": result.info.get("label_variants_identical"),
        "rows": result.info,
        "metrics": {k: round(float(m[k]), 4) for k in keys if k in m},
        "group_gaps": gap_tag(group_gaps(result.groups, settings.model)),
    }


def train_and_register(settings: Settings, features: Sequence[FeatureSpec] | None = None) -> dict[str, Any]:
    result = train(settings, features)
    logged, decision = log_and_register(settings, result)
    return summarise(settings, result, logged, decision)

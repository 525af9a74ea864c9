"""Training end to end, without I/O: snapshots in, a calibrated model and its evaluation out.

split → sample negatives → LightGBM (early stopping on validation) → calibrate on validation →
score the test window with the model and every baseline → metrics at capacity, by group,
against the latent truth and the oracle when the simulator's truth is given.

Two label variants (:func:`train_variants`), fitted on the same split and the same sampled rows:
"observable" learns ``label_applied`` (applications and temporary aid: who applies), "with_visits"
learns ``label`` (visit outcomes too), each visited row weighted by 1 / the probability its
household was listed with, so that an explored household stands for those it was drawn from.
Both are evaluated on the same test window against ``label`` (the best label the deployment
has); the one with the higher precision at capacity is kept and goes on to the promotion rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from models import baselines
from models.booster import fit_booster
from models.calibration import (
    brier_score,
    expected_calibration_error,
    fit_calibrator,
    reliability_curve,
)
from models.capacity import at_k_by_snapshot
from models.config import ModelConfig
from models.evaluation import capacity_metrics, group_metrics, oracle_share, ranking_metrics
from models.risk_model import RiskModel
from models.sampling import negative_rate, sample_negatives
from models.schema import FeatureSpec, complete_as_ofs, design_matrix, labelled_cohort
from models.splits import TemporalSplit, make_split

MODEL = "model"
BASELINE = "baseline."


@dataclass
class TrainingResult:
    """Everything a run logs: the model, its windows, scores on the test window and metrics."""

    model: RiskModel
    logistic: Pipeline
    split: TemporalSplit
    windows: dict[str, pd.DataFrame]  # labelled cohort rows of train / validation / test
    scores: pd.DataFrame  # test rows: context columns + one score column per scorer
    metrics: dict[str, float]
    groups: pd.DataFrame
    reliability: pd.DataFrame
    info: dict[str, object] = field(default_factory=dict)  # row counts, sampling rate, rounds...
    # every metric of every label variant fitted, by variant name (the kept one included)
    variants: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def scorers(self) -> list[str]:
        return scorer_columns(self.scores)


def scorer_columns(scores: pd.DataFrame) -> list[str]:
    return [c for c in scores.columns if c == MODEL or c.startswith(BASELINE)]


def split_windows(labelled: pd.DataFrame, split: TemporalSplit) -> dict[str, pd.DataFrame]:
    window = split.window_of(labelled["as_of"])
    return {name: labelled.loc[window == name] for name in ("train", "validation", "test")}


def score_all(
    frame: pd.DataFrame,
    model: RiskModel,
    logistic: Pipeline,
    feature_names: Sequence[str],
    context: Sequence[str] = ("as_of", "label"),
) -> pd.DataFrame:
    """The model's calibrated risk and every baseline's score for the rows of ``frame``,
    beside the ``context`` columns (as-of date, label, groups) that evaluation needs."""
    out = frame[[c for c in dict.fromkeys(context) if c in frame.columns]].copy()
    out[MODEL] = model.predict_risk(frame)
    out["baseline.logistic"] = baselines.logistic_score(logistic, frame, feature_names)
    out["baseline.income_ratio"] = baselines.income_ratio_score(frame)
    for name, score in baselines.rule_scores(frame).items():
        out[f"baseline.{name}"] = score
    return out


def evaluate_scores(
    scores: pd.DataFrame, scorers: Sequence[str], label: str, cfg: ModelConfig, prefix: str = ""
) -> dict[str, float]:
    """Ranking and capacity metrics of each scorer, named ``<prefix><scorer>.<metric>``."""
    metrics: dict[str, float] = {}
    y = scores[label].to_numpy(bool)
    for scorer in scorers:
        name = f"{prefix}{scorer}."
        values = ranking_metrics(scores[scorer].to_numpy(float), y)
        values |= capacity_metrics(scores, scorer, label, cfg.visit_capacity, cfg.top_shares)
        metrics |= {name + k: v for k, v in values.items()}
    return metrics


def headline(metrics: dict[str, float], scorers: Sequence[str]) -> dict[str, float]:
    """The comparisons the issue asks for: model vs the best rule and vs logistic regression,
    as ratios of precision at capacity (2.0: the model finds twice as many falls per visit;
    nan when the baseline finds none)."""
    p = metrics[f"{MODEL}.precision_at_k"]
    rules = [s for s in scorers if s.startswith("baseline.rule")]
    best_rule = max(metrics[f"{s}.precision_at_k"] for s in rules)
    logistic = metrics["baseline.logistic.precision_at_k"]
    return {
        "precision_at_k": p,
        "recall_at_k": metrics[f"{MODEL}.recall_at_k"],
        "roc_auc": metrics[f"{MODEL}.roc_auc"],
        "pr_auc": metrics[f"{MODEL}.pr_auc"],
        "best_rule_precision_at_k": best_rule,
        "precision_ratio_to_best_rule": p / best_rule if best_rule > 0 else float("nan"),
        "precision_ratio_to_logistic": p / logistic if logistic > 0 else float("nan"),
    }


def rule_flag_metrics(scores: pd.DataFrame) -> dict[str, float]:
    """Rules as a platform runs them: visit every flagged household, no one else.

    Capacity metrics give a rule the k-th place inside a huge tie of unflagged households; this
    is the fairer head-to-head: the rules' precision among those they flag, and the model's
    precision with the same number of visits a month.
    """
    y = scores["label"].to_numpy(bool)
    months = max(scores["as_of"].nunique(), 1)
    out: dict[str, float] = {}
    for scorer in [c for c in scorer_columns(scores) if c.startswith(f"{BASELINE}rule")]:
        fired = scores[scorer].to_numpy(float) > 0
        out[f"{scorer}.flagged_per_month"] = float(fired.sum() / months)
        out[f"{scorer}.precision_flagged"] = float(y[fired].mean()) if fired.any() else float("nan")
    k = round(out.get(f"{BASELINE}rules_any.flagged_per_month", 0.0))
    if k > 0:
        out["precision_at_rules_flagged"] = at_k_by_snapshot(scores, MODEL, "label", k=k).precision
    return out


def attach_truth(frame: pd.DataFrame, truth: pd.DataFrame | None) -> pd.DataFrame:
    if truth is None:
        return frame
    cols = ["household_key", "as_of", "latent_fall", "p_fall"]
    return frame.merge(truth[cols], on=["household_key", "as_of"], how="left", validate="one_to_one")


def sample_training_rows(train: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """Negative sampling per as-of date, with a ``weight`` column (1, or 1/rate for negatives).

    Per snapshot so that a pipeline can sample each month as it reads it and never hold a
    whole training window of a city in memory. Sampled on ``label`` (the wider label: every
    positive of either variant is kept) and never dropping a visited row, so both label
    variants train on the same rows with correct inverse-probability weights.
    """
    parts = []
    for i, (_, part) in enumerate(train.groupby("as_of", sort=True)):
        y = part["label"].to_numpy(bool)
        visited = part["visit_label"].notna().to_numpy() if "visit_label" in part.columns else None
        rate = negative_rate(y, cfg.negatives_per_positive)
        idx, weight = sample_negatives(y, rate, cfg.seed + i, keep=visited)
        parts.append(part.iloc[idx].assign(weight=weight))
    return pd.concat(parts) if parts else train.assign(weight=pd.Series(dtype=float))


@dataclass(frozen=True)
class LabelVariant:
    """Which label a model learns, and whether visit labels are weighted by 1 / listing probability."""

    name: str
    label: str
    visit_weighted: bool


OBSERVABLE = LabelVariant("observable", "label_applied", visit_weighted=False)
WITH_VISITS = LabelVariant("with_visits", "label", visit_weighted=True)
# headline figures of each variant logged on the run as ``<variant>.<metric>``
# (few: the run's top-level metrics stay ~30; every metric of each is in ``result.variants``)
VARIANT_METRICS = ("precision_at_k", "roc_auc", "latent.model.precision_at_k")
VARIANTS = (OBSERVABLE, WITH_VISITS)


def _visit_weight(frame: pd.DataFrame) -> np.ndarray:
    """1 / listing probability for visited rows, 1 for every other row."""
    if "visit_weight" not in frame.columns:
        return np.ones(len(frame))
    w = frame["visit_weight"].to_numpy(float)
    return np.where(np.isnan(w), 1.0, w)


def correction_weight(frame: pd.DataFrame, cap: float | None) -> np.ndarray:
    """The visit weight a training row carries: 1 / listing probability (at most ``cap``) where
    the visit found hardship the application label misses, 1 everywhere else.

    Why not 1/p on every visited row: the unvisited households an explored visit stands for are
    in the training window already, with their own (application) labels. Where the visit agrees
    with the application label it corrects nothing, and weighting it 1/p only counts its stratum
    twice (measured in docs/model.md: half of a month's training weight on a few hundred rows).
    Where it finds hidden hardship, it is the only evidence that its stratum's application labels
    miss it, and it stands for the 1/p households it was drawn from. The cap bounds the variance
    one household adds."""
    w = _visit_weight(frame)
    if "visit_label" not in frame.columns or "label_applied" not in frame.columns:
        return np.ones(len(frame))
    hidden = frame["visit_label"].fillna(False).to_numpy(bool) & ~frame["label_applied"].fillna(
        False
    ).to_numpy(bool)
    if cap is not None:
        w = np.minimum(w, cap)
    return np.where(hidden, w, 1.0)


def variant_rows(frame: pd.DataFrame, variant: LabelVariant, cap: float | None = None) -> pd.DataFrame:
    """The rows with ``label`` replaced by the variant's label and, for a visit-weighted variant,
    ``weight`` multiplied by the :func:`correction_weight` (``sampling_weight`` keeps the
    sampling's own)."""
    if variant.label not in frame.columns:
        raise KeyError(f"the training rows lack {variant.label} (snapshots built before it: rebuild them)")
    out = frame.assign(label=frame[variant.label].fillna(False).astype(bool))
    if "weight" in frame.columns:
        out["sampling_weight"] = frame["weight"].to_numpy(float)
        if variant.visit_weighted:
            out["weight"] = frame["weight"].to_numpy(float) * correction_weight(frame, cap)
    return out


def variants_identical(*frames: pd.DataFrame) -> bool:
    """Whether the two variants would fit the same model: the labels agree on every row and
    no row carries a visit weight other than 1 (e.g. no visit label in the windows at all)."""
    for frame in frames:
        applied = frame["label_applied"].fillna(False).to_numpy(bool)
        if (frame["label"].fillna(False).to_numpy(bool) != applied).any():
            return False
        if (_visit_weight(frame) != 1.0).any():
            return False
    return True


def visit_counts(train: pd.DataFrame) -> dict[str, object]:
    """How many visit labels the training window holds, confirmed, and from explored listings."""
    if "visit_label" not in train.columns:
        return {"visit_labels_train": 0, "visit_labels_confirmed_train": 0, "explored_visits_train": 0}
    labelled = train["visit_label"].notna().to_numpy()
    return {
        "visit_labels_train": int(labelled.sum()),
        "visit_labels_confirmed_train": int(train["visit_label"].fillna(False).astype(bool).sum()),
        "explored_visits_train": int((labelled & (_visit_weight(train) > 1.0)).sum()),
    }


def train_variants(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    split: TemporalSplit,
    features: Sequence[FeatureSpec],
    cfg: ModelConfig,
    truth: pd.DataFrame | None = None,
    oracle: pd.DataFrame | None = None,
) -> TrainingResult:
    """Fit the label variants on the same windows, evaluate each on the same test window against
    ``label``, keep the one with the higher precision at capacity (observable on a tie).

    With ``cfg.visit_labels`` false, or when the variants would be identical, one model is fitted
    (``label_variants_identical`` says which). The kept result's metrics carry every variant's
    headline as ``<variant>.<metric>``; ``result.variants`` holds each one's full metrics.
    """
    wanted = [OBSERVABLE, WITH_VISITS] if cfg.visit_labels else [OBSERVABLE]
    identical = cfg.visit_labels and variants_identical(train, valid)
    fitted = [OBSERVABLE] if identical else wanted
    kept: TrainingResult | None = None
    kept_name = ""
    variants: dict[str, dict[str, float]] = {}
    for variant in fitted:
        result = fit_and_evaluate(
            variant_rows(train, variant, cfg.visit_weight_cap),
            variant_rows(valid, variant, cfg.visit_weight_cap),
            test,
            split,
            features,
            cfg,
            truth,
            oracle,
        )
        variants[variant.name] = result.metrics
        if kept is None or result.metrics["precision_at_k"] > kept.metrics["precision_at_k"]:
            kept, kept_name = result, variant.name
        del result  # the other variant's model and scores: only its metrics are kept
    assert kept is not None
    for name, metrics in variants.items():
        kept.metrics |= {f"{name}.{k}": metrics[k] for k in VARIANT_METRICS if k in metrics}
    kept.variants = variants
    kept.info |= {
        "label_variant": kept_name,
        "label_variants": ",".join(variants),
        "label_variants_identical": identical,
        **visit_counts(train),
    }
    return kept


def oracle_frame(
    snapshots: pd.DataFrame, truth: pd.DataFrame | None, split: TemporalSplit
) -> pd.DataFrame | None:
    """In-cohort rows of the latest as-of after training with sampled true probabilities."""
    if truth is None or "p_fall" not in truth.columns:
        return None
    sampled = set(truth.loc[truth["p_fall"].notna(), "as_of"].unique())
    dates = sorted(d for d in snapshots["as_of"].unique() if d in sampled and d > split.train[-1])
    if not dates:
        return None
    rows = snapshots.loc[snapshots["in_cohort"].astype(bool) & (snapshots["as_of"] == dates[-1])]
    return attach_truth(rows, truth)


def train_risk_model(
    snapshots: pd.DataFrame,
    features: Sequence[FeatureSpec],
    cfg: ModelConfig,
    horizon: int,
    truth: pd.DataFrame | None = None,
) -> TrainingResult:
    """Split one in-memory frame of snapshots, then :func:`train_variants`."""
    split = make_split(complete_as_ofs(snapshots), cfg.splits, horizon)
    windows = split_windows(labelled_cohort(snapshots), split)
    train = sample_training_rows(windows["train"], cfg)
    return train_variants(
        train,
        windows["validation"],
        windows["test"],
        split,
        features,
        cfg,
        truth,
        oracle_frame(snapshots, truth, split),
    )


def fit_and_evaluate(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    split: TemporalSplit,
    features: Sequence[FeatureSpec],
    cfg: ModelConfig,
    truth: pd.DataFrame | None = None,
    oracle: pd.DataFrame | None = None,
) -> TrainingResult:
    """Train, calibrate and evaluate on the three windows (labelled cohort rows; ``train``
    sampled, with ``weight``). ``truth`` and ``oracle`` (simulator only) serve evaluation only."""
    names = [f.name for f in features]
    categorical = [f.name for f in features if f.categorical]
    y_train, weight = train["label"].to_numpy(bool), train["weight"].to_numpy(float)
    x_train = design_matrix(train, names)
    x_valid = design_matrix(valid, names)
    y_valid = valid["label"].to_numpy(bool)
    booster = fit_booster(x_train, y_train, weight, x_valid, y_valid, categorical, cfg.lightgbm, cfg.seed)
    calibrator = fit_calibrator(np.asarray(booster.predict(x_valid), dtype=float), y_valid, cfg.calibration)
    del x_valid
    model = RiskModel(booster, calibrator, names, categorical)
    logistic = baselines.fit_logistic(x_train, y_train, weight, categorical, cfg.seed)
    del x_train

    scores = score_all(test, model, logistic, names, ["as_of", "label", *cfg.group_columns])
    scorers = scorer_columns(scores)
    metrics = evaluate_scores(scores, scorers, "label", cfg)
    metrics |= headline(metrics, scorers) | rule_flag_metrics(scores)
    prob, y_test = scores[MODEL].to_numpy(float), scores["label"].to_numpy(bool)
    reliability = reliability_curve(prob, y_test, cfg.reliability_bins)
    metrics |= {
        "brier": brier_score(prob, y_test),
        "brier_uncalibrated": brier_score(model.raw_score(test), y_test),
        "ece": expected_calibration_error(reliability),
        "mean_risk": float(prob.mean()),
        "observed_rate": float(y_test.mean()),
        "best_iteration": float(booster.best_iteration),
        "validation_pr_auc": float(booster.best_score["validation"]["average_precision"]),
    }
    if truth is not None:
        latent = attach_truth(test[["household_key", "as_of"]], truth)["latent_fall"]
        scores["latent_fall"] = latent.to_numpy()
        metrics |= latent_metrics(scores.loc[latent.notna().to_numpy()], cfg)
    if oracle is not None:
        metrics |= oracle_metrics(oracle, model, logistic, names, cfg)
    groups = group_metrics(scores, MODEL, "label", cfg.visit_capacity, cfg.group_columns)
    # the sampling's own weights: a visit-weighted variant's weights also count 1/p per visit
    sampled = train["sampling_weight"] if "sampling_weight" in train.columns else train["weight"]
    negative = ~train["label"].astype(bool).to_numpy()
    rate = float(negative.sum() / sampled.to_numpy(float)[negative].sum()) if negative.any() else 1.0
    info: dict[str, object] = {
        "rows_train": round(float(sampled.sum())),
        "rows_train_sampled": len(train),
        "rows_validation": len(valid),
        "rows_test": len(test),
        "positives_train": int(y_train.sum()),
        "positives_validation": int(y_valid.sum()),
        "positives_test": int(y_test.sum()),
        "negative_sampling_rate": round(rate, 4),
    }
    windows = {"train": train, "validation": valid, "test": test}
    return TrainingResult(model, logistic, split, windows, scores, metrics, groups, reliability, info)


TRUTH_SCORERS = (MODEL, "baseline.logistic", "baseline.income_ratio", "baseline.rules_any")


def latent_metrics(scores: pd.DataFrame, cfg: ModelConfig) -> dict[str, float]:
    """The same scores against the simulator's latent falls (applied or not)."""
    if scores.empty:
        return {}
    scores = scores.assign(latent_fall=scores["latent_fall"].astype(bool))
    return evaluate_scores(scores, TRUTH_SCORERS, "latent_fall", cfg, prefix="latent.")


def oracle_metrics(
    oracle: pd.DataFrame, model: RiskModel, logistic: Pipeline, names: Sequence[str], cfg: ModelConfig
) -> dict[str, float]:
    """Share of the oracle's precision at k on the households whose true probability is known."""
    as_of = pd.Timestamp(oracle["as_of"].max())
    scored = score_all(oracle.drop(columns=["label"], errors="ignore"), model, logistic, names)
    scored["p_fall"] = oracle["p_fall"].to_numpy(float)
    scored["cohort_rows"] = len(oracle)
    out = {"oracle_as_of": float(as_of.year * 100 + as_of.month)}
    for scorer in TRUTH_SCORERS:
        prefix = "" if scorer == MODEL else f"{scorer}."
        out |= {prefix + k: v for k, v in oracle_share(scored, scorer, cfg.visit_capacity).items()}
    return out


def precision_at_capacity(model: RiskModel, test: pd.DataFrame, cfg: ModelConfig) -> float:
    """The promotion metric of any model on a test window (used to compare with the champion)."""
    frame = test[["as_of", "label"]].copy()
    frame["score"] = model.predict_risk(test)
    return capacity_metrics(frame, "score", "label", cfg.visit_capacity, [])["precision_at_k"]

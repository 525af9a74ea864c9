"""The model card (Markdown) logged with every training run: what a model owner signs off on.

It is also the registered model version's description (the MLflow UI renders it), and the
home of the group-gap rule: groups whose recall at capacity falls below the configured share
of the overall recall are flagged here and, as tags, on the run and the version.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import pandas as pd

from models.config import ModelConfig
from models.evaluation import share_key
from models.train import MODEL, TrainingResult


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _range(m: dict[str, float], prefix: str, name: str) -> str:
    worst, best = m.get(f"{prefix}{name}_worst"), m.get(f"{prefix}{name}_best")
    main = _f(m.get(f"{prefix}{name}"))
    return main if worst == best else f"{main} ({_f(worst)}–{_f(best)})"


def comparison_table(
    metrics: dict[str, float], scorers: list[str], cfg: ModelConfig, prefix: str = ""
) -> str:
    shares = [share_key(s) for s in cfg.top_shares]
    head = ["scorer", f"precision@k={cfg.visit_capacity}", "recall@k"]
    head += [f"precision@{s[3:].replace('pct', '%')}" for s in shares] + ["ROC-AUC", "PR-AUC"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for scorer in scorers:
        p = f"{prefix}{scorer}."
        if f"{p}precision_at_k" not in metrics:
            continue
        cells = [scorer, _range(metrics, p, "precision_at_k"), _range(metrics, p, "recall_at_k")]
        cells += [_range(metrics, p, f"precision_at_{s}") for s in shares]
        cells += [_f(metrics.get(f"{p}roc_auc")), _f(metrics.get(f"{p}pr_auc"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


GAP = "gap"
FEW = "few falls"  # reported, not judged


def judge_groups(groups: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """The group table with a ``flag`` column: ``gap`` when a group with at least
    ``group_min_positives`` test falls has a recall ratio below ``group_recall_ratio_min``,
    ``few falls`` when it has too few falls to be judged, else empty."""
    judged = groups["positives"].to_numpy(float) >= cfg.group_min_positives
    below = groups["recall_ratio"].to_numpy(float) < cfg.group_recall_ratio_min  # nan: not below
    flag = np.where(~judged, FEW, np.where(below, GAP, ""))
    return groups.assign(flag=flag)


def group_gaps(groups: pd.DataFrame, cfg: ModelConfig) -> pd.DataFrame:
    """The flagged groups, worst recall ratio first."""
    judged = judge_groups(groups, cfg)
    return judged.loc[judged["flag"] == GAP].sort_values("recall_ratio", kind="stable")


def worst_group_ratio(groups: pd.DataFrame, cfg: ModelConfig) -> float:
    """The lowest recall ratio among the groups with enough falls to be judged (nan: none)."""
    judged = groups.loc[groups["positives"].to_numpy(float) >= cfg.group_min_positives, "recall_ratio"]
    return float(judged.min()) if judged.notna().any() else math.nan


def gap_tag(gaps: pd.DataFrame, limit: int = 20) -> str:
    """``county_code=330503:0.25;urban=False:0.71`` (worst first), or ``none``."""
    if gaps.empty:
        return "none"
    items = (
        gaps["group"].astype(str)
        + "="
        + gaps["value"].astype(str)
        + ":"
        + gaps["recall_ratio"].map("{:.2f}".format)
    ).tolist()
    more = f";+{len(items) - limit} more" if len(items) > limit else ""
    return ";".join(items[:limit]) + more


def group_table(groups: pd.DataFrame) -> str:
    """Markdown table of the group metrics (with a flag column when ``groups`` has one)."""
    flags = groups["flag"] if "flag" in groups.columns else pd.Series("", index=groups.index)
    lines = [
        "| group | value | households | falls | recall@k | ratio to overall | precision@k | flag |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row, flag in zip(groups.itertuples(index=False), flags, strict=True):
        positives = int(cast(float, row.positives))
        recall, ratio = cast(float, row.recall_at_k), cast(float, row.recall_ratio)
        mark = f"**{flag}**" if flag == GAP else str(flag)
        lines.append(
            f"| {row.group} | {row.value} | {row.rows:,} | {positives:,} | {_f(recall)} | "
            f"{_f(ratio, 2)} | {_f(cast(float, row.precision_at_k))} | {mark} |"
        )
    return "\n".join(lines)


def gaps_section(groups: pd.DataFrame, cfg: ModelConfig) -> str:
    """The card's "Group gaps" paragraph: the flagged groups, or none."""
    gaps = group_gaps(groups, cfg)
    few = int((judge_groups(groups, cfg)["flag"] == FEW).sum())
    rule = (
        f"Groups whose recall at capacity is below {cfg.group_recall_ratio_min:.2f}× the overall "
        f"recall, among groups with at least {cfg.group_min_positives} falls in the test window "
        f"(groups with fewer falls, reported but not judged: {few})."
    )
    if gaps.empty:
        return f"{rule}\n\nNone."
    lines = [
        f"- **{r.group} = {r.value}**: recall ratio {_f(cast(float, r.recall_ratio), 2)} "
        f"(recall@k {_f(cast(float, r.recall_at_k))}, {int(cast(float, r.positives)):,} falls)"
        for r in gaps.itertuples(index=False)
    ]
    return (
        f"{rule}\n\n{len(gaps)} flagged: their falls are found less often than the region's; "
        "check take-up and the features these households lack before relying on the ranking "
        "there.\n\n" + "\n".join(lines)
    )


VARIANT_WORDS = {
    "observable": "applications and 支出型 temporary aid only (`label_applied`): the observable label",
    "with_visits": (
        "applications, temporary aid and visit outcomes (`label`), each visit label weighted by "
        "1 / the probability its household was listed with, so that a household drawn at random "
        "for exploration stands for the households it was drawn from"
    ),
}


def label_variant_section(result: TrainingResult, cfg: ModelConfig) -> str:
    """The card's "Label variant" paragraph: which label the model learnt, the visit labels it
    used, how the other variant did on the same window, and that a score only triggers a visit."""
    info = result.info
    kept = str(info.get("label_variant", "observable"))
    lines = [f"This model is the **{kept}** variant: trained on {VARIANT_WORDS.get(kept, kept)}."]
    if not cfg.visit_labels:
        lines.append(
            "Visit labels are off (`model.visit_labels: false`): only the observable model was trained."
        )
    elif info.get("label_variants_identical"):
        lines.append(
            "The training and validation windows hold no visit label that would change the label "
            "or a weight, so both variants are the same model: trained once "
            "(`label_variants_identical`)."
        )
    else:
        rows = [
            "| variant | precision@k | recall@k | ROC-AUC | latent precision@k |",
            "|---|---|---|---|---|",
        ]
        for name, vm in result.variants.items():
            mark = " (kept)" if name == kept else ""
            rows.append(
                f"| {name}{mark} | {_f(vm.get('precision_at_k'))} | {_f(vm.get('recall_at_k'))} "
                f"| {_f(vm.get('roc_auc'))} | {_f(vm.get('latent.model.precision_at_k'))} |"
            )
        lines.append(
            "Both variants were fitted on the same split and rows and judged on the same test window "
            "against `label` (applications, aid and confirmed visits); the one with the higher "
            "precision at capacity is kept and then compared with the champion:\n\n" + "\n".join(rows)
        )
    lines.append(
        f"Visit labels in the training window: {int(cast(int, info.get('visit_labels_train', 0))):,} "
        f"({int(cast(int, info.get('visit_labels_confirmed_train', 0))):,} confirmed hardship), of which "
        f"{int(cast(int, info.get('explored_visits_train', 0))):,} from households listed by exploration "
        "(probability below 1)."
    )
    lines.append(
        "Whichever label it learnt, **the score only triggers a visit; it never decides** who "
        "receives assistance."
    )
    return "\n\n".join(lines)


DESCRIPTION_LIMIT = 5_000  # characters of a model version's description in MLflow's database
SHORT_SCORERS = (MODEL, "baseline.logistic", "baseline.income_ratio", "baseline.rules_any")


def version_description(
    result: TrainingResult, cfg: ModelConfig, horizon: int, digests: dict[str, str], card: str
) -> str:
    """The card as a model version's description: whole when it fits MLflow's column
    (VARCHAR(5000) on PostgreSQL), else the compact card (fewer scorers, only flagged groups),
    cut at the limit as a last resort. The whole card stays the run's ``model_card.md``."""
    if len(card) <= DESCRIPTION_LIMIT:
        return card
    short = model_card(result, cfg, horizon, digests, compact=True)
    if len(short) <= DESCRIPTION_LIMIT:
        return short
    note = "\n\n… (cut: the whole card is the run's model_card.md)\n"
    return short[: DESCRIPTION_LIMIT - len(note)] + note


def model_card(
    result: TrainingResult, cfg: ModelConfig, horizon: int, digests: dict[str, str], compact: bool = False
) -> str:
    """The card in Markdown; ``compact`` keeps the main scorers, the latent truth's headline
    and the flagged groups (the whole tables are the run's ``metrics/`` artifacts)."""
    m, info, split = result.metrics, result.info, result.split
    params = split.to_params()
    scorers = [s for s in result.scorers if s in SHORT_SCORERS] if compact else result.scorers
    if compact:  # the flagged groups are listed under "Group gaps"
        by_group = "Every group is in the run's `metrics/by_group.csv` and `model_card.md`."
    else:
        by_group = group_table(judge_groups(result.groups, cfg))
    truth = ""
    if "latent.model.precision_at_k" in m:
        truth = (
            "\n## Against the simulator's latent truth\n\n"
            "Latent fall: per-capita income after rigid spending below the 低保 line within the "
            "horizon, whether or not the household applies. The oracle knows the true probability "
            "(including income no department records): its precision is a ceiling, not a target.\n\n"
            + (
                f"Model precision@k {_f(m.get('latent.model.precision_at_k'))}, logistic "
                f"{_f(m.get('latent.baseline.logistic.precision_at_k'))} (every scorer: the run's "
                "`metrics/by_scorer.csv`)."
                if compact
                else comparison_table(m, list(SHORT_SCORERS), cfg, prefix="latent.")
            )
            + f"\n\nShare of the oracle's precision@k reached (sampled households, as-of "
            f"{int(m.get('oracle_as_of', 0))}): model {_f(m.get('oracle_share_at_k'))}, "
            f"logistic {_f(m.get('baseline.logistic.oracle_share_at_k'))}, "
            f"rules {_f(m.get('baseline.rules_any.oracle_share_at_k'))}; "
            f"oracle precision@k {_f(m.get('oracle_precision_at_k'))}.\n"
        )
    return f"""# Model card: {cfg.name}

## Purpose and intended use

Ranks the households of a region by their risk of falling into poverty (低收入人口动态监测,
主动发现) so that social workers visit the most at-risk first, within their monthly capacity
of {cfg.visit_capacity} home checks. **A score only triggers a visit (预警 → 核实); it never decides
eligibility for assistance**, which stays with the 核查 and the rules of the 低保 policy.

## Data

- Monthly feature snapshots (as-of dates, features known before each date only).
- Windows (as-of months): train {params["split.train"]}, validation and calibration
  {params["split.validation"]}, test {params["split.test"]}; gap {split.gap_months} months
  between windows so that no label observed after a window's start is used before it.
- Rows (household-months): train {info["rows_train"]:,} ({info["positives_train"]:,} falls),
  validation {info["rows_validation"]:,} ({info["positives_validation"]:,}), test
  {info["rows_test"]:,} ({info["positives_test"]:,}).
- Dataset digests: {", ".join(f"{k} `{v}`" for k, v in digests.items())}.
- No names, ID numbers or addresses; households are keyed by a keyed hash and no key is logged.

## Cohort and label

- Cohort: households not in 低保/特困 at the as-of date (``in_cohort``).
- Label (`label`, what every model is judged on): within {horizon} months after the as-of date
  the household enters 低保 or 特困, receives 支出型 temporary aid, or a visit confirms hardship.
  Households that never apply and are never visited are unlabelled falls: the observed label
  undercounts the need the system is meant to find.

## Label variant

{label_variant_section(result, cfg)}

## Model

LightGBM (binary, early stopping on validation PR-AUC, best iteration
{int(m["best_iteration"])}), categoricals as integer codes. Class imbalance: every fall kept,
non-falls sampled at rate {info["negative_sampling_rate"]:.3f} and reweighted by its inverse.
Calibration: {cfg.calibration}, fitted on the validation window (later than training).

## Test-window metrics (observed label)

Precision and recall at k are per month; (worst–best) appears when ties at the k-th score
make the choice of who is visited arbitrary.

{comparison_table(m, scorers, cfg)}

The model's precision at capacity is {_f(m.get("precision_ratio_to_best_rule"), 2)}× the best
rule's ({_f(m.get("best_rule_precision_at_k"))}) and {_f(m.get("precision_ratio_to_logistic"), 2)}×
logistic regression's ({_f(m.get("baseline.logistic.precision_at_k"))}).

As a platform runs them, the rules visit every flagged household and no one else: together
they flag {_f(m.get("baseline.rules_any.flagged_per_month"), 0)} households a month, of whom
{_f(m.get("baseline.rules_any.precision_flagged"))} fall; with the same number of visits the
model's precision is {_f(m.get("precision_at_rules_flagged"))}.

Calibration on the test window: Brier {_f(m["brier"], 4)} (uncalibrated booster
{_f(m["brier_uncalibrated"], 4)}), expected calibration error {_f(m["ece"], 4)}, mean risk
{_f(m["mean_risk"], 4)} vs observed rate {_f(m["observed_rate"], 4)}.
{truth}
## Group gaps

{gaps_section(result.groups, cfg)}

## Metrics by group (model, recall at capacity)

{by_group}

## Limits

- Trained on the label the system observes (applications and aid), which depends on take-up:
  households unlikely to apply look safer than they are. Check the latent-truth section and the
  group table for groups whose falls are found less often.
- Income that no department records (informal work, support from relatives) is invisible.
- The test window is one period; drift (a factory closure, a reimbursement change) can make
  the model stale: monitoring (`lowinc monitor`, experiment `lowinc-monitoring`) compares
  feature and score drift against reference bins frozen at training, and expected vs observed
  falls as labels mature.
- The probability is calibrated on the validation window; recalibrate when base rates move.
"""

"""Reasons in plain language from SHAP contributions.

Only contributions that raise risk count; features of one group (medical, income ...) merge
into one reason, told by the group's strongest feature with the household's own numbers from
the feature registry's templates; at most ``max_reasons`` per household, strongest first.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import FEATURES, Feature

SEPARATOR = {"zh": "；", "en": "; "}


@dataclass(frozen=True)
class Reasons:
    """Per explained household: reason texts and the groups they came from, strongest first."""

    zh: pd.Series
    en: pd.Series
    groups: pd.Series  # tuple of group names


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def render(template: str, fallback: str, values: pd.DataFrame) -> list[str]:
    """The template filled from each row's values; the fallback where a value is unknown."""
    fields = _fields(template)
    if not fields:
        return [template] * len(values)
    columns = [values[f].to_numpy() for f in fields]
    known = np.logical_and.reduce([~pd.isna(c) for c in columns])
    out = []
    for ok, row in zip(known, zip(*columns, strict=True), strict=True):
        out.append(template.format(**dict(zip(fields, row, strict=True))) if ok else fallback)
    return out


def points_the_risky_way(
    values: pd.DataFrame, features: Sequence[Feature], typical: pd.Series | None
) -> np.ndarray:
    """n x F: whether each value is on the feature's risky side ('high': above the cohort's
    typical value and above 0; 'low': below it; 'true': set). A contribution that raises
    risk from a harmless value (no children, no cost) makes no reason a worker can act on."""
    out = np.ones((len(values), len(features)), dtype=bool)
    for j, f in enumerate(features):
        v = values[f.name].astype("float64").to_numpy()
        mid = float(typical.get(f.name, np.nan)) if typical is not None else np.nan
        if f.raises_risk_when == "true":
            out[:, j] = v > 0
        elif f.raises_risk_when == "high":
            out[:, j] = (v > 0) & ~(v <= mid)
        else:
            out[:, j] = ~(v >= mid) if not np.isnan(mid) else True
    return out


def top_groups(
    contributions: pd.DataFrame,
    features: Sequence[Feature],
    max_reasons: int,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(chosen feature index per row and slot, -1 when none; group index; group names).

    A group's weight is the sum of its features' positive contributions (where ``allowed``);
    the reason of a group is told by its feature with the largest positive contribution."""
    names = [f.name for f in features]
    contrib = np.clip(contributions[names].to_numpy(dtype="float64"), 0, None)
    if allowed is not None:
        contrib = np.where(allowed, contrib, 0.0)
    groups = sorted({f.group for f in features})
    member = np.array([[f.group == g for g in groups] for f in features], dtype="float64")  # F x G
    weight = contrib @ member  # n x G
    order = np.argsort(-weight, axis=1, kind="stable")[:, :max_reasons]
    chosen_group = np.where(np.take_along_axis(weight, order, axis=1) > 0, order, -1)
    # strongest feature within each group: mask contributions by group membership
    best_in_group = np.empty((len(contrib), len(groups)), dtype=np.int64)
    for g in range(len(groups)):
        masked = np.where(member[:, g] > 0, contrib, -1.0)
        best_in_group[:, g] = masked.argmax(axis=1)
    rows = np.arange(len(contrib))[:, None]
    chosen_feature = np.where(chosen_group >= 0, best_in_group[rows, np.maximum(chosen_group, 0)], -1)
    return chosen_feature, chosen_group, groups


def explain_reasons(
    contributions: pd.DataFrame,
    values: pd.DataFrame,
    max_reasons: int = 3,
    features: Sequence[Feature] = FEATURES,
    typical: pd.Series | None = None,
) -> Reasons:
    """Reasons for each row of ``contributions`` (SHAP values, same index as ``values``);
    ``typical``: the cohort's median per feature (see :func:`points_the_risky_way`)."""
    present = [f for f in features if f.name in contributions.columns]
    allowed = points_the_risky_way(values, present, typical)
    chosen, group_idx, groups = top_groups(contributions, present, max_reasons, allowed)
    n = len(contributions)
    texts = {lang: np.full((n, max_reasons), "", dtype=object) for lang in ("zh", "en")}
    for k, feature in enumerate(present):
        hit = chosen == k
        if not hit.any():
            continue
        rows = np.flatnonzero(hit.any(axis=1))
        subset = values.iloc[rows]
        for lang, template, fallback in (
            ("zh", feature.reason_zh, feature.meaning_zh),
            ("en", feature.reason_en, feature.meaning_en),
        ):
            rendered = np.array(render(template, fallback, subset), dtype=object)
            r, slot = np.nonzero(hit[rows])
            texts[lang][rows[r], slot] = rendered[r]
    joined = {
        lang: pd.Series(
            [SEPARATOR[lang].join(t for t in row if t) for row in texts[lang]],
            index=values.index,
            dtype="str",
        )
        for lang in texts
    }
    group_names = pd.Series(
        [tuple(groups[g] for g in row if g >= 0) for row in group_idx], index=values.index, dtype=object
    )
    return Reasons(joined["zh"], joined["en"], group_names)

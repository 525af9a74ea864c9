"""Reasons in plain language from SHAP contributions.

Only contributions that raise risk count; features of one group (medical, income ...) merge
into one reason, told by the group's strongest feature with the household's own numbers from
the feature registry's templates; at most ``max_reasons`` per household, strongest first.

A template's wording follows the values (a feature's ``reason_cases``): no household with no
income reads "0.0 倍" or a capped "1000%", none without working-age members "仅 0 名"; an amount
of money appears only next to what it is compared with (the local 低保 line, the cohort's
median as ``typical_<name>``), else the reason says it without the number.
"""

from __future__ import annotations

import operator
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import FEATURES, Feature, ReasonCase

SEPARATOR = {"zh": "；", "en": "; "}
TYPICAL_PREFIX = "typical_"
OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# what a reason is about, in a word a message may carry (no amounts, no household's facts)
GROUP_ZH = {
    "composition": "家庭结构",
    "income": "收入偏低",
    "unemployment": "失业断缴",
    "assistance": "救助记录",
    "medical": "医疗负担",
    "disability": "残疾",
    "housing": "住房安全",
    "property": "房产变动",
    "death": "家庭成员去世",
    "events": "户籍变动",
    "temporary_aid": "临时救助",
}
OTHER = "其他"  # a reason text no template of the catalogue renders


@dataclass(frozen=True)
class Reasons:
    """Per explained household: reason texts and the groups they came from, strongest first."""

    zh: pd.Series
    en: pd.Series
    groups: pd.Series  # tuple of group names


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def render(template: str, fallback: str, values: pd.DataFrame) -> list[str]:
    """The template filled from each row's values; the fallback where a value is unknown (or a
    field is not among the columns)."""
    fields = _fields(template)
    if not fields:
        return [template] * len(values)
    if any(f not in values.columns for f in fields):
        return [fallback] * len(values)
    columns = [values[f].to_numpy() for f in fields]
    known = np.logical_and.reduce([~pd.isna(c) for c in columns])
    out = []
    for ok, row in zip(known, zip(*columns, strict=True), strict=True):
        out.append(template.format(**dict(zip(fields, row, strict=True))) if ok else fallback)
    return out


def case_holds(case: ReasonCase, values: pd.DataFrame) -> np.ndarray:
    """Whether each row meets every condition of the case (an unknown or absent value: no)."""
    holds = np.ones(len(values), dtype=bool)
    for field, op, number in case.conditions:
        if field not in values.columns:
            return np.zeros(len(values), dtype=bool)
        v = values[field].astype("float64").to_numpy()
        holds &= ~np.isnan(v) & OPS[op](v, number)
    return holds


def render_reason(feature: Feature, values: pd.DataFrame, lang: str) -> np.ndarray:
    """The feature's reason for each row in ``lang`` (zh | en): the first of its cases that holds,
    else its own template; the feature's meaning where a value is unknown."""
    fallback = feature.meaning_zh if lang == "zh" else feature.meaning_en
    out = np.array(
        render(feature.reason_zh if lang == "zh" else feature.reason_en, fallback, values), dtype=object
    )
    todo = np.ones(len(values), dtype=bool)
    for case in feature.reason_cases:
        hit = todo & case_holds(case, values)
        if hit.any():
            out[hit] = render(case.zh if lang == "zh" else case.en, fallback, values[hit])
            todo &= ~hit
    return out


def with_typical(values: pd.DataFrame, typical: pd.Series | None) -> pd.DataFrame:
    """The values with the cohort's median of each feature as ``typical_<name>`` columns."""
    if typical is None or typical.empty:
        return values
    extra = pd.DataFrame(
        {f"{TYPICAL_PREFIX}{name}": float(v) for name, v in typical.items()}, index=values.index
    )
    return pd.concat([values, extra], axis=1)


def points_the_risky_way(
    values: pd.DataFrame, features: Sequence[Feature], typical: pd.Series | None
) -> np.ndarray:
    """n x F: whether each value is on the feature's risky side ('high': above the cohort's
    typical value and above 0; 'low': below it; 'true': set). A contribution that raises
    risk from a harmless value (no children, no cost) makes no reason a worker can act on,
    nor does an unknown value (the feature's meaning is not a reason)."""
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
        out[:, j] &= ~np.isnan(v)
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
        subset = with_typical(values.iloc[rows], typical)
        for lang in ("zh", "en"):
            rendered = render_reason(feature, subset, lang)
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


def _pattern(template: str) -> str:
    """A regular expression matching what the template renders (any value in each field)."""
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(".+?")
    return "".join(parts)


def _reason_patterns(features: Sequence[Feature]) -> list[tuple[re.Pattern[str], str]]:
    out = []
    for f in features:
        for template in (f.reason_zh, f.meaning_zh, *(c.zh for c in f.reason_cases)):
            out.append((re.compile(_pattern(template)), f.group))
    # the most specific (longest) wording first: a template that is a prefix of another loses
    return sorted(out, key=lambda p: -len(p[0].pattern))


def reason_categories(reasons_zh: pd.Series, features: Sequence[Feature] = FEATURES) -> pd.Series:
    """The category word (GROUP_ZH) of each row's reasons, in order, without repeats: what a
    message may say about why a household is listed, instead of the reasons and their numbers."""
    patterns = _reason_patterns(features)

    def categories(text: str) -> tuple[str, ...]:
        found: list[str] = []
        for part in filter(None, (p.strip() for p in text.split(SEPARATOR["zh"]))):
            group = next((g for rx, g in patterns if rx.fullmatch(part)), None)
            label = GROUP_ZH.get(group, OTHER) if group else OTHER
            if label not in found:
                found.append(label)
        return tuple(found)

    texts = reasons_zh.fillna("").astype(str)
    unique = {t: categories(t) for t in texts.unique()}
    return texts.map(unique)

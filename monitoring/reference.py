"""The reference a model version is monitored against, frozen when it was trained.

Built from a sample of the cohort households of the version's test window (the latest window
whose labels were complete at training, out of sample; pipelines/monitor/reference.py says
why not the training window itself): the bins of every
feature and of the calibrated score, the share of the reference in each bin overall and in
every county and urban/rural group, the share of each group in each warning tier (by rank
within its month, as tiers are given), and the features in order of importance. Stored as
JSON (``monitoring/reference.json``) with the version's training run, so a month is always
compared with what that model learned from, never with last month.

Numbers only: no household key, name or place name; group values are division codes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitoring.bins import Bins, fit_bins, normalise, shares_by_group

ALL = "all"
SCORE = "score"
ARTIFACT = "monitoring/reference.json"
TIERS = ("red", "orange", "yellow", "blue")
FORMAT = 1


def group_label(column: str, value: object) -> str:
    """``county_code=330503``, ``urban=1``: the group's name in metrics and reports."""
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    elif value in ("True", "False", "true", "false"):  # a boolean column read as text
        value = int(str(value).lower() == "true")
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{column}={value}"


def group_codes(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """(group labels, an (n_rows, n_columns + 1) code matrix); column 0 is ``all`` (code 0).

    Labels are numbered across columns, so one bincount counts every group at once."""
    labels = [ALL]
    codes = [np.zeros(len(frame), dtype=np.int64)]
    for column in columns:
        if column not in frame.columns:
            continue
        values = frame[column]
        if values.dtype == bool or str(values.dtype) == "boolean":
            values = values.astype("Int64")
        cat = pd.Categorical(values.astype("string"))
        offset = len(labels)
        labels += [group_label(column, v) for v in cat.categories]
        code = np.asarray(cat.codes, dtype=np.int64)
        codes.append(np.where(code >= 0, code + offset, -1))
    return labels, np.column_stack(codes)


def tier_of_rank(risk: np.ndarray, as_of: np.ndarray | None, shares: dict[str, float]) -> np.ndarray:
    """The tier each row's rank of risk within its month gives (no hard triggers): 0 red .. 3 blue."""
    pct = (
        pd.Series(risk)
        .groupby(as_of if as_of is not None else np.zeros(len(risk)))
        .rank(ascending=False, method="first", pct=True)
    )
    p = pct.to_numpy()
    return np.select([p <= shares["red"], p <= shares["orange"], p <= shares["yellow"]], [0, 1, 2], 3)


def grouped_shares(
    index: np.ndarray, size: int, codes: np.ndarray, n_groups: int, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(shares (n_groups, size), weighted rows per group) of one binned column over every group."""
    counts = np.zeros((n_groups, size))
    for j in range(codes.shape[1]):  # a handful of group columns, never rows
        keep = codes[:, j] >= 0
        w = None if weights is None else weights[keep]
        counts += shares_by_group(index[keep], size, codes[keep, j], n_groups, w)
    return normalise(counts), counts.sum(axis=1)


@dataclass
class Reference:
    """Frozen bins and shares of one model version (see the module's docstring)."""

    model_version: str
    n_bins: int
    bins: dict[str, Bins]  # every feature, and SCORE
    groups: list[str]
    rows: dict[str, float]  # weighted households per group
    shares: dict[str, dict[str, list[float]]]  # feature or SCORE → group → shares by bin
    means: dict[str, float]  # weighted mean of each feature and the score (overall)
    tier_shares: dict[str, dict[str, float]]  # group → tier → share
    tier_cut_shares: dict[str, float]  # the tier shares of the cohort the tiers were cut at
    importance: list[str]  # features, most important first
    built_from: dict[str, Any] = field(default_factory=dict)  # as-of dates, rows sampled

    @property
    def features(self) -> list[str]:
        return [n for n in self.bins if n != SCORE]

    def top_features(self, n: int) -> list[str]:
        return [f for f in self.importance if f in self.bins][:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model_version": self.model_version,
            "n_bins": self.n_bins,
            "bins": [b.to_dict() for b in self.bins.values()],
            "groups": self.groups,
            "rows": self.rows,
            "shares": self.shares,
            "means": self.means,
            "tier_shares": self.tier_shares,
            "tier_cut_shares": self.tier_cut_shares,
            "importance": self.importance,
            "built_from": self.built_from,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        if data.get("format") != FORMAT:
            raise ValueError(f"reference format {data.get('format')!r}, expected {FORMAT}")
        bins = [Bins.from_dict(b) for b in data["bins"]]
        return cls(
            model_version=str(data["model_version"]),
            n_bins=int(data["n_bins"]),
            bins={b.name: b for b in bins},
            groups=list(data["groups"]),
            rows={k: float(v) for k, v in data["rows"].items()},
            shares=data["shares"],
            means={k: float(v) for k, v in data["means"].items()},
            tier_shares=data["tier_shares"],
            tier_cut_shares={k: float(v) for k, v in data["tier_cut_shares"].items()},
            importance=list(data["importance"]),
            built_from=dict(data.get("built_from", {})),
        )


def build_reference(
    frame: pd.DataFrame,
    risk: np.ndarray,
    features: Sequence[tuple[str, bool]],
    *,
    model_version: str,
    group_columns: Sequence[str],
    importance: Sequence[str],
    tier_shares: dict[str, float],
    n_bins: int = 10,
    weights: np.ndarray | None = None,
) -> Reference:
    """The reference of ``frame`` (cohort rows of the reference window, ``as_of`` and the group
    columns beside the features; ``features``: (name, categorical)) scored ``risk``."""
    w = None if weights is None else np.asarray(weights, dtype="float64")
    groups, codes = group_codes(frame, group_columns)
    n_groups = len(groups)
    bins: dict[str, Bins] = {}
    shares: dict[str, dict[str, list[float]]] = {}
    means: dict[str, float] = {}
    rows = np.zeros(n_groups)
    columns = [(name, frame[name].to_numpy(dtype="float64"), cat) for name, cat in features if name in frame]
    columns.append((SCORE, np.asarray(risk, dtype="float64"), False))
    for name, values, categorical in columns:
        b = fit_bins(name, values, "categorical" if categorical else "numeric", n_bins, w)
        s, rows = grouped_shares(b.assign(values), b.size, codes, n_groups, w)
        bins[name] = b
        shares[name] = {g: [round(float(v), 6) for v in s[i]] for i, g in enumerate(groups)}
        finite = np.isfinite(values)
        means[name] = (
            float(np.average(values[finite], weights=None if w is None else w[finite]))
            if finite.any()
            else float("nan")
        )
    as_of = frame["as_of"].to_numpy() if "as_of" in frame else None
    tier = tier_of_rank(np.asarray(risk, dtype="float64"), as_of, tier_shares)
    t, _ = grouped_shares(tier, len(TIERS), codes, n_groups, w)
    months = sorted({f"{pd.Timestamp(d):%Y-%m-%d}" for d in np.unique(as_of)}) if as_of is not None else []
    return Reference(
        model_version=str(model_version),
        n_bins=n_bins,
        bins=bins,
        groups=groups,
        rows={g: float(rows[i]) for i, g in enumerate(groups)},
        shares=shares,
        means=means,
        tier_shares={g: {tn: float(t[i, j]) for j, tn in enumerate(TIERS)} for i, g in enumerate(groups)},
        tier_cut_shares=dict(tier_shares),
        importance=[f for f in importance],
        built_from={"as_of": months, "rows": len(frame)},
    )

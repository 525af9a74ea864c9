"""Reference bins and the two divergences: PSI and Jensen-Shannon.

A numeric feature is cut at the (weighted) deciles of the reference window; a categorical
feature keeps the codes seen there plus one bin for any other code. Every feature has one
more bin for a missing value, so a source that stops delivering shows as drift, not as
nothing. Bins are right-closed: with edges (0, 5), the bins are x <= 0, 0 < x <= 5, x > 5
and missing, so a feature that is mostly zero keeps its zeros in one bin.

Everything here is vectorised: one ``searchsorted`` per feature and one ``bincount`` for
every group at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

EPS = 1e-4  # a share of zero is floored here (PSI and JS are undefined on empty bins)
Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class Bins:
    """How one feature (or the score) is cut."""

    name: str
    kind: Kind
    edges: tuple[float, ...] = ()  # numeric: inner right-closed edges
    categories: tuple[float, ...] = ()  # categorical: the codes of the reference

    @property
    def size(self) -> int:
        """Number of bins, the missing bin (always last) included."""
        if self.kind == "numeric":
            return len(self.edges) + 2
        return len(self.categories) + 2  # + other, + missing

    def labels(self) -> list[str]:
        """A short label per bin, for the report."""
        if self.kind == "numeric":
            e = [f"{v:.4g}" for v in self.edges]
            if not e:
                return ["all", "missing"]
            inner = [f"({a}, {b}]" for a, b in itertools.pairwise(e)]
            return [f"≤ {e[0]}", *inner, f"> {e[-1]}", "missing"]
        return [f"{v:g}" for v in self.categories] + ["other", "missing"]

    def assign(self, values: np.ndarray) -> np.ndarray:
        """The bin index of every value (missing: the last bin)."""
        x = np.asarray(values, dtype="float64")
        missing = ~np.isfinite(x)
        if self.kind == "numeric":
            idx = np.searchsorted(np.asarray(self.edges, dtype="float64"), x, side="left")
        else:
            cats = np.asarray(self.categories, dtype="float64")
            idx = np.full(len(x), len(cats), dtype=np.int64)  # other
            if len(cats):
                pos = np.minimum(np.searchsorted(cats, x), len(cats) - 1)
                idx = np.where(cats[pos] == x, pos, len(cats))
        return np.where(missing, self.size - 1, idx).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "edges": list(self.edges),
            "categories": list(self.categories),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bins:
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            edges=tuple(float(v) for v in data.get("edges", [])),
            categories=tuple(float(v) for v in data.get("categories", [])),
        )


def weighted_quantiles(
    values: np.ndarray, quantiles: Sequence[float] | np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Quantiles of the finite values, each row counting its weight (inverse sampling rate)."""
    x = np.asarray(values, dtype="float64")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype="float64")
    keep = np.isfinite(x)
    x, w = x[keep], w[keep]
    if len(x) == 0:
        return np.array([], dtype="float64")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    targets = np.asarray(quantiles, dtype="float64") * cum[-1]
    return x[np.minimum(np.searchsorted(cum, targets, side="left"), len(x) - 1)]


def fit_bins(
    name: str, values: np.ndarray, kind: Kind, n_bins: int = 10, weights: np.ndarray | None = None
) -> Bins:
    """The bins of one feature from its reference values."""
    x = np.asarray(values, dtype="float64")
    if kind == "categorical":
        cats = np.unique(x[np.isfinite(x)])
        return Bins(name, "categorical", categories=tuple(float(c) for c in cats))
    inner = np.arange(1, n_bins) / n_bins
    edges = np.unique(weighted_quantiles(x, inner, weights))
    finite = x[np.isfinite(x)]
    if len(edges) and len(finite) and edges[-1] >= finite.max():
        edges = edges[:-1]  # the top edge at the maximum would leave the last bin empty
    return Bins(name, "numeric", edges=tuple(float(e) for e in edges))


def shares_by_group(
    index: np.ndarray, size: int, group: np.ndarray, n_groups: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """(n_groups, size) weighted counts of bin ``index`` per ``group`` code, in one bincount."""
    flat = group.astype(np.int64) * size + index
    counts = np.bincount(flat, weights=weights, minlength=n_groups * size)
    return counts.reshape(n_groups, size)


def normalise(counts: np.ndarray) -> np.ndarray:
    """Counts → shares along the last axis (an all-zero row stays zero)."""
    counts = np.asarray(counts, dtype="float64")
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)


def _floored(shares: np.ndarray) -> np.ndarray:
    s = np.maximum(np.asarray(shares, dtype="float64"), EPS)
    return s / s.sum(axis=-1, keepdims=True)


def psi(reference: np.ndarray, current: np.ndarray) -> np.ndarray | float:
    """Population stability index, sum (c - r) ln(c / r), along the last axis.

    Shares are floored at 1e-4 first, so a bin empty in the reference that fills up counts
    as the large shift it is rather than as infinity.
    """
    r, c = _floored(reference), _floored(current)
    out = ((c - r) * np.log(c / r)).sum(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def js_divergence(reference: np.ndarray, current: np.ndarray) -> np.ndarray | float:
    """Jensen-Shannon divergence in bits (0: identical, 1: disjoint), along the last axis."""
    r, c = _floored(reference), _floored(current)
    m = (r + c) / 2
    out = 0.5 * (r * np.log2(r / m)).sum(axis=-1) + 0.5 * (c * np.log2(c / m)).sum(axis=-1)
    return float(out) if np.ndim(out) == 0 else out

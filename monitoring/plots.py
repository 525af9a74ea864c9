"""Trend figures of a model version's monitoring over months, and the month's PSI bars.

Each function returns matplotlib Figures (Agg backend, nothing shown or written here); the
pipeline logs them as PNG artifacts. Input is the tidy history the version's run logged
(``as_of``, ``step``, ``key``, ``value``; metric names in monitoring/month.py): a figure whose
series are all absent is left out, a month without a value leaves a gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from monitoring.drift import Drift
from monitoring.reference import ALL

DRIFT_SERIES = ("score.psi", "drift.top_feature_psi_max")
FALLS_SERIES = ("expected.expected_falls", "realised.observed_falls", "realised.expected_falls")
PRECISION_SERIES = ("realised.precision_at_k", "realised.expected_precision_at_k")
GROUP_PREFIX = "score.psi/"
COLUMNS = ("as_of", "step", "key", "value")


def wide_history(history: pd.DataFrame) -> pd.DataFrame:
    """One row per as-of month (sorted), one column per metric; the last value logged wins."""
    missing = [c for c in ("as_of", "key", "value") if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    if history.empty:
        return pd.DataFrame(index=pd.Index([], name="as_of"))
    tidy = history.assign(as_of=history["as_of"].astype(str).str[:10], value=history["value"].astype(float))
    return tidy.pivot_table(index="as_of", columns="key", values="value", aggfunc="last").sort_index()


def _month_axis(ax: Axes, months: Sequence[str]) -> None:
    """As-of months as x tick labels (every one up to 24 months, then thinned)."""
    every = max(1, int(np.ceil(len(months) / 24)))
    ticks = list(range(0, len(months), every))
    ax.set_xticks(ticks, [months[i][:7] for i in ticks], rotation=45, ha="right")
    ax.set_xlim(-0.5, max(len(months) - 0.5, 0.5))


def _plot(ax: Axes, wide: pd.DataFrame, key: str, label: str | None = None, **style: object) -> bool:
    if key not in wide.columns or wide[key].isna().all():
        return False
    ax.plot(np.arange(len(wide)), wide[key].to_numpy(), marker="o", ms=3, label=label or key, **style)  # type: ignore[arg-type]
    return True


def _present(wide: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    return [k for k in keys if k in wide.columns and wide[k].notna().any()]


def _thresholds(ax: Axes, amber: float, red: float) -> None:
    ax.axhline(amber, color="#bf8700", ls="--", lw=1, label=f"amber {amber:g}")
    ax.axhline(red, color="#cf222e", ls="--", lw=1, label=f"red {red:g}")


def drift_trend(wide: pd.DataFrame, amber: float, red: float) -> Figure | None:
    if not _present(wide, DRIFT_SERIES):
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    for key in DRIFT_SERIES:
        _plot(ax, wide, key)
    _thresholds(ax, amber, red)
    ax.set(ylabel="PSI", title="Drift against the reference", ylim=(0, None))
    _month_axis(ax, list(wide.index))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def outcomes_trend(wide: pd.DataFrame) -> Figure | None:
    """Falls expected at scoring and observed once matured; precision at capacity against its band."""
    panels = [keys for keys in (FALLS_SERIES, PRECISION_SERIES) if _present(wide, keys)]
    if not panels:
        return None
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3.5 * len(panels)), squeeze=False)
    x = np.arange(len(wide))
    for ax, keys in zip(axes[:, 0], panels, strict=True):
        for key in keys:
            _plot(ax, wide, key)
        if keys == FALLS_SERIES:
            if {"realised.falls_band_low", "realised.falls_band_high"} <= set(wide.columns):
                low, high = wide["realised.falls_band_low"], wide["realised.falls_band_high"]
                ax.fill_between(
                    x, low.to_numpy(), high.to_numpy(), color="grey", alpha=0.15, label="falls band"
                )
            ax.set(ylabel="households", title="Falls: expected vs observed")
        else:
            _plot(ax, wide, "realised.precision_band_low", color="grey", ls=":")
            ax.set(
                ylabel="precision at capacity",
                title="Precision at capacity: realised vs expected",
            )
            ax.set_ylim(bottom=0)
        _month_axis(ax, list(wide.index))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def groups_trend(wide: pd.DataFrame, amber: float, red: float) -> Figure | None:
    keys = sorted(k for k in wide.columns if str(k).startswith(GROUP_PREFIX) and wide[k].notna().any())
    if not keys:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key in keys:
        _plot(ax, wide, key, label=str(key)[len(GROUP_PREFIX) :], lw=1)
    _thresholds(ax, amber, red)
    ax.set(ylabel="score PSI", title="Score drift per county and urban/rural group", ylim=(0, None))
    _month_axis(ax, list(wide.index))
    ax.legend(fontsize=7, ncol=2 if len(keys) > 8 else 1)
    fig.tight_layout()
    return fig


def trend_figures(history: pd.DataFrame, *, amber: float = 0.10, red: float = 0.25) -> dict[str, Figure]:
    """The trend PNGs by artifact name (drift, outcomes, groups); absent series: no figure."""
    wide = wide_history(history)
    figures = {
        "trend_drift.png": drift_trend(wide, amber, red),
        "trend_outcomes.png": outcomes_trend(wide),
        "trend_groups.png": groups_trend(wide, amber, red),
    }
    return {name: fig for name, fig in figures.items() if fig is not None}


def drift_bars(drift: Drift, top_n: int = 15, *, amber: float = 0.10, red: float = 0.25) -> Figure:
    """Horizontal bars of the features of highest PSI overall (top features in bold)."""
    f = drift.features
    overall = f[(f["group"] == ALL) & f["psi"].notna()].sort_values("psi", ascending=False).head(top_n)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.3 * len(overall) + 1.2)))
    if overall.empty:
        ax.text(0.5, 0.5, "no feature measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    psi = overall["psi"].to_numpy(dtype="float64")[::-1]  # highest at the top
    names = [str(n) for n in overall["feature"]][::-1]
    colours = np.select([psi >= red, psi >= amber], ["#cf222e", "#bf8700"], "#1a7f37")
    ax.barh(np.arange(len(psi)), psi, color=colours)
    ax.set_yticks(np.arange(len(psi)), names, fontsize=8)
    for tick, top in zip(ax.get_yticklabels(), overall["top"].to_numpy(dtype=bool)[::-1], strict=True):
        if top:
            tick.set_fontweight("bold")
    ax.axvline(amber, color="#bf8700", ls="--", lw=1, label=f"amber {amber:g}")
    ax.axvline(red, color="#cf222e", ls="--", lw=1, label=f"red {red:g}")
    ax.set(xlabel="PSI overall", title=f"Feature drift, top {len(psi)} by PSI (bold: model's top features)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig

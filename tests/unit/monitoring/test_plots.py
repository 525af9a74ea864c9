"""Trend figures over months and the month's PSI bars: the lines they draw, what they skip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from monitoring.drift import Drift, measure_drift
from monitoring.plots import drift_bars, trend_figures
from monitoring.reference import build_reference

MONTHS = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]


def history(series: dict[str, list[float]], months: list[str] = MONTHS) -> pd.DataFrame:
    """A tidy history (as_of, step, key, value); NaN: the month did not log that key."""
    rows = [
        {"as_of": m, "step": i, "key": key, "value": v}
        for key, values in series.items()
        for i, (m, v) in enumerate(zip(months, values, strict=True))
        if not np.isnan(v)
    ]
    return pd.DataFrame(rows, columns=["as_of", "step", "key", "value"])


def labels(fig: Figure) -> list[set[str]]:
    return [{str(line.get_label()) for line in ax.get_lines()} for ax in fig.axes]


def test_drift_trend_draws_score_and_top_feature_psi_with_thresholds() -> None:
    figs = trend_figures(
        history({"score.psi": [0.02, 0.05, 0.12, 0.3], "drift.top_feature_psi_max": [0.04, 0.08, 0.2, 0.4]}),
        amber=0.1,
        red=0.25,
    )
    assert set(figs) == {"trend_drift.png"}  # no outcome or group series: those figures are skipped
    (ax,) = figs["trend_drift.png"].axes
    lines = {str(line.get_label()): line for line in ax.get_lines()}
    assert set(lines) == {"score.psi", "drift.top_feature_psi_max", "amber 0.1", "red 0.25"}
    assert list(lines["score.psi"].get_ydata()) == [0.02, 0.05, 0.12, 0.3]
    assert list(lines["red 0.25"].get_ydata()) == [0.25, 0.25]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025-01", "2025-02", "2025-03", "2025-04"]


def test_outcomes_trend_puts_falls_and_precision_on_their_own_axes() -> None:
    nan = float("nan")
    figs = trend_figures(
        history(
            {
                "expected.expected_falls": [300, 310, 305, 320],
                "realised.observed_falls": [290, 330, nan, nan],  # later months not matured yet
                "realised.expected_falls": [298, 312, nan, nan],
                "realised.precision_at_k": [0.41, 0.35, nan, nan],
                "realised.expected_precision_at_k": [0.44, 0.43, nan, nan],
                "realised.precision_band_low": [0.38, 0.37, nan, nan],
            }
        )
    )
    assert set(figs) == {"trend_outcomes.png"}
    falls, precision = labels(figs["trend_outcomes.png"])
    assert falls == {"expected.expected_falls", "realised.observed_falls", "realised.expected_falls"}
    assert precision == {
        "realised.precision_at_k",
        "realised.expected_precision_at_k",
        "realised.precision_band_low",
    }
    observed = next(
        line
        for line in figs["trend_outcomes.png"].axes[0].get_lines()
        if line.get_label() == "realised.observed_falls"
    )
    assert np.isnan(np.asarray(observed.get_ydata(), dtype=float)[2:]).all()  # a gap, not a zero


def test_an_outcomes_panel_without_series_is_left_out() -> None:
    figs = trend_figures(history({"expected.expected_falls": [300, 310, 305, 320]}))
    assert labels(figs["trend_outcomes.png"]) == [{"expected.expected_falls"}]


def test_groups_trend_has_one_line_per_group() -> None:
    figs = trend_figures(
        history(
            {
                "score.psi": [0.01, 0.02, 0.03, 0.04],
                "score.psi/county_code:330502": [0.02, 0.03, 0.05, 0.2],
                "score.psi/urban:1": [0.01, 0.01, 0.02, 0.02],
            }
        )
    )
    assert set(figs) == {"trend_drift.png", "trend_groups.png"}
    (groups,) = labels(figs["trend_groups.png"])
    assert groups == {"county_code:330502", "urban:1", "amber 0.1", "red 0.25"}


def test_an_empty_history_gives_no_figure_and_a_wrong_one_says_what_it_lacks() -> None:
    assert trend_figures(pd.DataFrame(columns=["as_of", "step", "key", "value"])) == {}
    with pytest.raises(ValueError, match="value"):
        trend_figures(pd.DataFrame({"as_of": MONTHS, "key": "score.psi"}))


def test_a_relogged_month_keeps_its_last_value() -> None:
    h = pd.concat([history({"score.psi": [0.1, 0.2, 0.3, 0.4]}), history({"score.psi": [0.5]}, MONTHS[:1])])
    (ax,) = trend_figures(h)["trend_drift.png"].axes
    score = next(line for line in ax.get_lines() if line.get_label() == "score.psi")
    assert list(score.get_ydata()) == [0.5, 0.2, 0.3, 0.4]


def drift() -> Drift:
    rng = np.random.default_rng(3)

    def frame(shift: float) -> pd.DataFrame:
        n = 3_000
        return pd.DataFrame(
            {
                "stable": rng.normal(0, 1, n),
                "moved": rng.normal(shift, 1, n),
                "code": rng.integers(0, 3, n).astype(float),
                "county_code": rng.choice(["330502", "330503"], n),
            }
        )

    ref_frame, month = frame(0.0), frame(1.5)
    reference = build_reference(
        ref_frame,
        rng.random(len(ref_frame)),
        [("stable", False), ("moved", False), ("code", True)],
        model_version="3",
        group_columns=["county_code"],
        importance=["moved", "stable"],
        tier_shares={"red": 0.02, "orange": 0.08, "yellow": 0.2},
    )
    return measure_drift(reference, month, rng.random(len(month)), ["county_code"], 1_000, 2)


def test_drift_bars_put_the_most_shifted_feature_on_top_and_save_as_png(tmp_path: Path) -> None:
    fig = drift_bars(drift(), top_n=2)
    (ax,) = fig.axes
    ticks = ax.get_yticklabels()
    assert len(ticks) == 2 and ticks[-1].get_text() == "moved"  # barh draws bottom-up: the top is last
    assert ticks[-1].get_fontweight() == "bold"  # one of the model's top features
    assert len(ax.patches) == 2
    widths = [p.get_width() for p in ax.patches]
    assert widths[-1] == max(widths) and widths[-1] > 0.25
    for name, fig_ in [
        ("bars.png", fig),
        *trend_figures(history({"score.psi": [0.1, 0.2, 0.3, 0.4]})).items(),
    ]:
        fig_.savefig(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

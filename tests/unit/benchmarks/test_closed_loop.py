"""The closed-loop benchmark's pure parts: the calendar, the per-quarter metrics from small
frames (precision at k, hidden and observed falls, the ceiling's), the latent rate and the
table."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.closed_loop import (
    applications_of,
    capacity_metrics,
    group_recall,
    latent_hardship_rate,
    loop_calendar,
    quarter_starts,
    quarter_table,
    visit_metrics,
)

AS_OF = pd.Timestamp("2023-07-01")


def test_the_calendar_ingests_one_month_a_pass_and_scores_the_next_first():
    months, as_ofs = loop_calendar("2022-01", 18, 7)
    assert months[0] == "2023-07" and months[-1] == "2024-01"
    assert as_ofs[0] == pd.Timestamp("2023-08-01") and as_ofs[-1] == pd.Timestamp("2024-02-01")
    assert quarter_starts(as_ofs) == [pd.Timestamp(d) for d in ("2023-08-01", "2023-11-01", "2024-02-01")]


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    keys = [f"h{i}" for i in range(8)]
    scores = pd.DataFrame({"household_key": keys, "risk": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]})
    truth = pd.DataFrame(
        {
            "household_key": keys,
            # the model's top 3: h0 (falls, never applied), h1 (falls, applies within), h2 (no fall)
            "latent_fall": pd.array([True, True, False, False, True, True, pd.NA, False], dtype="boolean"),
            # the ceiling's top 3 by p_fall: h4, h5 (both hidden), h0 (hidden); h6 has no p_fall
            "p_fall": [0.5, 0.1, 0.2, 0.05, 0.9, 0.8, None, 0.01],
        }
    )
    truth_months = pd.DataFrame(
        {
            "household_key": ["h1", "h3", "h5", "h4"],
            "month": ["2023-08", "2023-01", "2023-12", "2023-10"],
            "applied": [True, True, True, False],
        }
    )
    return scores, truth, truth_months


def test_capacity_metrics_count_hidden_and_observed_falls_against_the_ceiling():
    scores, truth, truth_months = _frames()
    apps = applications_of(truth_months)
    assert list(apps["household_key"]) == ["h1", "h3", "h5"]
    row = capacity_metrics(scores, truth, apps, AS_OF, horizon=3, k=3)
    assert row["precision"] == pytest.approx(2 / 3)
    assert row["hidden"] == 1 and row["observed"] == 1  # h0 never applied; h1 applied in 2023-08
    # h5 applied only in 2023-12, after the horizon's end (2023-10-01): still hidden
    assert row["ceiling_hidden"] == 3 and row["hidden_share"] == pytest.approx(1 / 3)
    assert row["ceiling_precision"] == pytest.approx(1.0)
    assert row["latent_falls"] == 4 and row["cohort"] == 8
    longer = capacity_metrics(scores, truth, apps, AS_OF, horizon=6, k=3)
    assert longer["ceiling_hidden"] == 2  # with a 6-month horizon h5's application counts


def test_latent_rate_is_poor_and_not_assisted_over_the_scored_cohort():
    month = pd.DataFrame(
        {
            "household_key": ["a", "b", "c", "d"],
            "in_poverty": [True, True, False, True],
            "assistance": [0, 1, 0, 0],  # b already on 低保
        }
    )
    assert latent_hardship_rate(pd.Series(["a", "b", "c", "x"]), month) == pytest.approx(0.25)


def test_visit_metrics_and_the_table():
    visits = pd.DataFrame(
        {
            "selection": ["rank"] * 4 + ["explore"] * 2,
            "listing_probability": [1.0] * 4 + [0.1] * 2,
            "result": ["confirmed", "confirmed", "no_hardship", "unreachable", "no_hardship", "confirmed"],
        }
    )
    vm = visit_metrics(visits, latent_rate=0.2, miss=0.1)
    assert vm["visits"] == 6 and vm["labelled"] == 5 and vm["explored"] == 2
    assert vm["visited_precision"] == pytest.approx(3 / 5)
    # weights: rank 4/3 each (3 of 4 answered), explore 10 each: (2×4/3 + 10) / (3×4/3 + 20)
    assert vm["ipw_rate"] == pytest.approx((8 / 3 + 10) / 24)
    assert vm["recordable_rate"] == pytest.approx(0.18)
    scores, truth, truth_months = _frames()
    row = (
        {"variant": "full"} | capacity_metrics(scores, truth, applications_of(truth_months), AS_OF, 3, 3) | vm
    )
    empty = {"variant": "off"} | capacity_metrics(scores, truth, applications_of(truth_months), AS_OF, 3, 3)
    table = quarter_table([row, empty | visit_metrics(visits.iloc[:0], 0.2, 0.1)])
    lines = table.splitlines()
    assert len(lines) == 4 and all(line.count("|") == lines[0].count("|") for line in lines)
    assert "| full | 2023-07 | 0.667 |" in lines[2] and "0.60" in lines[2]
    assert "| off |" in lines[3] and "—" in lines[3]


def test_a_benchmark_region_has_its_seeds_key() -> None:
    from benchmarks.closed_loop import benchmark_key

    assert benchmark_key(21) == benchmark_key(21)  # two runs of a seed key households alike
    assert benchmark_key(21) != benchmark_key(22) and len(benchmark_key(21)) == 64


def test_group_recall_names_the_group_whose_falls_the_region_wide_list_finds_least():
    keys = [f"h{i}" for i in range(8)]
    scores = pd.DataFrame({"household_key": keys, "risk": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]})
    truth = pd.DataFrame(
        {"household_key": keys, "latent_fall": pd.array([True, True, False, True, True, False, True, pd.NA])}
    )
    groups = pd.DataFrame(
        {
            "household_key": keys,
            "county_code": ["A", "A", "A", "A", "B", "B", "B", "B"],
            "urban": [True, False, True, False, True, False, True, False],
        }
    )
    # top 4: h0 h1 h2 h3 find 3 of 5 falls (0.6); county A 3 of 3, county B 0 of 2
    row = group_recall(scores, truth, groups, k=4)
    assert row["worst_group"] == "B" and row["worst_ratio"] == pytest.approx(0.0)
    assert row["recall_ratios"]["A"] == pytest.approx(1 / 0.6)
    # urban: falls h0 h4 h6, found h0 (1/3); rural: h1 h3, found both
    assert row["recall_ratios"]["urban"] == pytest.approx((1 / 3) / 0.6)
    assert row["recall_ratios"]["rural"] == pytest.approx(1 / 0.6)
    # a group without any fall has no ratio (it cannot be missed)
    row = group_recall(scores, truth.assign(latent_fall=pd.array([True] * 4 + [False] * 4)), groups, k=4)
    assert set(row["recall_ratios"]) == {"A", "urban", "rural"}

"""The monthly field figures under selective labels: by how households were listed, weighted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.monitor.monitor import selective_figures


def test_explored_visits_weight_the_cohort_estimate_and_are_reported_apart():
    rng = np.random.default_rng(0)
    rank = pd.DataFrame(
        {
            "selection": "rank",
            "listing_probability": 1.0,
            "result": rng.choice(["confirmed", "no_hardship"], 200, p=[0.3, 0.7]),
        }
    )
    explore = pd.DataFrame(
        {
            "selection": "explore",
            "listing_probability": 0.01,
            "result": rng.choice(["confirmed", "no_hardship", None], 200, p=[0.05, 0.85, 0.1]),
        }
    )
    out = selective_figures(pd.concat([rank, explore], ignore_index=True))
    assert out["field.list_tasks"] == 400
    assert (
        out["field.list_labelled_rank"] == 200
        and out["field.list_labelled_explore"] == explore["result"].notna().sum()
    )
    assert abs(out["field.list_precision_rank"] - (rank["result"] == "confirmed").mean()) < 1e-12
    # the weighted rate is pulled towards the explored households' rate, far below the visited precision
    naive = out["field.list_labelled"] and (
        (pd.concat([rank, explore])["result"] == "confirmed").sum() / out["field.list_labelled"]
    )
    assert out["field.hardship_rate_ipw"] < 0.5 * naive
    assert (
        out["field.hardship_rate_ipw_low"]
        <= out["field.hardship_rate_ipw"]
        <= out["field.hardship_rate_ipw_high"]
    )
    assert 0 < out["field.rank_recall_ipw"] < 1


def test_a_list_with_no_label_yet_gives_counts_only():
    listed = pd.DataFrame(
        {"selection": ["rank", "explore"], "listing_probability": [1.0, 0.1], "result": [None, "unreachable"]}
    )
    out = selective_figures(listed)
    assert out == {
        "field.list_tasks": 2.0,
        "field.list_labelled": 0.0,
        "field.list_labelled_rank": 0.0,
        "field.list_labelled_explore": 0.0,
    }

"""Group metrics at capacity and the oracle's share."""

import numpy as np
import pandas as pd
import pytest

from models.evaluation import capacity_metrics, group_metrics, oracle_share


def _frame():
    # 8 households in one month; k = 2 visits; county A's two falls are both ranked first
    return pd.DataFrame(
        {
            "as_of": pd.Timestamp("2023-06-01"),
            "county_code": ["A", "A", "A", "A", "B", "B", "B", "B"],
            "score": [0.9, 0.8, 0.1, 0.1, 0.3, 0.2, 0.1, 0.1],
            "label": [1, 1, 0, 0, 1, 1, 0, 0],
        }
    ).astype({"label": bool})


def test_group_recall_at_capacity_and_its_ratio_to_the_overall():
    g = group_metrics(_frame(), "score", "label", k=2, groups=["county_code", "missing_column"]).set_index(
        "value"
    )
    assert g.loc["A", "recall_at_k"] == 1.0 and g.loc["B", "recall_at_k"] == 0.0
    assert g.loc["A", "recall_ratio"] == pytest.approx(2.0)  # overall recall is 2/4
    assert g.loc["B", "recall_ratio"] == 0.0
    assert set(g["group"]) == {"county_code"}


def test_capacity_metrics_name_every_cut_with_worst_and_best():
    m = capacity_metrics(_frame(), "score", "label", k=2, shares=[0.5])
    assert m["precision_at_k"] == 1.0 and m["recall_at_k"] == 0.5
    assert {"precision_at_top50pct", "precision_at_top50pct_worst", "recall_at_top50pct_best"} <= set(m)
    # top 50% = 4 households: A's falls, then B's two falls at 0.3 and 0.2
    assert m["precision_at_top50pct"] == 1.0


def test_the_oracle_reaches_all_of_its_own_precision_and_noise_less():
    rng = np.random.default_rng(0)
    p = rng.beta(0.5, 8, 2000)
    frame = pd.DataFrame(
        {
            "as_of": pd.Timestamp("2023-06-01"),
            "p_fall": p,
            "cohort_rows": 20_000,
            "oracle": p,
            "noise": rng.random(2000),
        }
    )
    assert oracle_share(frame, "oracle", k=200)["oracle_share_at_k"] == pytest.approx(1.0)
    noise = oracle_share(frame, "noise", k=200)
    assert noise["oracle_share_at_k"] < 0.5
    assert noise["oracle_sample_rows"] == 2000

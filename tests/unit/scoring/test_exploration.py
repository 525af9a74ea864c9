"""Exploration with known propensities: who is drawn, with what probability, and how the drawn
households sit in the list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.config import Exploration, ScoringConfig
from scoring.exploration import BAND, EXPLORE, FRESH, RANK, draw_exploration, explore_slots, interleave
from scoring.scorer import score_snapshot
from tests.unit.scoring.test_scoring import AS_OF, model_and_snapshot  # noqa: F401  (fixture)

TOWNS = ("330502001", "330502002", "330503001")


def _scores(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    village = np.array([f"{TOWNS[i % 3]}{1 + (i // 3) % 4:03d}" for i in range(n)])
    return pd.DataFrame(
        {
            "household_key": [f"k{i:05d}" for i in range(n)],
            "county_code": [v[:6] for v in village],
            "town_code": [v[:9] for v in village],
            "village_code": village,
            "urban": rng.random(n) < 0.3,
            "risk": rng.random(n),
            "tier": "blue",
        }
    )


def _ranked(scores: pd.DataFrame, per_town: int) -> pd.Series:
    top = scores.sort_values("risk", ascending=False).groupby("town_code").head(per_town)
    return top["household_key"]


def test_each_township_draws_its_share_from_the_band_and_the_never_listed():
    scores = _scores()
    cfg = Exploration(share=0.2, band_share=0.5, band_multiple=1.0)
    listed = _ranked(scores, 20)
    ever = scores["household_key"].iloc[::5]  # a fifth listed in earlier months
    drawn = draw_exploration(scores, listed, ever, AS_OF, 20, cfg)
    assert explore_slots(20, cfg) == 4
    assert drawn.groupby("town_code").size().to_dict() == dict.fromkeys(TOWNS, 4)
    assert drawn.groupby("town_code")["pool"].apply(lambda p: (p == BAND).sum()).eq(2).all()
    assert not set(drawn["household_key"]) & set(listed)
    fresh = drawn[drawn["pool"] == FRESH]
    assert not set(fresh["household_key"]) & set(ever)
    # the band: the next 20 by risk in the township after the listed ones
    for town, part in drawn[drawn["pool"] == BAND].groupby("town_code"):
        free = scores[(scores["town_code"] == town) & ~scores["household_key"].isin(listed)]
        band = set(free.nlargest(20, "risk")["household_key"])
        assert set(part["household_key"]) <= band


def test_the_probability_is_drawn_over_stratum_size_and_the_draw_is_reproducible():
    scores = _scores()
    cfg = Exploration(share=0.2)
    listed = _ranked(scores, 20)
    empty = pd.Series(dtype="str")
    drawn = draw_exploration(scores, listed, empty, AS_OF, 20, cfg)
    free = scores[~scores["household_key"].isin(listed)]
    for (town, pool, urban), part in drawn.groupby(["town_code", "pool", "urban"]):
        members = free[(free["town_code"] == town) & (free["urban"] == urban)]
        in_band = members["household_key"].isin(
            free[free["town_code"] == town].nlargest(20, "risk")["household_key"]
        )
        size = int(in_band.sum()) if pool == BAND else int((~in_band).sum())
        assert part["listing_probability"].eq(len(part) / size).all()
    shuffled = scores.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = draw_exploration(shuffled, listed, empty, AS_OF, 20, cfg)
    assert set(again["household_key"]) == set(drawn["household_key"])
    other_month = draw_exploration(scores, listed, empty, AS_OF + pd.DateOffset(months=1), 20, cfg)
    assert set(other_month["household_key"]) != set(drawn["household_key"])


def test_urban_and_rural_households_are_both_explored_in_proportion():
    scores = _scores(6000)
    cfg = Exploration(share=0.5, band_share=0.0)
    drawn = draw_exploration(scores, _ranked(scores, 20), pd.Series(dtype="str"), AS_OF, 20, cfg)
    per = drawn.groupby(["town_code", "urban"]).size().unstack()
    # 10 slots a township, 30% urban: 3 urban, 7 rural
    assert (per[True] == 3).all() and (per[False] == 7).all()


def test_inverse_probability_weights_recover_the_pools_total_over_many_months():
    """Horvitz-Thompson: over repeated draws, sum(y / p) of the drawn averages the pool's total."""
    scores = _scores(600)
    rng = np.random.default_rng(5)
    y = pd.Series(rng.random(len(scores)) < 0.1 + 0.3 * scores["urban"], index=scores["household_key"])
    listed = _ranked(scores, 20)
    pool_total = y.drop(listed.to_numpy()).sum()
    estimates = []
    for m in range(50):
        drawn = draw_exploration(
            scores,
            listed,
            pd.Series(dtype="str"),
            AS_OF + pd.DateOffset(months=m),
            20,
            Exploration(share=0.5),
        )
        estimates.append((y.loc[drawn["household_key"]].to_numpy() / drawn["listing_probability"]).sum())
    mean, se = np.mean(estimates), np.std(estimates) / np.sqrt(len(estimates))
    assert abs(mean - pool_total) < 3 * se + 1e-9


def test_the_fresh_pool_draws_flagged_households_more_often_with_known_probabilities():
    """signal_share: the flagged share of a township's fresh slots, each stratum's probability
    its drawn over its size, every household still drawable; 0 draws as if unflagged."""
    scores = _scores(6000)
    scores["signal"] = np.random.default_rng(7).random(len(scores)) < 0.2
    listed, never = _ranked(scores, 20), pd.Series(dtype="str")
    cfg = Exploration(share=0.5, band_share=0.0, signal_share=0.6)
    drawn = draw_exploration(scores, listed, never, AS_OF, 20, cfg)
    flagged = drawn["household_key"].isin(scores.loc[scores["signal"], "household_key"])
    # 10 fresh slots a township: 6 to its flagged (20% of the pool), 4 to the others
    assert drawn.assign(f=flagged.to_numpy()).groupby("town_code")["f"].sum().eq(6).all()
    free = scores[~scores["household_key"].isin(listed)]
    band = free.sort_values("risk", ascending=False).groupby("town_code").head(20)["household_key"]
    free = free[~free["household_key"].isin(band)]  # the fresh pool: below the band
    for (town, urban, signal), part in drawn.assign(signal=flagged.to_numpy()).groupby(
        ["town_code", "urban", "signal"]
    ):
        size = ((free["town_code"] == town) & (free["urban"] == urban) & (free["signal"] == signal)).sum()
        assert part["listing_probability"].eq(len(part) / size).all()
    assert (
        drawn.loc[flagged.to_numpy(), "listing_probability"].min()
        > drawn.loc[~flagged.to_numpy(), "listing_probability"].max()
    )
    plain = draw_exploration(
        scores.drop(columns="signal"), listed, never, AS_OF, 20, Exploration(share=0.5, band_share=0.0)
    )
    off = draw_exploration(scores, listed, never, AS_OF, 20, Exploration(share=0.5, band_share=0.0))
    assert off["household_key"].tolist() == plain["household_key"].tolist()
    # the flagged are few: a township whose fresh pool holds one flagged household draws it, and
    # passes the slots it cannot take to the others
    few = scores.assign(
        signal=scores["household_key"].isin(scores.groupby("town_code")["household_key"].last())
    )
    drawn = draw_exploration(few, listed, never, AS_OF, 20, cfg)
    assert drawn.groupby("town_code").size().eq(10).all()
    assert drawn["household_key"].isin(few.loc[few["signal"], "household_key"]).sum() == 3


def test_weights_recover_the_pools_total_when_the_flagged_are_oversampled():
    scores = _scores(600)
    rng = np.random.default_rng(11)
    scores["signal"] = rng.random(len(scores)) < 0.25
    y = pd.Series(rng.random(len(scores)) < 0.05 + 0.4 * scores["signal"], index=scores["household_key"])
    listed = _ranked(scores, 20)
    pool_total = y.drop(listed.to_numpy()).sum()
    cfg = Exploration(share=0.5, band_share=0.0, signal_share=0.7)
    estimates = []
    for m in range(60):
        drawn = draw_exploration(
            scores, listed, pd.Series(dtype="str"), AS_OF + pd.DateOffset(months=m), 20, cfg
        )
        estimates.append((y.loc[drawn["household_key"]].to_numpy() / drawn["listing_probability"]).sum())
    mean, se = np.mean(estimates), np.std(estimates) / np.sqrt(len(estimates))
    assert abs(mean - pool_total) < 3 * se + 1e-9


def test_drawn_households_are_interleaved_among_the_non_red_rows():
    ranked = pd.DataFrame(
        {
            "household_key": [f"r{i}" for i in range(8)],
            "town_code": "330502001",
            "village_code": ["330502001001"] * 4 + ["330502001002"] * 4,
            "tier": ["red", "red", "orange", "yellow", "yellow", "yellow", "yellow", "yellow"],
            "rank_in_town": np.arange(1, 9),
            "rank_in_village": [1, 2, 3, 4, 1, 2, 3, 4],
            "within_village_capacity": True,
            "within_town_capacity": True,
        }
    )
    explored = pd.DataFrame(
        {
            "household_key": ["e1", "e2", "e3"],
            "town_code": "330502001",
            "village_code": ["330502001001", "330502001002", "330502001002"],
            "tier": "yellow",
            "rank_in_town": np.nan,
            "rank_in_village": np.nan,
            "listing_probability": [0.01, 0.02, 0.5],
        }
    )
    out = interleave(ranked, explored, AS_OF, 16)
    assert sorted(out["rank_in_town"]) == list(range(1, 12))
    for _, village in out.groupby("village_code"):
        assert sorted(village["rank_in_village"]) == list(range(1, len(village) + 1))
    assert list(out.sort_values("rank_in_town")["tier"].head(2)) == ["red", "red"]
    assert out.loc[out["selection"] == RANK, "listing_probability"].eq(1.0).all()
    drawn = out[out["selection"] == EXPLORE].sort_values("household_key")
    assert drawn["listing_probability"].tolist() == pytest.approx([0.01, 0.02, 0.5])
    # the ranked rows keep their order among themselves
    ranked_order = out[out["selection"] == RANK].sort_values("rank_in_town")["household_key"].tolist()
    assert ranked_order == ranked["household_key"].tolist()


def test_a_scored_month_lists_explored_households_like_any_other(model_and_snapshot):  # noqa: F811
    model, snap = model_and_snapshot
    cfg = ScoringConfig(town_capacity=40, exploration=Exploration(share=0.1))
    scored = score_snapshot(snap, model, cfg)
    lst = scored.visit_list
    explored = lst[lst["selection"] == EXPLORE]
    assert len(explored) == 4 * lst["town_code"].nunique()
    assert explored["tier"].isin(["red", "orange", "yellow"]).all()
    assert (explored["reasons_zh"] != "").all() and explored["due_date"].notna().all()
    assert explored["listing_probability"].between(0, 1, inclusive="neither").all()
    off = score_snapshot(snap, model, ScoringConfig(town_capacity=40, exploration=Exploration(share=0)))
    assert (off.visit_list["selection"] == RANK).all()
    # exploration takes its slots from the ranked list, not on top of it
    ranked_now = set(lst.loc[lst["selection"] == RANK, "household_key"])
    assert ranked_now < set(off.visit_list["household_key"])


def test_a_scored_month_draws_its_fresh_slots_mostly_from_households_with_a_signal(
    model_and_snapshot,  # noqa: F811
):
    model, snap = model_and_snapshot
    snap = snap.copy()
    flagged = np.random.default_rng(3).random(len(snap)) < 0.1
    snap["elderly_alone_chronic"] = flagged.astype("float64")
    keys = set(snap.loc[flagged, "household_key"])
    for share, low, high in ((0.0, 0.0, 0.4), (0.8, 0.6, 1.0)):
        cfg = ScoringConfig(town_capacity=40, exploration=Exploration(share=0.5, signal_share=share))
        lst = score_snapshot(snap, model, cfg).visit_list
        fresh = lst[(lst["selection"] == EXPLORE) & (lst["pool"] == FRESH)]
        assert len(fresh) > 10
        assert low <= fresh["household_key"].isin(keys).mean() <= high, share

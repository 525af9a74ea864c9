"""Exploration with known propensities (shared/domain.md, *selective labels*).

A deployment learns only about the households it visits and those who apply: a model trained on
that learns who applies. So a share of each township's monthly capacity goes to households drawn
at random, and every listed household carries the probability with which it was listed:

- **who may be drawn**: cohort households of the township not on the ranked list, from two pools:
  the *band* just below the list's cut (the next ``band_multiple`` × town capacity households by
  risk) and the *fresh* pool (every other cohort household the system has never listed);
- **how many**: ``round(share × town_capacity)`` a township, ``band_share`` of them from the band,
  each pool's slots split between its urban and rural households in proportion to their numbers
  (largest remainder), so every township (hence every county) and both urban and rural are
  explored;
- **where the need may hide** (``signal_share`` above 0): the fresh pool of a township is split
  into households with a signal of hidden need (:data:`SIGNALS`, features/hidden_need.py: income
  below the line with nothing on record, elderly alone with chronic illness, severe disability
  without a subsidy, rigid spending, 单人户 cases) and those without; ``signal_share`` of its slots
  go to the first, the rest to the second (at least one each while both hold households), so the
  flagged are drawn more often and every household keeps a known probability above 0;
- **how**: within each stratum (township, pool, signal, urban) a simple random sample without
  replacement, so each member's inclusion probability is exactly ``drawn / stratum size``. The
  draw is a keyed hash of (seed, as-of month, household key): independent of row order, and the
  same month draws the same households when it is scored again.

Households listed by rank have probability 1. Workers see no difference: a drawn household is
placed at a random position among the list's non-red rows, with its own reasons, in the monthly
round (yellow) unless its tier is higher. The score only triggers a visit, never a decision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import Exploration

RANK = "rank"
EXPLORE = "explore"
BAND = "band"
FRESH = "fresh"
SIGNALS = (  # the hidden-need features (catalogue) whose value above 0 is a signal
    "unassisted_below_dibao",
    "elderly_alone_chronic",
    "severe_disability_no_subsidy",
    "rigid_spending_below_edge",
    "single_person_case_members",
)


def hidden_need_signal(frame: pd.DataFrame) -> np.ndarray:
    """Per row, whether any of :data:`SIGNALS` is above 0 (False where the frame lacks them)."""
    flags = [frame[c].to_numpy(dtype="float64") > 0 for c in SIGNALS if c in frame.columns]
    return np.logical_or.reduce(flags) if flags else np.zeros(len(frame), dtype=bool)


def explore_slots(town_capacity: int, cfg: Exploration) -> int:
    """Households drawn at random a township a month."""
    return round(cfg.share * town_capacity)


def uniform_keys(household_key: pd.Series, as_of: pd.Timestamp, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per household from a hash of (seed, month, key)."""
    salted = f"{seed}|{as_of:%Y-%m}|" + household_key.astype("str")
    hashed = pd.util.hash_pandas_object(salted, index=False).to_numpy(dtype=np.uint64)
    return (hashed >> np.uint64(11)).astype(np.float64) / float(2**53)


def allocate(strata: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Slots per stratum: each group's ``want`` (a column, equal within the group) split in
    proportion to the strata's ``size`` by largest remainder, never more than a stratum holds."""
    group_size = strata.groupby(by)["size"].transform("sum").to_numpy(dtype=float)
    want = np.minimum(strata["want"].to_numpy(dtype=float), group_size)
    exact = np.divide(
        want * strata["size"].to_numpy(), group_size, out=np.zeros(len(strata)), where=group_size > 0
    )
    base = np.floor(exact)
    left = want - pd.Series(base).groupby([strata[c].to_numpy() for c in by]).transform("sum").to_numpy()
    rank = pd.Series(base - exact).groupby([strata[c].to_numpy() for c in by]).rank(method="first").to_numpy()
    slots: np.ndarray = np.minimum(base + (rank <= left), strata["size"].to_numpy()).astype(np.int64)
    return slots


def draw_exploration(
    scores: pd.DataFrame,
    listed: pd.Series,
    ever_listed: pd.Series,
    as_of: pd.Timestamp,
    town_capacity: int,
    cfg: Exploration,
) -> pd.DataFrame:
    """The households drawn for exploration: rows of ``scores`` (which must hold household_key,
    town_code, urban and risk; ``signal`` too when ``cfg.signal_share`` is above 0) with
    ``listing_probability`` and ``pool``.

    ``listed``: the keys on this month's ranked list; ``ever_listed``: keys listed in any earlier
    month (they are not in the fresh pool, only in the band)."""
    n = explore_slots(town_capacity, cfg)
    if n <= 0 or scores.empty:
        return scores.iloc[0:0].assign(listing_probability=pd.Series(dtype=float), pool=pd.Series(dtype=str))
    keys = scores["household_key"].astype("str")
    free = scores.loc[~keys.isin(set(listed.astype("str"))).to_numpy()].copy()
    by_risk = free.sort_values(["town_code", "risk", "household_key"], ascending=[True, False, True])
    band_size = int(np.ceil(cfg.band_multiple * town_capacity))
    in_band = by_risk.groupby("town_code", sort=False).cumcount() < band_size
    free["pool"] = np.where(in_band.reindex(free.index).to_numpy(), BAND, FRESH)
    never = ~free["household_key"].astype("str").isin(set(ever_listed.astype("str")))
    free = free.loc[(free["pool"] == BAND).to_numpy() | never.to_numpy()]
    n_band = round(n * cfg.band_share)
    split = cfg.signal_share > 0
    free["signal"] = (free["signal"].to_numpy(dtype=bool) if split else False) & (
        free["pool"] == FRESH
    ).to_numpy()
    strata_cols = ["town_code", "pool", "signal", "urban"]
    strata = free.groupby(strata_cols, sort=True).size().rename("size").reset_index()
    pools = strata.groupby(["town_code", "pool"], sort=True)["size"].sum().rename("pool_size").reset_index()
    pools["want"] = np.where(pools["pool"] == BAND, n_band, n - n_band)
    # a pool too small for its share passes the rest to the township's other pool
    pools["want"] = _passed_on(pools, "town_code", "pool_size")
    sizes = strata.groupby(["town_code", "pool", "signal"], sort=True)["size"].sum().rename("group_size")
    groups = sizes.reset_index().merge(pools[["town_code", "pool", "want"]], on=["town_code", "pool"])
    groups["want"] = _signal_wants(groups, cfg.signal_share)
    strata = strata.merge(groups[["town_code", "pool", "signal", "want"]], on=["town_code", "pool", "signal"])
    strata["slots"] = allocate(strata, ["town_code", "pool", "signal"])
    free = free.merge(strata[[*strata_cols, "slots", "size"]], on=strata_cols, how="left")
    free = free.rename(columns={"size": "stratum_size"})
    free["u"] = uniform_keys(free["household_key"], as_of, cfg.seed)
    order = free.groupby(strata_cols, sort=False)["u"].rank(method="first")
    drawn = free.loc[(order <= free["slots"]).to_numpy()].copy()
    drawn["listing_probability"] = drawn["slots"] / drawn["stratum_size"]
    return drawn.drop(columns=["slots", "stratum_size", "u", "signal"]).reset_index(drop=True)


def _passed_on(groups: pd.DataFrame, by: str, size: str) -> np.ndarray:
    """Each group's ``want`` capped at its ``size``, what a group cannot take passed to the other
    groups of the same ``by`` (two groups a ``by``: the band and the fresh pool, or the flagged
    and the others)."""
    short = (groups["want"] - groups[size]).clip(lower=0)
    spare = short.groupby(groups[by]).transform("sum") - short
    wants: np.ndarray = (groups["want"] + spare).clip(upper=groups[size]).to_numpy(dtype=np.int64)
    return wants


def _signal_wants(groups: pd.DataFrame, signal_share: float) -> np.ndarray:
    """The slots of each (township, pool, signal) group: the band whole; a fresh pool's split
    ``signal_share`` to its flagged households, at least one to each group while both hold
    households and the pool has two slots, and what a group cannot take to the other."""
    want = groups["want"].to_numpy(dtype=np.int64)
    flagged = groups["signal"].to_numpy(dtype=bool)
    pool_key = groups["town_code"].astype(str) + "|" + groups["pool"].astype(str)
    both = pool_key.map(pool_key.value_counts()).to_numpy() == 2
    to_flagged = np.round(want * signal_share)
    to_flagged = np.where(want >= 2, np.clip(to_flagged, 1, want - 1), to_flagged)
    flagged_take = (
        pd.Series(np.where(flagged & both, to_flagged, 0)).groupby(pool_key.to_numpy()).transform("sum")
    )
    target = np.where(~both, want, np.where(flagged, to_flagged, want - flagged_take.to_numpy()))
    frame = pd.DataFrame({"key": pool_key, "want": target.astype(np.int64), "size": groups["group_size"]})
    return _passed_on(frame, "key", "size")


def interleave(ranked: pd.DataFrame, explored: pd.DataFrame, as_of: pd.Timestamp, seed: int) -> pd.DataFrame:
    """The township list with the drawn households at random places among its non-red rows:
    ``rank_in_town`` and ``rank_in_village`` renumbered, ``selection`` and
    ``listing_probability`` set (rank: 1)."""
    ranked = ranked.assign(selection=RANK, listing_probability=1.0)
    if explored.empty:
        return ranked
    explored = explored.assign(selection=EXPLORE)
    both = pd.concat([ranked, explored], ignore_index=True)
    red = (both["tier"] == "red").to_numpy()
    position = both["rank_in_town"].to_numpy(dtype="float64", copy=True)
    is_explore = (both["selection"] == EXPLORE).to_numpy()
    town = both["town_code"].to_numpy()
    town_rows = pd.Series(~is_explore).groupby(town).transform("sum").to_numpy()
    town_red = pd.Series(red & ~is_explore).groupby(town).transform("sum").to_numpy()
    u = uniform_keys(both["household_key"], as_of, seed + 1)
    # between the last red row and one place after the last ranked row
    position[is_explore] = (
        town_red[is_explore] + 0.5 + u[is_explore] * (town_rows[is_explore] - town_red[is_explore])
    )
    both["_position"] = position
    both["rank_in_town"] = both.groupby("town_code")["_position"].rank(method="first").astype("int64")
    both["rank_in_village"] = both.groupby("village_code")["_position"].rank(method="first").astype("int64")
    both["within_village_capacity"] = both["within_village_capacity"].fillna(True).astype(bool)
    both["within_town_capacity"] = both["within_town_capacity"].fillna(True).astype(bool)
    out = both.sort_values(["town_code", "rank_in_town"], kind="stable").drop(columns="_position")
    return out.reset_index(drop=True)

"""Who visits which household: a village's list shared among its workers within their capacity.

Every village worker whose areas cover the village (the primary area on users or a row of
user_areas) takes part. In priority order (tier, then due date, then rank in the village) the
village's households go round its workers in turn; a worker's capacity (users.capacity, else
``outreach.worker_capacity`` visits a month) counts over all of their villages, less the visits
already assigned to them this month. What no worker of the village has room for goes to the
town officer, else the county officer (first by name when several share an area); a household
that nobody covers gets <NA>.

Vectorised: a few rounds of merges and cumulative counts, never a loop over the list's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outreach.messages import TIER_RANK

LEVEL_COLUMN = {"village": "village_code", "town": "town_code", "county": "county_code"}
MAX_ROUNDS = 50  # each round fills at least one worker or ends; villages rarely have more workers


def user_areas(users: pd.DataFrame, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """(user_id, role, level, code) of every area of every user: the primary one and ``extra``
    rows (user_id, level, code) from user_areas."""
    role = users["role"] if "role" in users else users["level"].map({"village": "village_worker"})
    primary = pd.DataFrame(
        {"user_id": users["user_id"], "role": role, "level": users["level"], "code": users["code"]}
    ).dropna(subset=["level", "code"])
    if extra is None or extra.empty:
        return primary.reset_index(drop=True)
    extra = extra.merge(pd.DataFrame({"user_id": users["user_id"], "role": role}), on="user_id")
    both = pd.concat([primary, extra[["user_id", "role", "level", "code"]]], ignore_index=True)
    return both.drop_duplicates(["user_id", "level", "code"]).reset_index(drop=True)


def priority_order(households: pd.DataFrame) -> pd.Series:
    """0, 1, 2 … by urgency: tier (red first), due date, village, rank in the village."""
    key = pd.DataFrame(
        {
            "tier": -households["tier"].map(TIER_RANK).fillna(-1).to_numpy(),
            "due": pd.to_datetime(households["due_date"]).to_numpy() if "due_date" in households else 0,
            "village": households["village_code"].to_numpy(),
            "rank": households["rank_in_village"].to_numpy() if "rank_in_village" in households else 0,
        },
        index=households.index,
    )
    order = key.sort_values(["tier", "due", "village", "rank"], kind="stable").index
    return pd.Series(np.arange(len(order)), index=order).reindex(households.index)


def _worker_pairs(households: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """(row, user_id) for every household and every village worker whose areas cover it."""
    workers = areas[areas["role"] == "village_worker"]
    pairs = []
    for level, column in LEVEL_COLUMN.items():
        at_level = workers.loc[workers["level"] == level, ["user_id", "code"]]
        if at_level.empty:
            continue
        rows = pd.DataFrame({"row": households.index, "code": households[column].to_numpy()})
        pairs.append(rows.merge(at_level, on="code")[["row", "user_id"]])
    if not pairs:
        return pd.DataFrame({"row": pd.Series(dtype=object), "user_id": pd.Series(dtype="int64")})
    return pd.concat(pairs, ignore_index=True).drop_duplicates()


def _officer(households: pd.DataFrame, areas: pd.DataFrame) -> pd.Series:
    """The town officer of each row, else the county officer (first by user id); <NA> else."""
    result = pd.Series(pd.NA, index=households.index, dtype="Int64")
    officers = areas[areas["role"] != "village_worker"].sort_values("user_id")
    for level in ("county", "town"):  # the nearer level last, so it wins
        at_level = officers[officers["level"] == level].drop_duplicates("code", keep="first")
        mapping = pd.Series(at_level["user_id"].to_numpy(), index=at_level["code"].to_numpy())
        found = households[LEVEL_COLUMN[level]].map(mapping).astype("Int64")
        result = found.fillna(result) if found.notna().any() else result
    return result


def assign_within_capacity(
    households: pd.DataFrame,
    users: pd.DataFrame,
    *,
    extra_areas: pd.DataFrame | None = None,
    default_capacity: int = 30,
    used: pd.Series | None = None,
    visits: pd.Series | None = None,
) -> pd.Series:
    """The user_id responsible for each row (Int64, <NA> when nobody covers it).

    households: village_code, town_code, county_code, tier (and due_date, rank_in_village);
    users: user_id, level, code (and role, capacity); extra_areas: user_areas rows;
    used: visits already assigned this month per user_id; visits: the rows that take a visit
    (default all) — the others go to the village's first worker without using capacity.
    """
    areas = user_areas(users, extra_areas)
    result = _officer(households, areas)
    if households.empty:
        return result
    visits = pd.Series(True, index=households.index) if visits is None else visits.reindex(households.index)
    capacity = (
        users["capacity"].astype("Float64").fillna(default_capacity)
        if "capacity" in users
        else pd.Series(float(default_capacity), index=users.index)
    )
    room = pd.Series(capacity.to_numpy(dtype="float64"), index=users["user_id"].to_numpy())
    if used is not None:
        room = room.sub(used.reindex(room.index).fillna(0), fill_value=0)
    pairs = _worker_pairs(households, areas)
    if pairs.empty:
        return result
    pairs["priority"] = priority_order(households).reindex(pairs["row"]).to_numpy()
    pairs["village"] = households["village_code"].reindex(pairs["row"]).to_numpy()
    pairs = pairs.sort_values(["priority", "user_id"], kind="stable")
    # the village's workers in turn: the row's place among its village's rows, modulo their count
    per_row = pairs.drop_duplicates("row")
    place = per_row.groupby("village", sort=False).cumcount()
    k = pairs.groupby("row")["user_id"].transform("size")
    pairs["turn"] = pairs["row"].map(pd.Series(place.to_numpy(), index=per_row["row"].to_numpy()))
    pairs["slot"] = pairs.groupby("row").cumcount()
    first = pairs[pairs["slot"] == pairs["turn"] % k]
    no_visit = ~visits.reindex(first["row"]).to_numpy(dtype=bool)
    result.loc[first.loc[no_visit, "row"]] = first.loc[no_visit, "user_id"].to_numpy()

    todo = pairs[visits.reindex(pairs["row"]).to_numpy(dtype=bool)]
    preferred = todo["slot"] == todo["turn"] % k.loc[todo.index]
    for _ in range(MAX_ROUNDS):
        if todo.empty:
            break
        # each open row asks one worker: its turn first, then the one with the most room left
        asks = todo.assign(room=todo["user_id"].map(room).to_numpy(), preferred=preferred.to_numpy())
        asks = asks[asks["room"] > 0]
        if asks.empty:
            break
        asks = asks.sort_values(["row", "preferred", "room", "user_id"], ascending=[True, False, False, True])
        asks = asks.drop_duplicates("row").sort_values("priority")
        taken = asks.groupby("user_id").cumcount() < asks["room"]
        granted = asks[taken]
        result.loc[granted["row"]] = granted["user_id"].to_numpy()
        room = room.sub(granted["user_id"].value_counts(), fill_value=0)
        todo = todo[~todo["row"].isin(granted["row"])]
        preferred = preferred.loc[todo.index]
    return result

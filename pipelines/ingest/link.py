"""Households from the hukou register, and department rows whose person is not in it.

Pure functions over canonical frames (pseudonymised keys only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOUSEHOLD_COLUMNS = ["person_key", "household_key", "division_code", "relation"]
GONE_STATUS = ("dead", "moved_out")
GONE_CHANGES = ("death", "move_out")


def households_as_of(base: pd.DataFrame, changes: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Who lives in which household on ``as_of``: the base register plus every change dated
    on or before it (births, moves in, splits to the new 户号 in the row; deaths and moves
    out end membership). A change known later but dated earlier still applies, so callers
    pass only the rows known by their as-of month."""
    cols = [*HOUSEHOLD_COLUMNS, "status", "event_date"]
    b = base[cols].assign(change_type=pd.NA, _order=0) if len(base) else None
    c = changes[[*cols, "change_type"]].assign(_order=1) if len(changes) else None
    events = pd.concat([x for x in (b, c) if x is not None], ignore_index=True)
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in HOUSEHOLD_COLUMNS})
    events = events[(events["event_date"] <= as_of).to_numpy()]
    # each person's last event (by date, the base before a change on the same day): sort
    # integer codes rather than the string keys; the output keeps first-appearance order
    codes = pd.factorize(events["person_key"])[0]
    order = np.lexsort((events["_order"].to_numpy(), events["event_date"].to_numpy(), codes))
    ends = np.r_[codes[order][1:] != codes[order][:-1], True]
    last = events.iloc[np.sort(order[ends])]
    present = ~last["status"].isin(GONE_STATUS) & ~last["change_type"].isin(GONE_CHANGES)
    return last.loc[present.to_numpy(), HOUSEHOLD_COLUMNS].reset_index(drop=True)


def _lookup(registered: pd.Index) -> pd.Index:
    """The register as a unique string Index; as given when it already is one, so the hash
    table pandas builds on first lookup (and keeps on the Index) serves every later call."""
    if registered.dtype != "str":
        registered = registered.astype("str")
    return registered if registered.is_unique else registered.unique()


def _registered(series: pd.Series, registered: pd.Index) -> np.ndarray:
    """``series.isin(registered)`` by probing the register's cached hash table (pandas'
    string ``isin`` turns every value of the register into a Python scalar on each call)."""
    return registered.get_indexer(series.astype("str")) >= 0


def unlinked_rows(frame: pd.DataFrame, key_columns: list[str], registered: pd.Index) -> pd.DataFrame:
    """Rows whose person keys are not in the register, counted per key column and person."""
    parts = []
    lookup = _lookup(registered)
    for col in key_columns:
        if col not in frame.columns:
            continue
        miss = frame[frame[col].notna().to_numpy() & ~_registered(frame[col], lookup)]
        if miss.empty:
            continue
        parts.append(
            miss.groupby(["source_file", col], sort=True)
            .size()
            .rename("rows")
            .reset_index()
            .rename(columns={col: "person_key"})
            .assign(key_column=col)
        )
    if not parts:
        return pd.DataFrame(
            {
                "source_file": pd.Series(dtype="str"),
                "person_key": pd.Series(dtype="str"),
                "rows": pd.Series(dtype="int64"),
                "key_column": pd.Series(dtype="str"),
            }
        )
    return pd.concat(parts, ignore_index=True)


def unlinked_row_mask(frame: pd.DataFrame, key_columns: list[str], registered: pd.Index) -> pd.Series:
    """True for a row with any person key outside the register."""
    mask = pd.Series(False, index=frame.index)
    lookup = _lookup(registered)
    for col in key_columns:
        if col in frame.columns:
            mask |= frame[col].notna().to_numpy() & ~_registered(frame[col], lookup)
    return mask

"""Decide, row by row, what is accepted, quarantined or a duplicate.

Pure functions over frames: the Great Expectations run lives in ingest.suites; this
module turns its failures into one decision per delivered row so that
rows in = accepted + quarantined + duplicates holds by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.suites import DUPLICATE_KINDS
from lowinc.sources import FileSpec

UNPARSED_KINDS = ("date_unparseable", "number_unparseable")


def row_strings(frame: pd.DataFrame) -> pa.Array:
    """Each row as one string (values joined by a unit separator; missing ≠ empty)."""
    if not len(frame.columns):
        return pa.array([""] * len(frame), pa.string())
    columns = [pc.cast(pa.array(frame[c].array), pa.string()) for c in frame.columns]
    if len(columns) == 1:
        return pc.fill_null(columns[0], "\x00")
    return pc.binary_join_element_wise(*columns, "\x1f", null_handling="replace", null_replacement="\x00")


def exact_duplicates(raw: pd.DataFrame, earlier: list[pd.DataFrame], key: str | None = None) -> pd.Series:
    """Rows repeating an earlier row of this file, or a row of a file already read this
    month (``earlier``: so a file delivered twice, as X(1).csv or X_重报.csv, counts
    entirely as duplicates).

    A row can only repeat another whose ``key`` column (an ID number) is the same, so the
    whole rows are compared only where a key recurs: a few rows in a thousand.
    """
    frames = [*earlier, raw]
    if key is not None and key in raw.columns:
        keys = pd.concat([f[key] for f in frames], ignore_index=True)
        candidate = keys.duplicated(keep=False).to_numpy()
    else:
        candidate = np.ones(sum(len(f) for f in frames), dtype=bool)
    whole = pd.concat(frames, ignore_index=True) if earlier else raw.reset_index(drop=True)
    picked = np.flatnonzero(candidate)
    repeated = np.zeros(len(whole), dtype=bool)
    if len(picked):
        rows = pd.Series(pd.array(row_strings(whole.iloc[picked]), dtype="str"))
        repeated[picked] = rows.duplicated(keep="first").to_numpy()
    return pd.Series(repeated[len(whole) - len(raw) :], index=raw.index)


def defect_failures(failures: pd.DataFrame) -> pd.DataFrame:
    """Failures that quarantine a row: duplicate-key findings are counted apart, and an
    "is empty" finding on a value that was present but unreadable is left to its parse reason."""
    f = failures[~failures["kind"].isin(DUPLICATE_KINDS)]
    unparsed = f.loc[f["kind"].isin(UNPARSED_KINDS), ["row_id", "column"]]
    if len(unparsed):
        key = pd.MultiIndex.from_frame(f[["row_id", "column"]])
        implied = key.isin(pd.MultiIndex.from_frame(unparsed)) & (f["kind"] == "missing_value").to_numpy()
        f = f[~implied]
    return f.sort_values(["row_id", "kind", "column"], kind="stable").reset_index(drop=True)


@dataclass
class RowDecision:
    """Row ids (1-based) of one file by outcome."""

    accepted: pd.Series  # boolean mask over the validation frame
    quarantined: int
    key_duplicates: int


def decide_rows(
    spec: FileSpec, frame: pd.DataFrame, failures: pd.DataFrame, seen_keys: pd.DataFrame | None
) -> RowDecision:
    """Accepted = no defect and not repeating a unique key accepted before (this file or an
    earlier one of the month, given as ``seen_keys``)."""
    bad = frame["row_id"].isin(failures["row_id"])
    ok = ~bad
    dup = pd.Series(False, index=frame.index)
    if spec.unique_key:
        keys = frame.loc[ok, list(spec.unique_key)]
        if seen_keys is not None and len(seen_keys):
            both = pd.concat([seen_keys, keys])
            dup_both = both.duplicated(keep="first").to_numpy()[len(seen_keys) :]
        else:
            dup_both = keys.duplicated(keep="first").to_numpy()
        dup.loc[keys.index] = dup_both
    return RowDecision(ok & ~dup, int(bad.sum()), int(dup.sum()))

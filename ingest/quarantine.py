"""Quarantine records: the delivered row as strings, where it came from, and why it failed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

QUIET_KINDS = ("missing_value", "sum_mismatch", "duplicate_key")  # the reason shows no value
QUARANTINE_COLUMNS = [
    "known_month",
    "source",
    "table",
    "file",
    "row_number",
    "column",
    "expectation",
    "kind",
    "value",
    "reason",
    "original",
]


def quarantine_records(
    failures: pd.DataFrame,
    raw: pd.DataFrame,
    headers: dict[str, str],
    extras: pd.DataFrame,
    *,
    source: str,
    table: str,
    file: str,
    known_month: str,
) -> pd.DataFrame:
    """One record per (row, failed expectation); ``raw`` is indexed by 0-based row position."""
    if failures.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c == "row_number" else "str") for c in QUARANTINE_COLUMNS}
        )
    positions = np.unique(failures["row_id"].to_numpy() - 1)
    rows = raw.iloc[positions].astype("str").where(raw.iloc[positions].notna(), "")
    rows.columns = [headers[c] for c in raw.columns]
    if len(extras.columns):
        ex = extras.iloc[positions].astype("str").where(extras.iloc[positions].notna(), "")
        rows = pd.concat([rows.reset_index(drop=True), ex.reset_index(drop=True)], axis=1)
    originals = np.array([json.dumps(r, ensure_ascii=False) for r in rows.to_dict("records")], dtype=object)
    at = np.searchsorted(positions, failures["row_id"].to_numpy() - 1)  # failure → its row
    # the failing column's delivered value ("" when missing or not a column of the file)
    values = np.full(len(failures), "", dtype=object)
    column = failures["column"].to_numpy()
    for name in pd.unique(column):
        if name in raw.columns:
            here = column == name
            got = raw[name].iloc[positions[at[here]]]
            values[here] = got.astype("str").where(got.notna(), "").to_numpy(dtype=object)
    kind = failures["kind"].to_numpy()
    where = f"{file} row " + failures["row_id"].astype("str")
    header, detail = failures["header"], failures["detail"]
    shown = pd.Series(
        np.where(np.isin(kind, QUIET_KINDS), "", " '" + values.astype(str) + "'"), index=failures.index
    )
    reasons = np.where(
        kind == "sum_mismatch",
        where
        + ": "
        + detail
        + " ("
        + header
        + " = "
        + pd.Series(values, index=failures.index).astype("str")
        + ")",
        where + ": " + header + shown + " " + detail,
    )
    return pd.DataFrame(
        {
            "known_month": known_month,
            "source": source,
            "table": table,
            "file": file,
            "row_number": failures["row_id"].astype("int64").to_numpy(),
            "column": failures["header"].to_numpy(),
            "expectation": failures["expectation"].to_numpy(),
            "kind": kind,
            "value": pd.array(values, dtype="str"),
            "reason": pd.array(reasons.astype(object), dtype="str"),
            "original": pd.array(originals[at], dtype="str"),
        }
    )

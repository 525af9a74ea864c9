"""Quarantine records: the delivered row as strings, where it came from, and why it failed."""

from __future__ import annotations

import json

import pandas as pd

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
    positions = sorted(set(failures["row_id"] - 1))
    rows = raw.loc[positions].astype("str").where(raw.loc[positions].notna(), "")
    rows.columns = [headers[c] for c in raw.columns]
    if len(extras.columns):
        ex = extras.loc[positions].astype("str").where(extras.loc[positions].notna(), "")
        rows = pd.concat([rows, ex], axis=1)
    original = {
        pos: json.dumps(r, ensure_ascii=False)
        for pos, r in zip(positions, rows.to_dict("records"), strict=True)
    }
    values, reasons, originals = [], [], []
    for row_id, column, header, detail, kind in failures[
        ["row_id", "column", "header", "detail", "kind"]
    ].itertuples(index=False):  # one iteration per failure, not per delivered row
        pos = row_id - 1
        value = "" if column not in raw.columns or pd.isna(raw.at[pos, column]) else str(raw.at[pos, column])
        values.append(value)
        shown = "" if kind in ("missing_value", "sum_mismatch", "duplicate_key") else f" '{value}'"
        if kind == "sum_mismatch":
            reasons.append(f"{file} row {row_id}: {detail} ({header} = {value})")
        else:
            reasons.append(f"{file} row {row_id}: {header}{shown} {detail}")
        originals.append(original[pos])
    return pd.DataFrame(
        {
            "known_month": known_month,
            "source": source,
            "table": table,
            "file": file,
            "row_number": failures["row_id"].astype("int64").to_numpy(),
            "column": failures["header"].to_numpy(),
            "expectation": failures["expectation"].to_numpy(),
            "kind": failures["kind"].to_numpy(),
            "value": pd.array(values, dtype="str"),
            "reason": pd.array(reasons, dtype="str"),
            "original": pd.array(originals, dtype="str"),
        }
    )

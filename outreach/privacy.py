"""Masking of resident ID numbers for printed lists: the only form an ID may leave the system in."""

from __future__ import annotations

import pandas as pd


def mask_id(id_no: str | None) -> str:
    """330502199001011234 -> 330502********1234 (first 6, last 4); anything shorter is hidden whole."""
    if id_no is None or pd.isna(id_no):
        return ""
    text = str(id_no).strip()
    if len(text) < 11:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_ids(ids: pd.Series) -> pd.Series:
    """:func:`mask_id` for a column of ID numbers (a printed list: one township, not millions)."""
    return pd.Series([mask_id(v) for v in ids], index=ids.index, dtype=object)

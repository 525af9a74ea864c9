"""Turn delivered values into typed canonical values, vectorised, and mark what is wrong.

Nothing is rejected here: a value that cannot be read stays missing in its column and is
copied, as delivered, into a ``<column>__unparsed`` helper column; an ID keeps its cleaned
form with ``__check``/``__expected`` helpers; an unknown category keeps its delivered
value. The Great Expectations suite (ingest.suites) then decides row by row. Repairs
that lose nothing (15-digit IDs, full-width digits, 1,234元) are counted, not quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lowinc import idno
from lowinc.fixedwidth import arrow_strings
from lowinc.sources import CONTRACT_DATE_FORMATS, ColumnSpec, FileSpec

ROW_ID = "row_id"  # 1-based data row number within the delivered file
EXCEL_FORMAT = "excel"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_PLAIN_NUMBER = r"-?[0-9]+(\.[0-9]+)?"  # what Arrow's cast reads exactly as to_numeric does
_MONEY_JUNK = f"[,，元¥￥{idno.WHITESPACE_CHARS}]"  # no \s: see idno.WHITESPACE


@dataclass
class Normalised:
    """The validation frame (typed columns + helpers) and counts of repaired values."""

    frame: pd.DataFrame
    repaired: dict[str, int] = field(default_factory=dict)


def text(raw: pd.Series) -> pd.Series:
    """Delivered values as trimmed strings; empty → missing."""
    if raw.dtype != "str":
        raw = raw.astype("str").where(raw.notna(), pd.NA)
    s = raw.str.strip()
    return s.where(s != "", pd.NA)


def _parse_format(s: pd.Series, fmt: str) -> pd.Series:
    if fmt == EXCEL_FORMAT:  # an Excel serial day number delivered as text
        days = pd.to_numeric(s, errors="coerce")
        days = days.where((days >= 1) & (days < 2_958_466))
        return _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return pd.to_datetime(s, format=fmt, errors="coerce")


def parse_dates(
    raw: pd.Series, formats: tuple[str, ...], fallback: bool = True
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse dates in the file's formats, then (if ``fallback``) the contract's others.

    Returns (parsed datetime64, raw value where nothing parsed, mask parsed by a fallback).
    ``20230231`` matches a format's shape but is no date: it stays unparsed.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw.astype("datetime64[us]")
        return parsed, pd.Series(pd.NA, index=raw.index, dtype="str"), parsed.isna() & False
    s = text(raw)
    parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    other = pd.Series(False, index=s.index)
    extra = [f for f in CONTRACT_DATE_FORMATS if f not in formats] if fallback else []
    for fmt in (*formats, *extra):
        todo = parsed.isna() & s.notna()
        if not todo.any():
            break
        got = _parse_format(s[todo], fmt).astype("datetime64[us]")
        got = got[got.notna()]
        parsed[got.index] = got
        if fmt not in formats:
            other[got.index] = True
    unparsed = s.where(parsed.isna(), pd.NA)
    return parsed, unparsed, other


def parse_months(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """YYYYMM (int or text) → the month's first day; returns (parsed, unparsed raw)."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return _numeric_months(raw)
    s = text(raw)
    s = s.str.replace(r"\.0$", "", regex=True)  # an integer month read through a float
    parsed = pd.to_datetime(s + "01", format="%Y%m%d", errors="coerce").astype("datetime64[us]")
    return parsed, s.where(parsed.isna(), pd.NA)


def _numeric_months(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """YYYYMM delivered as numbers (Parquet), with array arithmetic: the same results as
    parsing their text, without making a string per row."""
    v = raw.astype("float64").to_numpy(na_value=np.nan)
    year, month = np.floor_divide(v, 100), np.mod(v, 100)
    ok = np.isfinite(v) & (v % 1 == 0) & (year >= 1000) & (year <= 9999) & (month >= 1) & (month <= 12)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("int64")
    parsed = pd.Series(months.astype("datetime64[M]").astype("datetime64[us]"), index=raw.index)
    parsed[~ok] = pd.NaT
    bad = ~ok & ~np.isnan(v)
    unparsed = pd.Series(pd.NA, index=raw.index, dtype="str")
    if bad.any():
        unparsed[bad] = text(raw[bad]).str.replace(r"\.0$", "", regex=True)
    return parsed, unparsed


def parse_numbers(raw: pd.Series, money: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers (money: strip 元, ¥ and thousands separators); (values, unparsed, reformatted)."""
    none = pd.Series(pd.NA, index=raw.index, dtype="str")
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64"), none, pd.Series(False, index=raw.index)
    s = text(raw)
    # plain numbers (nearly all) take one Arrow cast; the rest are cleaned and read by pandas
    plain = s.str.fullmatch(_PLAIN_NUMBER).fillna(True).to_numpy(dtype=bool)
    values = np.full(len(s), np.nan)
    values[plain] = pc.cast(pa.array(s[plain].array), pa.float64()).to_numpy(zero_copy_only=False)
    formatted = np.zeros(len(s), dtype=bool)
    unparsed = none
    if not plain.all():
        rest = s[~plain]
        cleaned = rest.str.replace(_MONEY_JUNK, "", regex=True) if money else rest
        got = pd.to_numeric(cleaned, errors="coerce").astype("float64")
        values[~plain] = got.to_numpy()
        if money:
            formatted[~plain] = (
                rest.str.contains(_MONEY_JUNK, regex=True).fillna(False) & got.notna()
            ).to_numpy(dtype=bool)
        unparsed = none.copy()
        unparsed[~plain] = rest.where(got.isna(), pd.NA)
    return pd.Series(values, index=s.index), unparsed, pd.Series(formatted, index=s.index)


def map_categories(s: pd.Series, values: dict[str, str]) -> pd.Series:
    """Delivered categories → codes; an unknown value stays as delivered for the set check.
    Mapped once per distinct value (a column holds a handful), not once per row."""
    encoded = pc.dictionary_encode(arrow_strings(s))
    mapped = pa.array([values.get(v, v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pd.Series(pd.array(mapped.take(encoded.indices), dtype="str"), index=s.index)


def _normalise_column(
    col: ColumnSpec,
    raw: pd.Series,
    spec: FileSpec,
    fallback: bool,
    out: dict[str, pd.Series],
    repaired: dict[str, int],
) -> None:
    n = col.name
    if col.type == "id":
        ids = idno.normalise_ids(raw, col.id_suffix_digits)
        out[n] = ids["id"]
        out[f"{n}__check"] = ids["check"]
        out[f"{n}__expected"] = ids["expected"]
        for kind, flag in (
            ("id_full_width", "full_width"),
            ("id_spaces", "spaces"),
            ("id_lowercase_x", "lower_x"),
            ("id_15_digit", "upgraded_15"),
        ):
            repaired[kind] = repaired.get(kind, 0) + int(ids[flag].sum())
    elif col.type in ("date", "datetime"):
        parsed, unparsed, other = parse_dates(raw, spec.date_formats, fallback)
        if col.type == "date":
            parsed = parsed.dt.floor("D")
        out[n], out[f"{n}__unparsed"] = parsed, unparsed
        repaired["date_other_format"] = repaired.get("date_other_format", 0) + int(other.sum())
    elif col.type == "month":
        out[n], out[f"{n}__unparsed"] = parse_months(raw)
    elif col.type in ("money", "float", "int"):
        values, unparsed, formatted = parse_numbers(raw, money=col.type == "money")
        if col.type == "int":
            fractional = values.notna() & (values % 1 != 0)
            unparsed = unparsed.where(~fractional, text(raw))
            values = values.where(~fractional).astype("Int64")
        out[n], out[f"{n}__unparsed"] = values, unparsed
        if col.type == "money":
            repaired["money_formatted"] = repaired.get("money_formatted", 0) + int(formatted.sum())
    elif col.type == "category":
        assert col.values is not None
        out[n] = map_categories(text(raw), col.values)
    else:  # code, text
        out[n] = text(raw)


def normalise_frame(spec: FileSpec, raw: pd.DataFrame, fallback_dates: bool = True) -> Normalised:
    """The validation frame for one delivered file: ``row_id``, typed columns, helpers.

    ``raw`` is indexed by 0-based data row position (rows may have been dropped as
    duplicates), so ``row_id`` is the 1-based row number a person finds in the file.
    """
    row_ids = np.asarray(raw.index, dtype=np.int64) + 1
    out: dict[str, pd.Series] = {ROW_ID: pd.Series(row_ids, index=raw.index)}
    repaired: dict[str, int] = {}
    for col in spec.columns:
        _normalise_column(col, raw[col.name], spec, fallback_dates, out, repaired)
    for col in spec.columns:  # birth date and sex must agree with the ID they belong to
        if not col.matches_id:
            continue
        ids = out[col.matches_id].where(out[f"{col.matches_id}__expected"].notna())
        if col.type in ("date", "datetime"):
            out[f"{col.name}__from_id"] = idno.birth_dates(ids).astype("datetime64[us]")
        elif col.type == "category":
            out[f"{col.name}__from_id"] = idno.sexes(ids)
    for rule in spec.sum_rules:  # rounded to cents so float noise never fails a row
        parts = sum(out[p].fillna(0.0) for p in rule.parts)
        out[f"__gap_{rule.name}"] = (out[rule.total] - parts).round(2)
    frame = pd.DataFrame(out, index=raw.index)
    return Normalised(frame, {k: v for k, v in repaired.items() if v})

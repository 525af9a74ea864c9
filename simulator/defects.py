"""Row-level defects of the contract's "Known defects", injected into one file's rows.

Each row gets at most one defect: one uniform draw per row falls into a share of [0, 1)
sized by the rates, so a row's defect kind is never ambiguous. Kinds that do not fit a
file (money defects in a file without money) leave their share of rows clean. The
injector works on the *rendered* frame (what goes into the file: text for CSV, typed
values for parquet, dates and text for Excel) and reads the clean frame for values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lowinc.idno import CHECK_CHARS, complete_vec
from lowinc.synthetic import DefectRates
from simulator.contract import (
    DATE_FORMATS,
    DATETIME_FORMATS,
    EXCEL_TEXT_DATE_FORMATS,
    OUTSIDE_AREA_CODES,
    FileSpec,
    compose_date,
    format_dates,
    format_money,
)

ROW_KINDS: tuple[str, ...] = (
    "id_bad_check_digit",
    "id_15_digit",
    "id_full_width",
    "id_spaces",
    "id_empty",
    "date_impossible",
    "date_future",
    "date_other_format",
    "money_negative",
    "money_formatted",
    "money_parts_mismatch",
    "duplicate_row",
    "unknown_category",
    "not_in_hukou",
)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
IMPOSSIBLE_MONTH_DAYS = (("02", "30"), ("02", "31"), ("04", "31"), ("06", "31"), ("09", "31"))


@dataclass(frozen=True)
class InjectedRows:
    """A file's rows after row-level defects, and the manifest of what was done."""

    frame: pd.DataFrame
    rows: np.ndarray  # 1-based data row numbers in ``frame``
    kinds: np.ndarray
    details: np.ndarray


def applicable_kinds(spec: FileSpec) -> set[str]:
    """The row-level defect kinds that can occur in this file."""
    kinds = {"duplicate_row"}
    if spec.of_kind("id", "cert"):
        kinds |= {k for k in ROW_KINDS if k.startswith("id_")}
        if spec.source != "hukou":
            kinds.add("not_in_hukou")
    if spec.format != "parquet" and spec.of_kind("date", "datetime"):
        kinds |= {"date_impossible", "date_future", "date_other_format"}
    if spec.of_kind("money"):
        kinds.add("money_negative")
        if spec.format == "csv":
            kinds.add("money_formatted")
    if spec.parts_total:
        kinds.add("money_parts_mismatch")
    if spec.of_kind("category"):
        kinds.add("unknown_category")
    return kinds


def assign_kinds(n: int, rates: DefectRates, rng: np.random.Generator) -> np.ndarray:
    """Index into ROW_KINDS per row, or -1 for a clean row; one uniform draw per row."""
    shares = np.array([getattr(rates, k) for k in ROW_KINDS])
    bounds = np.cumsum(shares)
    if bounds[-1] > 1:
        raise ValueError(f"row-level defect rates add up to {bounds[-1]:.3f} > 1")
    idx = np.searchsorted(bounds, rng.random(n), side="right")
    return np.where(idx < len(ROW_KINDS), idx, -1)


def _pick(eligible: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random eligible column per row (index into the candidate list), -1 if none."""
    if eligible.size == 0:
        return np.full(len(eligible), -1)
    scores = rng.random(eligible.shape)
    scores[~eligible] = -1.0
    choice = scores.argmax(axis=1)
    return np.where(eligible.any(axis=1), choice, -1)


def _id_part(values: pd.Series, cert: bool) -> pd.Series:
    """The 18-character ID inside a value (an ID, or a certificate's first 18 chars)."""
    s = values.astype("str")
    return s.str[:18] if cert else s


class _Injector:
    def __init__(
        self,
        clean: pd.DataFrame,
        out: pd.DataFrame,
        spec: FileSpec,
        rates: DefectRates,
        rng: np.random.Generator,
        month: str,
    ) -> None:
        self.clean, self.out, self.spec, self.rates, self.rng = clean, out, spec, rates, rng
        self.month_start = pd.Timestamp(f"{month}-01")
        self.rows: list[np.ndarray] = []
        self.kinds: list[np.ndarray] = []
        self.details: list[np.ndarray] = []
        self.done = np.zeros(len(clean), dtype=bool)

    # -- bookkeeping ---------------------------------------------------------------
    def _set(self, rows: np.ndarray, col: str, values: np.ndarray | pd.Series | None, kind: str) -> None:
        if len(rows) == 0:
            return
        j = self.out.columns.get_loc(col)
        if not isinstance(j, int):
            raise ValueError(f"column {col!r} is not unique in the rendered frame")
        if isinstance(values, pd.Series):
            values = values.to_numpy(dtype=object)
        self.out.iloc[rows, j] = values
        self._record(rows, kind, col)

    def _record(self, rows: np.ndarray, kind: str, detail: str) -> None:
        self.rows.append(rows)
        self.kinds.append(np.full(len(rows), kind, dtype=object))
        self.details.append(np.full(len(rows), detail, dtype=object))
        self.done[rows] = True

    def _choose(self, rows: np.ndarray, cols: list[str], eligible: np.ndarray):
        """Yield (column, rows) for one random eligible column per row."""
        pick = _pick(eligible, self.rng)
        for j, col in enumerate(cols):
            yield col, rows[pick == j], pick == j

    # -- IDs -----------------------------------------------------------------------
    def ids(self, kind: str, rows: np.ndarray) -> None:
        spec = self.spec
        cols = [c.name for c in spec.of_kind("id", "cert")]
        if kind == "not_in_hukou":
            cols = [spec.person_id] if spec.person_id else []
        if not cols or len(rows) == 0:
            return
        parts = {c: _id_part(self.out[c].iloc[rows], spec.column(c).kind == "cert") for c in cols}
        eligible = np.column_stack(
            [(parts[c].notna() & (parts[c].str.len() == 18)).to_numpy(dtype=bool) for c in cols]
        )
        if kind == "id_15_digit":
            born19 = [parts[c].str[6:8].eq("19").fillna(False).to_numpy(dtype=bool) for c in cols]
            eligible &= np.column_stack(born19)
        if kind == "id_lowercase_x":
            ends_x = [parts[c].str.endswith("X").fillna(False).to_numpy(dtype=bool) for c in cols]
            eligible &= np.column_stack(ends_x)
        for col, sel_rows, mask in self._choose(rows, cols, eligible):
            if len(sel_rows) == 0:
                continue
            cert = spec.column(col).kind == "cert"
            s = parts[col][mask]
            suffix = self.out[col].iloc[sel_rows].astype("str").str[18:] if cert else ""
            new = self._mutate_id(kind, s)
            values = new if new is None or not cert else new + suffix
            self._set(sel_rows, col, values, kind)

    def _mutate_id(self, kind: str, s: pd.Series) -> pd.Series | None:
        rng = self.rng
        if kind == "id_bad_check_digit":
            pos = s.str[17].map(CHECK_CHARS.index).to_numpy(dtype=np.int64)
            wrong = (pos + rng.integers(1, 11, len(s))) % 11
            return s.str[:17] + pd.Series(np.array(list(CHECK_CHARS))[wrong], index=s.index)
        if kind == "id_15_digit":
            return s.str[:6] + s.str[8:17]
        if kind == "id_lowercase_x":
            return s.str[:17] + "x"
        if kind == "id_full_width":
            return s.str.translate(FULL_WIDTH)
        if kind == "id_spaces":
            where = rng.integers(0, 3, len(s))
            lead, trail, inner = " " + s, s + " ", s.str[:6] + " " + s.str[6:]
            return lead.where(where == 0, trail.where(where == 1, inner))
        if kind == "id_empty":
            return None
        if kind == "not_in_hukou":
            area = np.array(OUTSIDE_AREA_CODES)[rng.integers(0, len(OUTSIDE_AREA_CODES), len(s))]
            first17 = (pd.Series(area, index=s.index) + s.str[6:17]).to_numpy(dtype=str)
            return pd.Series(complete_vec(first17.astype("S17")).astype(str), index=s.index)
        raise ValueError(kind)

    # -- dates ---------------------------------------------------------------------
    def dates(self, kind: str, rows: np.ndarray) -> None:
        cols = [c.name for c in self.spec.of_kind("date", "datetime")]
        if not cols or len(rows) == 0:
            return
        eligible = np.column_stack([self.clean[c].iloc[rows].notna().to_numpy() for c in cols])
        excel = self.spec.format == "xlsx"
        for col, sel_rows, _ in self._choose(rows, cols, eligible):
            if len(sel_rows) == 0:
                continue
            is_dt = self.spec.column(col).kind == "datetime"
            fmt = "%Y-%m-%d" if excel else self.spec.date_format
            assert fmt is not None
            v = pd.Series(self.clean[col].iloc[sel_rows].to_numpy(dtype="datetime64[s]"))
            if kind == "date_impossible":
                md = np.array(IMPOSSIBLE_MONTH_DAYS)[self.rng.integers(0, len(IMPOSSIBLE_MONTH_DAYS), len(v))]
                parts = {
                    "%Y": v.dt.year.astype(str).str.zfill(4),
                    "%m": pd.Series(md[:, 0]),
                    "%d": pd.Series(md[:, 1]),
                    "%H": v.dt.hour.astype(str).str.zfill(2),
                    "%M": v.dt.minute.astype(str).str.zfill(2),
                    "%S": v.dt.second.astype(str).str.zfill(2),
                }
                values: np.ndarray = compose_date(fmt, parts).to_numpy(dtype=object)
            elif kind == "date_future":
                days = self.rng.integers(2 * 365, 10 * 365, len(v))
                future = pd.Series(
                    self.month_start + pd.to_timedelta(days, unit="D") + (v - v.dt.normalize()).to_numpy()
                )
                values = (
                    future.dt.date.to_numpy(dtype=object)
                    if excel
                    else format_dates(future, fmt).to_numpy(dtype=object)
                )
            else:  # date_other_format
                if excel:
                    options = list(EXCEL_TEXT_DATE_FORMATS)
                else:
                    pool = DATETIME_FORMATS if is_dt else DATE_FORMATS
                    options = [f for f in pool if f != fmt]
                choice = self.rng.integers(0, len(options), len(v))
                text = np.empty(len(v), dtype=object)
                for i, alt in enumerate(options):
                    m = choice == i
                    if m.any():
                        text[m] = format_dates(v[m], alt).to_numpy(dtype=object)
                values = text
            self._set(sel_rows, col, values, kind)

    # -- money ---------------------------------------------------------------------
    def _render_money(self, values: np.ndarray) -> np.ndarray:
        if self.spec.format == "csv":
            return format_money(values).to_numpy(dtype=object)
        return np.round(values, 2)

    def money(self, kind: str, rows: np.ndarray) -> None:
        spec = self.spec
        if kind == "money_parts_mismatch":
            cols = list(spec.parts_total[1:])
            if len(rows) == 0:
                return
            whole = self.clean[list(spec.parts_total)].iloc[rows].notna().all(axis=1).to_numpy()
            eligible = np.repeat(whole[:, None], len(cols), axis=1)
        else:
            cols = [c.name for c in spec.of_kind("money")]
            if not cols or len(rows) == 0:
                return
            vals = self.clean[cols].iloc[rows]
            ok = vals.notna() & (vals > 0 if kind == "money_negative" else True)
            eligible = ok.to_numpy(dtype=bool)
        for col, sel_rows, _ in self._choose(rows, cols, eligible):
            if len(sel_rows) == 0:
                continue
            v = np.round(self.clean[col].iloc[sel_rows].to_numpy(dtype=np.float64), 2)
            if kind == "money_negative":
                values = self._render_money(-v)
            elif kind == "money_parts_mismatch":
                values = self._render_money(v + np.round(self.rng.uniform(1, 500, len(v)), 2))
            else:  # money_formatted
                plain = format_money(v)
                sep = pd.Series(v).map("{:,.2f}".format)
                use_sep = (np.abs(v) >= 1000) & (self.rng.random(len(v)) < 0.5)
                values = np.where(use_sep, sep.to_numpy(object), (plain + "元").to_numpy(object))
            self._set(sel_rows, col, values, kind)

    # -- categories ----------------------------------------------------------------
    def categories(self, rows: np.ndarray) -> None:
        specs = self.spec.of_kind("category")
        if not specs or len(rows) == 0:
            return
        cols = [c.name for c in specs]
        eligible = np.column_stack([self.clean[c].iloc[rows].notna().to_numpy() for c in cols])
        for (col, sel_rows, _), cs in zip(self._choose(rows, cols, eligible), specs, strict=True):
            if len(sel_rows) == 0:
                continue
            unknown = np.array(cs.unknown, dtype=object)
            values = unknown[self.rng.integers(0, len(unknown), len(sel_rows))]
            self._set(sel_rows, col, values, "unknown_category")


def inject_row_defects(
    clean: pd.DataFrame,
    rendered: pd.DataFrame,
    spec: FileSpec,
    rates: DefectRates,
    rng: np.random.Generator,
    month: str,
) -> InjectedRows:
    """Spoil rows of ``rendered`` (a copy is changed) and insert duplicate rows.

    ``clean`` holds the same rows with typed values; ``rendered`` is what will be
    written. Returns the final frame and one manifest entry per defect with its 1-based
    row number in the final frame (duplicates shift the rows after them).
    """
    n = len(clean)
    out = rendered.copy()
    inj = _Injector(clean, out, spec, rates, rng, month)
    kind_idx = assign_kinds(n, rates, rng)
    fits = applicable_kinds(spec)
    is_dup = np.zeros(n, dtype=bool)
    for k, kind in enumerate(ROW_KINDS):
        rows = np.flatnonzero(kind_idx == k)
        if kind not in fits or len(rows) == 0:
            continue
        if kind.startswith("id_") or kind == "not_in_hukou":
            inj.ids(kind, rows)
        elif kind.startswith("date_"):
            inj.dates(kind, rows)
        elif kind.startswith("money_"):
            inj.money(kind, rows)
        elif kind == "unknown_category":
            inj.categories(rows)
        elif kind == "duplicate_row":
            is_dup[rows] = True
            inj.done[rows] = True
    # lower-case x: a share of the remaining rows whose ID ends in X
    if "id_15_digit" in fits and n:
        rest = np.flatnonzero(~inj.done)
        rest = rest[rng.random(len(rest)) < rates.id_lowercase_x]
        inj.ids("id_lowercase_x", rest)

    # rows after duplicates move down; a copy sits right after its original
    shift = np.cumsum(is_dup) - is_dup
    position = np.arange(n) + shift  # 0-based row of each original in the final frame
    final_rows = [position[r] + 1 for r in inj.rows]
    kinds, details = list(inj.kinds), list(inj.details)
    dup_rows = np.flatnonzero(is_dup)
    final_rows.append(position[dup_rows] + 2)
    kinds.append(np.full(len(dup_rows), "duplicate_row", dtype=object))
    details.append(np.full(len(dup_rows), "", dtype=object))
    order = np.repeat(np.arange(n), 1 + is_dup.astype(np.int64))
    final = out.iloc[order].reset_index(drop=True)
    all_rows = np.concatenate(final_rows) if final_rows else np.array([], dtype=np.int64)
    sort = np.argsort(all_rows, kind="stable")
    return InjectedRows(
        frame=final,
        rows=all_rows[sort].astype(np.int64),
        kinds=np.concatenate(kinds)[sort],
        details=np.concatenate(details)[sort],
    )

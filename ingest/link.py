"""Households from the hukou register, and department rows whose person is not in it.

Pure functions over canonical frames (pseudonymised keys only). :class:`Register` keeps
each registered person's latest hukou event and is advanced one delivery month at a
time, so linking month M costs that month's changes, not the whole register again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lowinc.fixedwidth import GrowingKeyIndex, arrow_strings, as_fixed

HOUSEHOLD_COLUMNS = ["person_key", "household_key", "division_code", "relation"]
EVENT_COLUMNS = [*HOUSEHOLD_COLUMNS, "status", "change_type", "event_date", "_order"]
EVENT_DTYPES = {"change_type": "str", "event_date": "datetime64[us]", "_order": "int8"}
GONE_STATUS = ("dead", "moved_out")
GONE_CHANGES = ("death", "move_out")


def hukou_events(base: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Base rows (order 0) then change rows (order 1) as one frame of events: on the same
    day a change comes after the base."""
    parts = []
    if len(base):
        head = base[[*HOUSEHOLD_COLUMNS, "status", "event_date"]]
        # pandas-stubs: assign takes a scalar pd.NA (broadcast), the stubs do not list NAType
        parts.append(head.assign(change_type=pd.NA, _order=0))  # type: ignore[arg-type]
    if len(changes):
        cols = [*HOUSEHOLD_COLUMNS, "status", "change_type", "event_date"]
        parts.append(changes[cols].assign(_order=1))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=EVENT_DTYPES.get(c, "str")) for c in EVENT_COLUMNS})
    events = pd.concat(parts, ignore_index=True)[EVENT_COLUMNS]
    return events.astype(EVENT_DTYPES)


def last_events(events: pd.DataFrame) -> pd.DataFrame:
    """Each person's last event (by date, then base before change, then delivery order),
    people in order of first appearance."""
    if events.empty:
        return events
    codes = pd.factorize(events["person_key"])[0]
    order = np.lexsort((events["_order"].to_numpy(), events["event_date"].to_numpy(), codes))
    ends = np.r_[codes[order][1:] != codes[order][:-1], True]
    last = order[ends]  # one per person, ordered by person code = first appearance
    return events.iloc[last].reset_index(drop=True)


class Register:
    """Everyone the hukou register has known, with their latest event, as of a date.

    ``advance`` takes a delivery month's base or change rows: a change known later but
    dated earlier still applies, and one dated after the as-of date waits (``pending``)
    until a later month reaches it. The state is an Arrow table: a month's changes are
    applied with one ``take`` per column, people new to the register appended.
    """

    def __init__(self) -> None:
        self.pending = hukou_events(pd.DataFrame(), pd.DataFrame())
        self.state = pa.Table.from_pandas(self.pending, preserve_index=False)
        self._index: GrowingKeyIndex | None = None  # made with the first keys (their width)

    def advance(self, events: pd.DataFrame, as_of: pd.Timestamp) -> None:
        events = pd.concat([self.pending, events], ignore_index=True) if len(self.pending) else events
        due = (events["event_date"] <= as_of).to_numpy()
        self.pending = events[~due].reset_index(drop=True)
        new = last_events(events[due])
        if new.empty:
            return
        if self._index is None:
            self._index = GrowingKeyIndex(_width(new["person_key"]))
        table = pa.Table.from_pandas(new, schema=self.state.schema, preserve_index=False)
        at = self._index.find(_fixed_keys(new["person_key"], self._index.width))
        known = at >= 0
        old_date = self.state["event_date"].take(at[known]).to_numpy()
        old_order = self.state["_order"].take(at[known]).to_numpy()
        date, order = new["event_date"].to_numpy()[known], new["_order"].to_numpy()[known]
        # the month's event replaces the register's unless it is dated earlier
        later = (date > old_date) | ((date == old_date) & (order >= old_order))
        if later.any():
            rows = at[known][later]
            n = self.state.num_rows
            pick = np.arange(n)
            pick[rows] = n + np.arange(len(rows))
            replacing = table.filter(pa.array(known)).filter(pa.array(later))
            self.state = pa.concat_tables([self.state, replacing]).take(pick)
        if (~known).any():
            added = table.filter(pa.array(~known))
            self.state = pa.concat_tables([self.state, added]).combine_chunks()
            self._index.add(_fixed_keys(added["person_key"].to_pandas(), self._index.width))

    def households(self) -> pd.DataFrame:
        """Who lives in which household: everyone not dead or moved out."""
        s = self.state
        gone = pc.or_(
            pc.is_in(s["status"], pa.array(GONE_STATUS)), pc.is_in(s["change_type"], pa.array(GONE_CHANGES))
        )
        present = s.filter(pc.invert(pc.fill_null(gone, False))).select(HOUSEHOLD_COLUMNS)
        frame: pd.DataFrame = present.to_pandas()  # pyarrow is untyped
        return frame.astype("str")

    def known(self, keys: pd.Series) -> np.ndarray:
        """True for each key the register has ever held (missing keys are not)."""
        if self._index is None:
            return np.zeros(len(keys), dtype=bool)
        return self._index.find(_fixed_keys(keys, self._index.width)) >= 0


def _width(keys: pd.Series) -> int:
    """The width of the register's keys (keyed hashes: all the same)."""
    lengths = pc.utf8_length(arrow_strings(keys))
    low, high = pc.min(lengths).as_py(), pc.max(lengths).as_py()
    if low != high:
        raise ValueError(f"person keys of different widths ({low} and {high}): not keyed hashes")
    return int(high)


def _fixed_keys(keys: pd.Series, width: int) -> np.ndarray:
    """Keys as fixed-width bytes; a missing key or one of another width (which cannot be
    in the register) becomes an empty value that matches nothing."""
    arr = arrow_strings(keys)
    fits = pc.fill_null(pc.equal(pc.utf8_length(arr), width), False)
    out = np.zeros(len(arr), dtype=f"S{width}")
    out[fits.to_numpy(zero_copy_only=False)] = as_fixed(arr.filter(fits), width)
    return out


def households_as_of(base: pd.DataFrame, changes: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Who lives in which household on ``as_of``: the base register plus every change dated
    on or before it (births, moves in, splits to the new 户号 in the row; deaths and moves
    out end membership)."""
    register = Register()
    register.advance(hukou_events(base, changes), as_of)
    return register.households()


def unlinked(
    frame: pd.DataFrame, key_columns: list[str], register: Register
) -> tuple[pd.Series, pd.DataFrame]:
    """(True for a row with any person key outside the register; those rows counted per
    key column and person)."""
    mask = pd.Series(False, index=frame.index)
    parts = []
    for col in key_columns:
        if col not in frame.columns:
            continue
        outside = frame[col].notna().to_numpy() & ~register.known(frame[col])
        mask |= outside
        if not outside.any():
            continue
        parts.append(
            frame[outside]
            .groupby(["source_file", col], sort=True)
            .size()
            .rename("rows")
            .reset_index()
            .rename(columns={col: "person_key"})
            .assign(key_column=col)
        )
    if not parts:
        empty = {"source_file": "str", "person_key": "str", "rows": "int64", "key_column": "str"}
        return mask, pd.DataFrame({c: pd.Series(dtype=t) for c, t in empty.items()})
    return mask, pd.concat(parts, ignore_index=True)

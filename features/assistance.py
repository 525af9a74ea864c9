"""Assistance at T and before it, from the civil-affairs rosters and temporary aid known
before T. The roster of a month lists every household under assistance at its end, so a
household missing from the next delivered roster has left."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.catalogue import ASSISTANCE_CODES
from features.spine import Spine
from features.timeline import date_month_number, in_window, month_number, ts_month_number

# roster category -> assistance_state; the highest code wins when a household has several
STATE_OF_CATEGORY = {
    "dibao_edge": "edge",
    "rigid_expenditure": "rigid",
    "relapse_monitoring": "monitor",
    "dibao": "dibao",
    "tekun": "tekun",
}
STATE_CODE = {s: i for i, s in enumerate(ASSISTANCE_CODES)}
ASSISTED = ("dibao", "tekun")  # the states that take a household out of the cohort
HISTORY_MONTHS = 24  # the roster history the *_24m features count (their declared window)


@dataclass(frozen=True)
class AssistanceState:
    """Per household at T: state name, code, phase-out, admitted date, assessed income."""

    state: np.ndarray  # str names of ASSISTANCE_CODES
    code: np.ndarray
    in_phase_out: np.ndarray
    months_since_admitted: np.ndarray
    assessed_income: np.ndarray


def roster_codes(spine: Spine, roster: pd.DataFrame) -> pd.DataFrame:
    """Roster rows as (hh, month, code, phase_out, admitted, assessed), members mapped to
    their household at T; rows of people no longer registered are dropped."""
    hh = spine.household_of(roster)
    out = pd.DataFrame(
        {
            "hh": hh,
            "month": month_number(roster["known_month"]),
            "code": roster["category"]
            .map(STATE_OF_CATEGORY)
            .map(STATE_CODE)
            .fillna(0)
            .to_numpy(dtype="int64"),
            "phase_out": roster["state"].to_numpy() == "phase_out",
            "admitted": roster["admitted_date"].to_numpy(),
            "assessed": roster["income_per_capita"].to_numpy(dtype="float64"),
        }
    )
    return out[out["hh"].to_numpy() >= 0]


def state_at(spine: Spine, assistance_roster: pd.DataFrame) -> AssistanceState:
    """State from the latest roster delivered before T (the month before, or earlier when
    that month's roster is missing)."""
    n = spine.n
    code = np.zeros(n, "int64")
    phase = np.zeros(n, bool)
    since = np.full(n, np.nan)
    assessed = np.full(n, np.nan)
    known = assistance_roster
    if len(known):
        last = known["known_month"].max()
        rows = roster_codes(spine, known[known["known_month"].to_numpy() == last])
        # the household's top category row; its phase-out flag and admission date
        rows = rows.sort_values(["hh", "code", "admitted"], kind="stable").drop_duplicates("hh", keep="last")
        at = rows["hh"].to_numpy()
        code[at] = rows["code"].to_numpy()
        phase[at] = rows["phase_out"].to_numpy()
        since[at] = ts_month_number(spine.as_of) - date_month_number(rows["admitted"])
        assessed[at] = rows["assessed"].to_numpy()
    names = np.asarray(ASSISTANCE_CODES, dtype=object)[code]
    return AssistanceState(names, code, phase, since, assessed)


def history_features(
    spine: Spine, assistance_roster: pd.DataFrame, months: int = HISTORY_MONTHS
) -> pd.DataFrame:
    """Months in phase-out and on 低保/特困, exits (absent from the next delivered roster)
    in 12/24 months and months since the last exit; a month with no roster delivered is
    skipped, not taken for an exit."""
    n = spine.n
    t = ts_month_number(spine.as_of)
    known = assistance_roster
    rows = (
        roster_codes(spine, known)
        if len(known)
        else pd.DataFrame(columns=["hh", "month", "code", "phase_out"])
    )
    rows = rows[rows["month"].to_numpy() >= t - months]
    delivered = np.unique(rows["month"].to_numpy()).astype("int64")
    col = np.searchsorted(delivered, rows["month"].to_numpy())
    hh = rows["hh"].to_numpy(dtype="int64")
    on = np.zeros((n, len(delivered)), bool)
    on[hh, col] = True
    assisted = np.zeros_like(on)
    sel = rows["code"].to_numpy() >= STATE_CODE["dibao"]
    assisted[hh[sel], col[sel]] = True
    phase = np.zeros_like(on)
    sel = rows["phase_out"].to_numpy(dtype=bool)
    phase[hh[sel], col[sel]] = True
    exit_at = np.zeros_like(on)
    exit_at[:, 1:] = on[:, :-1] & ~on[:, 1:]
    exit_month = np.where(exit_at, delivered[None, :], -1) if len(delivered) else np.full((n, 0), -1)
    last_exit = exit_month.max(axis=1, initial=-1)
    entries = on.copy()  # a spell starts where a household appears (or is there at the start)
    entries[:, 1:] &= ~on[:, :-1]
    return pd.DataFrame(
        {
            "phase_out_months": phase.sum(axis=1).astype("int64"),
            "assisted_months_24m": assisted.sum(axis=1).astype("int64"),
            "assistance_spells_24m": entries.sum(axis=1).astype("int64"),
            "exits_12m": (exit_at & (delivered >= t - 12)[None, :]).sum(axis=1).astype("int64"),
            "exits_24m": exit_at.sum(axis=1).astype("int64"),
            "months_since_exit": np.where(last_exit >= 0, t - last_exit, np.nan),
        }
    )


def temporary_aid_features(spine: Spine, temporary_assistance: pd.DataFrame) -> pd.DataFrame:
    """Temporary aid paid to members in 12 months: payments, amount, 支出型 payments."""
    a = temporary_assistance
    if len(a):
        a = a[in_window(a, spine.as_of, 12)]
    hh = spine.household_of(a) if len(a) else np.empty(0, "int64")
    spending = a["aid_type"].to_numpy() == "expenditure" if len(a) else np.empty(0, bool)
    return pd.DataFrame(
        {
            "temporary_aid_12m": spine.total(hh).astype("int64"),
            "temporary_aid_amount_12m": spine.total(hh, a["amount"].to_numpy())
            if len(a)
            else np.zeros(spine.n),
            "expenditure_aid_12m": spine.total(hh[spending]).astype("int64"),
        }
    )

"""Household events from hukou changes known before T: deaths (and whether the person had
visible income), births, splits and moves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.income import WAGE_SCHEMES
from features.spine import Spine
from features.timeline import date_month_number, in_window

EARNER_LOOKBACK = 3  # months before a death in which wages or a pension make the person an earner


def had_income(
    persons: pd.Series, death_month: np.ndarray, contributions: pd.DataFrame, pensions: pd.DataFrame
) -> np.ndarray:
    """Whether each deceased person had a due wage contribution or a pension in the months
    up to their death (rows as passed: already known before T)."""
    paid = []
    dead = pd.Index(persons.unique())
    c = contributions[contributions["person_key"].isin(dead)] if len(contributions) else contributions
    pensions = pensions[pensions["person_key"].isin(dead)] if len(pensions) else pensions
    if len(c):
        c = c[c["scheme"].isin(WAGE_SCHEMES).to_numpy() & (c["payment_status"].to_numpy() == "due")]
        paid.append(
            pd.DataFrame({"person_key": c["person_key"].to_numpy(), "m": date_month_number(c["event_date"])})
        )
    if len(pensions):
        paid.append(
            pd.DataFrame(
                {
                    "person_key": pensions["person_key"].to_numpy(),
                    "m": date_month_number(pensions["event_date"]),
                }
            )
        )
    if not paid or len(persons) == 0:
        return np.zeros(len(persons), bool)
    income = pd.concat(paid, ignore_index=True)
    deaths = pd.DataFrame(
        {"person_key": persons.to_numpy(), "dm": death_month, "row": np.arange(len(persons))}
    )
    joined = deaths.merge(income, on="person_key", how="inner")
    hit = (joined["m"] <= joined["dm"]) & (joined["m"] >= joined["dm"] - EARNER_LOOKBACK)
    out = np.zeros(len(persons), bool)
    out[joined.loc[hit, "row"].to_numpy()] = True
    return out


def previous_household(hukou: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """The household each person of ``rows`` belonged to just before the row's event."""
    people = hukou[hukou["person_key"].isin(rows["person_key"])]
    merged = (
        rows[["person_key", "event_date"]]
        .reset_index(names="row")
        .merge(
            people[["person_key", "event_date", "household_key"]], on="person_key", suffixes=("", "_before")
        )
    )
    merged = merged[merged["event_date_before"] < merged["event_date"]]
    merged = merged.sort_values(["row", "event_date_before"], kind="stable").drop_duplicates(
        "row", keep="last"
    )
    return pd.Series(merged["household_key"].to_numpy(), index=merged["row"].to_numpy(), dtype="str")


def event_features(
    spine: Spine,
    hukou: pd.DataFrame,
    pension_contributions: pd.DataFrame,
    pension_payments: pd.DataFrame,
) -> pd.DataFrame:
    """Events in 6 and 12 months, counted on the household named in the change row (a
    deceased member is no longer in the spine's membership, the row still names the 户)."""
    known = hukou
    changes = known[known["change_type"].notna().to_numpy()] if len(known) else known
    zeros = np.zeros(spine.n, "int64")
    if changes.empty:
        return pd.DataFrame(
            {
                "deaths_12m": zeros,
                "earner_died_6m": zeros.astype(bool),
                "births_12m": zeros,
                "household_split_12m": zeros.astype(bool),
                "moved_in_12m": zeros,
                "moved_out_12m": zeros,
            }
        )
    ch = changes[in_window(changes, spine.as_of, 12)].reset_index(drop=True)
    kind = ch["change_type"].to_numpy()
    hh = spine.position_of(ch["household_key"])
    death = kind == "death"
    recent_death = death & in_window(ch, spine.as_of, 6)
    dead = ch[recent_death]
    earner = had_income(
        dead["person_key"],
        date_month_number(dead["event_date"]),
        pension_contributions,
        pension_payments,
    )
    split = ch[kind == "split"]
    split_hh = [spine.position_of(split["household_key"])]
    if len(split):
        before = previous_household(known, split)
        split_hh.append(spine.position_of(before))
    return pd.DataFrame(
        {
            "deaths_12m": spine.total(hh[death]).astype("int64"),
            "earner_died_6m": spine.any(hh[recent_death][earner]),
            "births_12m": spine.total(hh[kind == "birth"]).astype("int64"),
            "household_split_12m": spine.any(np.concatenate(split_hh)),
            "moved_in_12m": spine.total(hh[kind == "move_in"]).astype("int64"),
            "moved_out_12m": spine.total(hh[kind == "move_out"]).astype("int64"),
        }
    )

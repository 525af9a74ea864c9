"""What a listed household likely qualifies for and does not receive (应救尽救), for the worker
who visits it, and whether it was taken up after contact.

The entitlement check (scoring/entitlements.py, docs/entitlements.md) writes
``scores/as_of=…/entitlements.parquet`` (keys and codes only). The household page reads the
alert's household from it (one filtered scan), so the worker knows what to offer; it only
suggests, it never decides. Take-up is measured the way councils running such checks on their
benefit data do (the UK's Low Income Family Tracker: entitlements taken up after contact):

- **offered**: a visit's current record names the route of the programme (an outcome route);
- **taken up**: the route's referral is done, or — for what civil affairs grants itself (no
  referral) — a later entitlement check finds the household receiving the programme.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from lowinc.home import HomeLayout
from scoring.entitlements import COLUMNS, GEOGRAPHY

# entitlement programme -> the visit outcome route that offers it (configs/outreach.yaml routes)
ROUTE_OF_PROGRAMME = {
    "tekun": "tekun",
    "dibao": "dibao",
    "dibao_edge": "dibao_edge",
    "medical_assistance": "medical_aid",
    "disability_living": "disability_subsidies",
    "disability_care": "disability_subsidies",
    "temporary_aid": "temporary_aid",
}
PROGRAMME_ZH = {
    "tekun": "特困供养",
    "dibao": "低保",
    "dibao_edge": "低保边缘",
    "medical_assistance": "医疗救助",
    "disability_living": "困难残疾人生活补贴",
    "disability_care": "重度残疾人护理补贴",
    "temporary_aid": "临时救助",
}
# the check's columns except the division codes (the alert has them)
READ_COLUMNS = [c for c in COLUMNS if c not in GEOGRAPHY]


@dataclass(frozen=True)
class Entitlement:
    """A programme the household likely qualifies for now and does not receive."""

    programme: str
    name_zh: str
    route: str
    est_monthly_amount: float
    est_one_off_amount: float
    reason_zh: str


def read_entitlements(layout: HomeLayout, as_of: dt.date, household_keys: list[str]) -> pd.DataFrame:
    """The entitlement rows of these households at ``as_of`` (empty when no check was run)."""
    path = layout.entitlements_file(as_of)
    if not path.exists() or not household_keys:
        return pd.DataFrame(columns=READ_COLUMNS)
    table = ds.dataset(str(path), format="parquet").to_table(
        columns=READ_COLUMNS, filter=pc.field("household_key").isin(household_keys)
    )
    return table.to_pandas()


def open_entitlements(layout: HomeLayout, as_of: dt.date, household_key: str) -> tuple[Entitlement, ...]:
    """What the household likely qualifies for and does not receive, largest amount first."""
    rows = read_entitlements(layout, as_of, [household_key])
    gaps = rows[rows["likely_eligible"].astype(bool) & ~rows["receiving"].astype(bool)]
    gaps = gaps.assign(total=gaps["est_monthly_amount"].fillna(0) * 12 + gaps["est_one_off_amount"].fillna(0))
    ordered = gaps.sort_values(["total", "programme"], ascending=[False, True])
    return tuple(
        Entitlement(
            programme=str(r["programme"]),
            name_zh=PROGRAMME_ZH.get(str(r["programme"]), str(r["programme"])),
            route=ROUTE_OF_PROGRAMME.get(str(r["programme"]), ""),
            est_monthly_amount=_money(r["est_monthly_amount"]),
            est_one_off_amount=_money(r["est_one_off_amount"]),
            reason_zh="" if pd.isna(r["reason_zh"]) else str(r["reason_zh"]),
        )
        for r in ordered.to_dict("records")
    )


def _money(value: Any) -> float:
    """A yuan amount; 0 where the check gives none."""
    return 0.0 if value is None or pd.isna(value) else float(value)


def take_up(layout: HomeLayout, as_of: dt.date, visits: pd.DataFrame, later: dt.date | None) -> pd.DataFrame:
    """Per programme, of the households visited from the list of ``as_of``: likely eligible and
    not receiving (``gaps``), ``offered`` (the programme's route recorded at the visit) and
    ``taken_up`` (its referral done, or receiving in the check of ``later``).

    ``visits``: household_key, route (None when none), referral_status (None when no referral),
    one row per current record and route."""
    keys = sorted(set(visits["household_key"]))
    rows = read_entitlements(layout, as_of, keys)
    gaps = rows[rows["likely_eligible"].astype(bool) & ~rows["receiving"].astype(bool)][
        ["household_key", "programme"]
    ].copy()
    if gaps.empty:
        return pd.DataFrame(columns=["programme", "gaps", "offered", "taken_up"])
    gaps["route"] = gaps["programme"].map(ROUTE_OF_PROGRAMME)
    routed = visits.dropna(subset=["route"])
    gaps = gaps.merge(
        routed[["household_key", "route", "referral_status"]].drop_duplicates(["household_key", "route"]),
        on=["household_key", "route"],
        how="left",
        indicator=True,
    )
    gaps["offered"] = gaps["_merge"] == "both"
    gaps["taken_up"] = gaps["offered"] & (gaps["referral_status"] == "done")
    if later is not None:
        now = read_entitlements(layout, later, keys)
        receiving = now[now["receiving"].astype(bool)][["household_key", "programme"]].assign(
            receiving_now=True
        )
        gaps = gaps.merge(receiving, on=["household_key", "programme"], how="left")
        gaps["taken_up"] |= gaps["offered"] & gaps["receiving_now"].fillna(False).astype(bool)
    table = gaps.groupby("programme").agg(
        gaps=("household_key", "size"), offered=("offered", "sum"), taken_up=("taken_up", "sum")
    )
    return table.astype("int64").reset_index()

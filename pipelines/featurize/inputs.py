"""Read the canonical rows a snapshot at T needs, and no more.

The feature code filters to rows known before T itself; reading here is only narrowed
(months, columns, and for the large monthly contribution and pension tables, the rows a
feature can use), so a full read gives the same snapshot. That equivalence is tested.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.income import STALE_MONTHS
from features.snapshot import Canonical
from features.timeline import add_months, month_label
from ingest.store import PART, months_of

COLUMNS: dict[str, list[str]] = {
    "households": ["person_key", "household_key", "division_code", "relation"],
    "hukou_base": ["event_date", "person_key", "household_key", "birth_date"],
    "hukou_changes": ["event_date", "person_key", "household_key", "birth_date", "change_type"],
    "pension_contributions": ["event_date", "person_key", "scheme", "contribution_base", "payment_status"],
    "pension_payments": ["event_date", "person_key", "amount"],
    "employment_registrations": ["event_date", "person_key", "registration_type", "unemployment_benefit"],
    "assistance_roster": [
        "event_date",
        "case_key",
        "person_key",
        "category",
        "monthly_benefit",
        "income_per_capita",
        "admitted_date",
        "state",
    ],
    "temporary_assistance": ["event_date", "person_key", "amount", "aid_type"],
    "medical_settlements": [
        "event_date",
        "person_key",
        "visit_type",
        "critical_illness_paid",
        "assistance_paid",
        "copay",
        "self_pay",
    ],
    "disability_certificates": [
        "event_date",
        "person_key",
        "disability_grade",
        "change_type",
        "living_subsidy",
        "care_subsidy",
    ],
    "house_safety": ["event_date", "house_key", "person_key", "safety_grade", "renovation_status"],
    "property_registrations": ["event_date", "person_key", "direction", "reason"],
}


def read_table(
    canonical: Path, table: str, months: list[str], row_filter: pc.Expression | None = None
) -> pd.DataFrame:
    """Partitions of one table for the given known months, with ``known_month`` restored."""
    have = set(months_of(canonical, table))
    parts = []
    columns = COLUMNS[table]
    for month in sorted(set(months) & have):
        path = canonical / table / f"known_month={month}" / PART
        names = pq.read_schema(path).names
        data = pq.read_table(path, columns=[c for c in columns if c in names], filters=row_filter)
        for c in columns:  # a column no row ever filled may be absent from an old partition
            if c not in data.column_names:
                data = data.append_column(c, pa.nulls(len(data)))
        frame = data.to_pandas()
        frame.insert(0, "known_month", month)
        parts.append(frame)
    if not parts:
        return pd.DataFrame({"known_month": pd.Series(dtype="str")} | {c: pd.Series() for c in columns})
    return pd.concat(parts, ignore_index=True)


def months_between(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    return [month_label(m) for m in pd.date_range(first, last, freq="MS")]


LABEL_TABLES = ("assistance_roster", "temporary_assistance")


def delivered_through(canonical: Path) -> str | None:
    """The last month both label sources (the roster and temporary aid) were delivered:
    labels of a horizon ending later are not complete yet."""
    last = [m[-1] if (m := months_of(canonical, t)) else None for t in LABEL_TABLES]
    return None if None in last else min(m for m in last if m)


def latest_delivered(canonical: Path, table: str, month: str) -> str | None:
    """The latest month at or before ``month`` the table was delivered, if not stale."""
    have = [m for m in months_of(canonical, table) if m <= month]
    if not have:
        return None
    floor = month_label(add_months(pd.Timestamp(f"{month}-01"), -STALE_MONTHS))
    return have[-1] if have[-1] >= floor else None


def income_months(canonical: Path, table: str, as_of: pd.Timestamp) -> list[str]:
    """The months of ``table`` whose rows income reads whole: for the latest contribution
    month before T and the months 3 and 12 before it, the table's latest delivery at or
    before each (as features.income picks them)."""
    latest = latest_delivered(canonical, "pension_contributions", month_label(add_months(as_of, -1)))
    base = pd.Timestamp(f"{latest}-01") if latest else add_months(as_of, -1)
    targets = [month_label(add_months(base, -k)) for k in (0, 3, 12)]
    return sorted({m for t in targets if (m := latest_delivered(canonical, table, t))})


def load_canonical(canonical: Path, as_of: pd.Timestamp, horizon: int, history_months: int) -> Canonical:
    """Everything a snapshot at T reads: rows known before T for features, and the
    deliveries of months T .. T+H-1 of the roster and temporary aid for the labels."""
    before = month_label(add_months(as_of, -1))
    all_before = [m for m in _all_months(canonical) if m <= before]
    window = months_between(add_months(as_of, -13), add_months(as_of, -1))
    after = months_between(as_of, add_months(as_of, horizon - 1))
    history = months_between(add_months(as_of, -history_months - 1), add_months(as_of, -1))
    membership = [m for m in months_of(canonical, "households") if m <= before][-1:]
    base = read_table(canonical, "hukou_base", all_before)
    changes = read_table(canonical, "hukou_changes", all_before)
    hukou = pd.concat([base.assign(change_type=pd.NA), changes], ignore_index=True) if len(base) else changes
    recent = changes["event_date"] >= add_months(as_of, -6)
    deceased = changes.loc[(changes["change_type"] == "death") & recent, "person_key"].unique().tolist()
    return Canonical(
        households=read_table(canonical, "households", membership),
        hukou=hukou,
        contributions=_monthly(canonical, "pension_contributions", as_of, window, deceased, gaps=True),
        pensions=_monthly(canonical, "pension_payments", as_of, window, deceased, gaps=False),
        registrations=read_table(canonical, "employment_registrations", all_before),
        roster=read_table(canonical, "assistance_roster", history + after),
        temporary_aid=read_table(canonical, "temporary_assistance", window + after),
        settlements=read_table(canonical, "medical_settlements", window),
        certificates=read_table(canonical, "disability_certificates", all_before),
        appraisals=read_table(canonical, "house_safety", all_before),
        properties=read_table(canonical, "property_registrations", window),
        delivered_through=delivered_through(canonical),
    )


def _all_months(canonical: Path) -> list[str]:
    return sorted({m for t in COLUMNS for m in months_of(canonical, t)})


def _monthly(
    canonical: Path, table: str, as_of: pd.Timestamp, window: list[str], deceased: list[str], gaps: bool
) -> pd.DataFrame:
    """A large monthly table: whole months where income is measured; elsewhere in the
    window only interrupted contributions and the rows of members who died recently."""
    full = income_months(canonical, table, as_of)
    rest = [m for m in window if m not in full]
    wanted = pc.field("person_key").isin(pa.array(deceased, pa.string()))
    if gaps:
        wanted = wanted | (pc.field("payment_status") != "due")
    parts = [read_table(canonical, table, full), read_table(canonical, table, rest, wanted)]
    return (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    )

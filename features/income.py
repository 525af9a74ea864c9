"""Income as the departments see it: wages (contribution bases), pensions, unemployment
benefit and assistance, per household and per head, against the local policy lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.spine import Spine
from features.timeline import date_month_number, in_window, month_number, ts_month_number

WAGE_SCHEMES = ("enterprise", "public_sector")  # a resident-scheme base is not a wage
STALE_MONTHS = 2  # a source's latest month may lag this much behind and still count


@dataclass(frozen=True)
class IncomeSources:
    """The canonical rows income reads (features.catalogue.INCOME_TABLES), known before T."""

    pension_contributions: pd.DataFrame
    pension_payments: pd.DataFrame
    employment_registrations: pd.DataFrame
    assistance_roster: pd.DataFrame


def latest_rows(frame: pd.DataFrame, month: int, by: str = "event") -> pd.DataFrame:
    """Rows of the latest month at or before ``month`` that the source delivered (by event
    month or known month), if it is at most STALE_MONTHS old; else no rows."""
    if frame.empty:
        return frame
    months = date_month_number(frame["event_date"]) if by == "event" else month_number(frame["known_month"])
    eligible = months[months <= month]
    if len(eligible) == 0 or eligible.max() < month - STALE_MONTHS:
        return frame.iloc[:0]
    latest: pd.DataFrame = frame[months == eligible.max()]
    return latest


def covered(frame: pd.DataFrame, month: int) -> bool:
    """Whether the source delivered anything for a month within STALE_MONTHS before ``month``."""
    if frame.empty:
        return False
    months = date_month_number(frame["event_date"])
    return bool(((months <= month) & (months >= month - STALE_MONTHS)).any())


def latest_income_month(src: IncomeSources, as_of: pd.Timestamp) -> int:
    """The month whose income the snapshot reports: the latest contribution month known."""
    last = ts_month_number(as_of) - 1
    c = src.pension_contributions
    if c.empty:
        return last
    return int(min(date_month_number(c["event_date"]).max(), last))


def unemployed_at(employment_registrations: pd.DataFrame, month: int) -> pd.DataFrame:
    """Each person's latest registration by the end of ``month`` where it is 'unemployed'."""
    r = employment_registrations
    if r.empty:
        return r
    r = r[date_month_number(r["event_date"]) <= month]
    r = r.sort_values(["event_date", "known_month"], kind="stable").drop_duplicates("person_key", keep="last")
    unemployed: pd.DataFrame = r[r["registration_type"].to_numpy() == "unemployed"]
    return unemployed


def assistance_benefit(spine: Spine, roster: pd.DataFrame) -> np.ndarray:
    """Monthly benefit per household from one roster (the benefit is per case, on every row)."""
    if roster.empty:
        return np.zeros(spine.n)
    hh = spine.household_of(roster)
    cases = pd.DataFrame({"hh": hh, "case": roster["case_key"].to_numpy(), "b": roster["monthly_benefit"]})
    cases = cases[cases["hh"] >= 0].drop_duplicates(["hh", "case"])
    return spine.total(cases["hh"].to_numpy(), cases["b"].to_numpy())


def income_components(spine: Spine, src: IncomeSources, month: int) -> dict[str, np.ndarray]:
    """Wages, pensions, unemployment benefit, assistance and earners of each household for
    one month (its members at T)."""
    c = latest_rows(src.pension_contributions, month)
    wage_rows = c[c["scheme"].isin(WAGE_SCHEMES).to_numpy() & (c["payment_status"].to_numpy() == "due")]
    wage_rows = wage_rows[wage_rows["contribution_base"].to_numpy() > 0]
    hh_w = spine.household_of(wage_rows)
    p = latest_rows(src.pension_payments, month)
    u = unemployed_at(src.employment_registrations, month)
    r = latest_rows(src.assistance_roster, month, by="known")
    return {
        "wage_income": spine.total(hh_w, wage_rows["contribution_base"].to_numpy()),
        "earners": spine.members_among(wage_rows),
        "pension_income": spine.total(spine.household_of(p), p["amount"].to_numpy()),
        "unemployment_benefit_income": spine.total(
            spine.household_of(u), u["unemployment_benefit"].fillna(0.0).to_numpy()
        ),
        "unemployed_members": spine.members_among(u),
        "assistance_income": assistance_benefit(spine, r),
    }


def visible_total(parts: dict[str, np.ndarray]) -> np.ndarray:
    total: np.ndarray = (
        parts["wage_income"]
        + parts["pension_income"]
        + parts["unemployment_benefit_income"]
        + parts["assistance_income"]
    )
    return total


def relative_change(now: np.ndarray, then: np.ndarray) -> np.ndarray:
    """now / then - 1; NaN where there was no income then."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(then > 0, now / np.where(then > 0, then, 1.0) - 1.0, np.nan)


def income_features(
    spine: Spine,
    src: IncomeSources,
    dibao_monthly: np.ndarray,
    edge_monthly: np.ndarray,
    members: np.ndarray,
) -> pd.DataFrame:
    """Visible income now, per head, against the 低保 and 低保边缘 lines (per head a month,
    of each household's county), and its change."""
    m0 = latest_income_month(src, spine.as_of)
    parts = income_components(spine, src, m0)
    total = visible_total(parts)
    heads = np.maximum(members, 1)
    per_capita = total / heads
    out = {k: parts[k] for k in ("earners", "wage_income", "pension_income")}
    out |= {k: parts[k] for k in ("unemployment_benefit_income", "assistance_income")}
    out["visible_income"] = total
    out["visible_income_per_capita"] = per_capita
    out["income_ratio_to_dibao"] = per_capita / dibao_monthly
    out["income_ratio_to_edge"] = per_capita / edge_monthly
    out["below_edge_line"] = out["income_ratio_to_edge"] < 1.0
    for months in (3, 12):
        past = m0 - months
        if covered(src.pension_contributions, past):
            then = visible_total(income_components(spine, src, past)) / heads
            out[f"income_change_{months}m"] = relative_change(per_capita, then)
        else:
            out[f"income_change_{months}m"] = np.full(spine.n, np.nan)
    out |= contribution_features(spine, src.pension_contributions, m0)
    out["unemployed_members"] = parts["unemployed_members"]
    out["newly_unemployed_3m"] = newly_unemployed(spine, src.employment_registrations, 3)
    frame = pd.DataFrame(out)
    for name in ("earners", "unemployed_members", "newly_unemployed_3m"):
        frame[name] = frame[name].astype("int64")
    return frame


def contribution_features(
    spine: Spine, pension_contributions: pd.DataFrame, latest: int
) -> dict[str, np.ndarray]:
    """Member-months of interrupted contributions in 12 months; members interrupted now."""
    c = pension_contributions
    if c.empty:
        return {
            "contribution_gap_months_12m": np.zeros(spine.n, "int64"),
            "contribution_interrupted": np.zeros(spine.n, "int64"),
        }
    gap = c[(c["payment_status"].to_numpy() == "interrupted") & in_window(c, spine.as_of, 12)]
    gap = gap.drop_duplicates(["person_key", "event_date"])
    now = latest_rows(c, latest)
    now = now[now["payment_status"].to_numpy() == "interrupted"]
    return {
        "contribution_gap_months_12m": spine.total(spine.household_of(gap)).astype("int64"),
        "contribution_interrupted": spine.members_among(now),
    }


def newly_unemployed(spine: Spine, employment_registrations: pd.DataFrame, months: int) -> np.ndarray:
    """Members with an unemployment registration dated in the last ``months`` months."""
    r = employment_registrations
    if r.empty:
        return np.zeros(spine.n, "int64")
    r = r[(r["registration_type"].to_numpy() == "unemployed") & in_window(r, spine.as_of, months)]
    return spine.members_among(r)

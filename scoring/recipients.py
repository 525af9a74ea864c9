"""Re-verification of current recipients (定期核查, 渐退; shared/domain.md), a ranking of its own.

Two lists per township, each within ``recipients.town_capacity`` a month:

- **核查 (reverify)**: 低保, 特困 and 低保边缘 households not in phase-out whose delivered data
  say they may no longer qualify — visible income per head above the line by a margin, a sharp
  rise in it (new contributions at higher wages), property acquired. Vehicle registrations are
  not among the extracts departments deliver (shared/contract), so they are not used. The list
  asks for a check at home: a score never removes anyone.
- **渐退 (phase_out)**: households in the phase-out period (a year in Zhejiang) at risk of falling
  back, listed before it ends: when at most ``phase_out_lead_months`` are left, or earlier when
  their risk (the champion's calibrated risk, given by the caller) is in the top
  ``phase_out_risk_share`` of the phase-out households.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig
from scoring.lists import due_dates

REVERIFY = "reverify"
PHASE_OUT = "phase_out"
RECIPIENT_STATES = ("dibao", "tekun", "edge")
COLUMNS = [
    "household_key",
    "as_of",
    "county_code",
    "town_code",
    "village_code",
    "assistance_state",
    "kind",
    "score",
    "rank_in_town",
    "reasons_zh",
    "reasons_en",
    "due_date",
]


def _num(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


def reverify_candidates(recipients: pd.DataFrame, cfg: ScoringConfig) -> pd.DataFrame:
    """Recipients not in phase-out whose data say they may no longer qualify, with a score (the
    number of signals, then how far above the line) and the signals behind it."""
    rc = cfg.recipients
    r = recipients[~recipients["in_phase_out"].to_numpy(bool)]
    state = r["assistance_state"].to_numpy()
    ratio = _num(r, "income_ratio_to_dibao")
    shown = np.where(state == "edge", _num(r, "income_ratio_to_edge"), ratio)
    rise, acquired = _num(r, "income_change_3m"), np.nan_to_num(_num(r, "property_acquired_12m"))
    above = shown >= np.where(state == "edge", rc.income_above_edge_line, rc.income_above_line)
    rose = (rise >= rc.income_rise_3m) & (ratio >= 1.0)
    bought = acquired > 0
    signals = above.astype(int) + rose + bought
    out = r.assign(
        kind=REVERIFY,
        score=signals + np.clip(np.nan_to_num(ratio), 0, 10) / 100,
        _above=above,
        _rose=rose,
        _bought=bought,
        _shown=shown,
    )
    picked: pd.DataFrame = out[signals > 0]
    return picked


def phase_out_candidates(recipients: pd.DataFrame, risk: np.ndarray, cfg: ScoringConfig) -> pd.DataFrame:
    """Households in phase-out, listed when it ends soon or their risk is among the highest."""
    rc = cfg.recipients
    in_phase = recipients["in_phase_out"].to_numpy(bool)
    risk = np.asarray(risk, dtype="float64")[in_phase]
    r = recipients[in_phase]
    left = np.clip(rc.phase_out_months - np.nan_to_num(_num(r, "phase_out_months")), 0, None)
    cut = np.quantile(risk, 1 - rc.phase_out_risk_share) if len(risk) else np.inf
    keep = (left <= rc.phase_out_lead_months) | (risk >= cut)
    picked: pd.DataFrame = r.assign(kind=PHASE_OUT, score=risk, months_left=left)[keep]
    return picked


def _reason(row: pd.Series) -> tuple[str, str]:
    """The Chinese and English reasons of one listed row (the lists are small: per township)."""
    zh, en = [], []
    ratio = row.get("income_ratio_to_dibao", np.nan)
    if row["kind"] == PHASE_OUT:
        zh.append(f"渐退期约剩 {row['months_left']:.0f} 个月")
        en.append(f"about {row['months_left']:.0f} months of phase-out left")
        if np.isfinite(ratio):
            zh.append(f"人均可见收入为低保标准的 {ratio:.1f} 倍")
            en.append(f"visible income {ratio:.1f} x the dibao line")
        return "；".join(zh), "; ".join(en)
    edge = row["assistance_state"] == "edge"
    if row["_above"]:
        line, line_en = ("低保边缘线", "the edge line") if edge else ("低保标准", "the dibao line")
        per_head = row.get("visible_income_per_capita", np.nan)
        zh.append(f"人均可见收入 {per_head:,.0f} 元/月，为{line}的 {row['_shown']:.1f} 倍")
        en.append(f"visible income {per_head:,.0f} yuan a head a month, {row['_shown']:.1f} x {line_en}")
    if row["_rose"]:
        zh.append(f"近3个月人均可见收入上升 {row['income_change_3m']:.0%}")
        en.append(f"visible income up {row['income_change_3m']:.0%} in 3 months")
    if row["_bought"]:
        zh.append(f"近12个月取得房产 {row['property_acquired_12m']:.0f} 处")
        en.append(f"{row['property_acquired_12m']:.0f} properties acquired in 12 months")
    return "；".join(zh), "; ".join(en)


def recipient_checks(snapshot: pd.DataFrame, risk: np.ndarray, cfg: ScoringConfig) -> pd.DataFrame:
    """Both lists for one as-of date, ranked in each township by score and cut to capacity.

    ``risk``: the calibrated risk of every snapshot row (only the phase-out rows' is used)."""
    if snapshot.empty:
        return pd.DataFrame(columns=COLUMNS)
    as_of = pd.Timestamp(snapshot["as_of"].iloc[0])
    is_recipient = snapshot["assistance_state"].isin(RECIPIENT_STATES).to_numpy()
    recipients = snapshot[is_recipient]
    lists = pd.concat(
        [
            reverify_candidates(recipients, cfg),
            phase_out_candidates(recipients, np.asarray(risk)[is_recipient], cfg),
        ],
        ignore_index=True,
    )
    if lists.empty:
        return pd.DataFrame(columns=COLUMNS)
    lists = lists.sort_values(
        ["kind", "town_code", "score", "household_key"], ascending=[True, True, False, True]
    )
    lists["rank_in_town"] = lists.groupby(["kind", "town_code"]).cumcount() + 1
    lists = lists[lists["rank_in_town"] <= cfg.recipients.town_capacity].reset_index(drop=True)
    texts = [_reason(row) for _, row in lists.iterrows()]
    lists["reasons_zh"] = [t[0] for t in texts]
    lists["reasons_en"] = [t[1] for t in texts]
    check = cfg.model_copy(update={"due_working_days": {"check": cfg.recipients.due_working_days}})
    due = due_dates(as_of, pd.Series("check", index=lists.index), check)
    # a phase-out household is seen before its phase-out ends (months of 30 days)
    left = lists["months_left"] if "months_left" in lists else pd.Series(np.nan, index=lists.index)
    ends = (as_of + pd.to_timedelta(left.fillna(36).clip(upper=36) * 30, unit="D")).dt.floor("D")
    lists["due_date"] = due.where(due <= ends, ends).astype("datetime64[s]")
    return lists[COLUMNS]

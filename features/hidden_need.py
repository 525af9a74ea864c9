"""Signals of hidden need: households in hardship that the departments' own rows point at
but that have not applied (issue 16, 主动发现).

The observable label teaches a model who applies; these features name the situations in
which a family is likely to be in hardship whether or not it ever applied, from what the
departments deliver (shared/contract/department-extracts.md):

- visible per-capita income below the 低保 line with nothing on record: no roster of any
  category (低保, 特困, 低保边缘, 刚性支出, 防止返贫监测) and no temporary aid or medical
  assistance within 12 months. No department delivers applications or rejections, so an
  accepted case (a roster row, a payment) is the only trace of an application there is;
- elderly living alone (every member 60+) with chronic illness: a 门诊慢特病 settlement, or
  repeated claims (REPEATED_CLAIMS settlements in 12 months);
- severe disability (grade 1-2) without a subsidy the member is likely entitled to: the 重度
  残疾人护理补贴 (every grade 1-2 holder), or the 困难残疾人生活补贴 while the household's
  visible income is below the 低保边缘 line (the certificate rows carry both flags);
- rigid spending against the 低保边缘 line (shared/domain.md "a common test"): visible income
  minus 12 months of out-of-pocket medical cost, per head, against 1.5 x the standard. No
  department delivers education or rehabilitation costs, so only medical spending counts;
- 单人户 cases: a seriously ill member (critical-illness insurance paid, or SERIOUS_STAYS
  hospital stays, within 12 months) or a severely disabled one, in a household below the
  低保边缘 line that is not in 低保/特困.

Pure: the snapshot builder passes the rows known before T (with person codes) and the
features already built from them, so the point-in-time rule holds here as everywhere.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from features.assistance import ASSISTED, STATE_CODE
from features.config import FeaturesConfig
from features.disability import certificate_history
from features.spine import Spine
from features.timeline import in_window, month_number, ts_month_number

REPEATED_CLAIMS = 3  # settlements in 12 months that count as repeated care without a chronic one
SERIOUS_STAYS = 2  # hospital stays of one person in 12 months that count as a serious illness
NO_RECORD_MONTHS = 12  # the months with no assistance on record
ASSISTED_CODES = tuple(STATE_CODE[s] for s in ASSISTED)  # 低保 and 特困: out of the cohort


class HiddenNeedTables(Protocol):
    """The canonical rows the signals read beyond the built features (features.snapshot.Canonical)."""

    @property
    def medical_settlements(self) -> pd.DataFrame: ...

    @property
    def disability_certificates(self) -> pd.DataFrame: ...

    @property
    def assistance_roster(self) -> pd.DataFrame: ...


def on_roster_within(spine: Spine, roster: pd.DataFrame, months: int) -> np.ndarray:
    """Households with a member on a roster of any category delivered in the ``months`` before T."""
    if roster.empty:
        return np.zeros(spine.n, bool)
    recent = roster[month_number(roster["known_month"]) >= ts_month_number(spine.as_of) - months]
    return spine.any(spine.household_of(recent))


def members_where(spine: Spine, persons: np.ndarray) -> np.ndarray:
    """Members per household among the member positions ``persons`` (repeats count once)."""
    found = np.unique(persons[persons >= 0])
    return np.bincount(spine.members["hh"].to_numpy()[found], minlength=spine.n).astype("int64")


def medical_persons(spine: Spine, settlements: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(settlements per household, member positions of the seriously ill) within 12 months."""
    s = settlements
    if s.empty:
        return np.zeros(spine.n, "int64"), np.empty(0, "int64")
    s = s[in_window(s, spine.as_of, 12)]
    pos = spine.person_codes(s)
    claims = spine.total(spine.household_of(s)).astype("int64")
    stays = np.bincount(
        pos[(pos >= 0) & (s["visit_type"].to_numpy() == "inpatient")], minlength=len(spine.members)
    )
    critical = pos[(pos >= 0) & (s["critical_illness_paid"].to_numpy(dtype="float64") > 0)]
    serious = np.union1d(critical, np.flatnonzero(stays >= SERIOUS_STAYS))
    return claims, serious.astype("int64")


def severe_holders(spine: Spine, certificates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Member positions of valid grade 1-2 holders at T, with their care and living subsidy flags."""
    empty = np.empty(0, "int64")
    if certificates.empty:
        return empty, empty.astype(bool), empty.astype(bool)
    h = certificate_history(certificates)
    h = h[h["event_date"].to_numpy() < np.datetime64(spine.as_of)]
    now = h.drop_duplicates("person_key", keep="last")
    severe = now["valid"].to_numpy() & np.isin(now["grade"].to_numpy(), (1.0, 2.0))
    pos = spine.person_codes(now)
    keep = severe & (pos >= 0)
    care = now["care_subsidy"].to_numpy() == "Y"
    living = now["living_subsidy"].to_numpy() == "Y"
    return pos[keep], care[keep], living[keep]


def hidden_need_features(
    spine: Spine,
    built: pd.DataFrame,
    known: HiddenNeedTables,
    assistance_code: np.ndarray,
    edge_monthly: np.ndarray,
    config: FeaturesConfig,
) -> pd.DataFrame:
    """The hidden-need signals of each household at T.

    ``built``: the features already computed for the spine (composition, income, medical and
    temporary aid), aligned with it; ``known``: rows delivered before T with person codes;
    ``assistance_code``: the category code on the latest roster (features.assistance.state_at);
    ``edge_monthly``: the 低保边缘 line (per head a month) of each household's county and year."""
    heads = np.maximum(built["members"].to_numpy(), 1)
    edge_line = edge_monthly
    ratio_dibao = built["income_ratio_to_dibao"].to_numpy()
    below_edge = built["income_ratio_to_edge"].to_numpy() < 1.0
    in_dibao = np.isin(assistance_code, ASSISTED_CODES)

    nothing_on_record = (
        ~on_roster_within(spine, known.assistance_roster, NO_RECORD_MONTHS)
        & (built["temporary_aid_12m"].to_numpy() == 0)
        & (built["medical_assistance_paid_12m"].to_numpy() == 0)
    )
    unassisted_below = nothing_on_record & (ratio_dibao < 1.0)

    claims, serious = medical_persons(spine, known.medical_settlements)
    chronic = (built["chronic_ill_members"].to_numpy() > 0) | (claims >= REPEATED_CLAIMS)

    severe, care, living = severe_holders(spine, known.disability_certificates)
    severe_hh = spine.members["hh"].to_numpy()[severe] if len(severe) else severe
    missing_subsidy = ~care | (~living & below_edge[severe_hh])

    oop_monthly = built["oop_medical_12m"].to_numpy() / 12.0
    rigid_ratio = (built["visible_income"].to_numpy() - oop_monthly) / heads / edge_line
    rigid_ratio = np.maximum(rigid_ratio, -config.ratio_cap)

    single_case = members_where(spine, np.union1d(serious, severe))
    return pd.DataFrame(
        {
            "unassisted_below_dibao": unassisted_below,
            "unassisted_dibao_shortfall": np.where(unassisted_below, 1.0 - ratio_dibao, 0.0),
            "elderly_alone_chronic": built["elderly_alone"].to_numpy(dtype=bool) & chronic,
            "severe_disability_no_subsidy": members_where(spine, severe[missing_subsidy]),
            "rigid_income_ratio_to_edge": rigid_ratio,
            "rigid_spending_below_edge": (rigid_ratio < 1.0) & ~below_edge & (oop_monthly > 0),
            "single_person_case_members": np.where(below_edge & ~in_dibao, single_case, 0).astype("int64"),
        }
    )

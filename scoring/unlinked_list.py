"""The second list (issue 16): people living in the area without local hukou, per township.

Each unlinked person at T comes with the signals and rule score of features/unlinked.py and the
village their own rows place them in (features/unlinked_place.py). Per township, the top
``unlinked.town_capacity`` people scoring at least ``unlinked.min_score`` are listed, by score,
then out-of-pocket cost, then key (the order of the signals' own ranking), each with the facts
behind their score in Chinese and English, and a due date ``unlinked.due_working_days`` working
days after T (as the recipients' checks count them). Someone no row places is not listed here:
the run counts them.

The list holds keys and division codes only; a worker sees a name through the protected
identity readers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.unlinked import UnlinkedRules
from scoring.config import ScoringConfig
from scoring.lists import due_dates

COLUMNS = [
    "person_key",
    "as_of",
    "county_code",
    "town_code",
    "village_code",
    "sources",
    "score",
    "rank_in_town",
    "reasons_zh",
    "reasons_en",
    "due_date",
]
DTYPES = {
    "person_key": "str",
    "as_of": "datetime64[us]",
    "county_code": "str",
    "town_code": "str",
    "village_code": "str",
    "sources": "str",
    "score": "float64",
    "rank_in_town": "int64",
    "reasons_zh": "str",
    "reasons_en": "str",
    "due_date": "datetime64[s]",
}


def empty_list() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=DTYPES[c]) for c in COLUMNS})


def _texts(listed: pd.DataFrame, rules: UnlinkedRules) -> tuple[list[str], list[str]]:
    """The reasons of each listed person: the facts their points come from, medical first."""
    oop = listed["oop_medical_12m"].to_numpy(dtype="float64")
    income = listed["local_income"].to_numpy(dtype="float64")
    share = np.divide(oop, income, out=np.zeros_like(oop), where=income > 0)
    stays = listed["inpatient_stays_12m"].to_numpy()
    critical = listed["critical_illness_paid_12m"].to_numpy(dtype="float64")
    chronic = listed["chronic_outpatient_12m"].to_numpy()
    severe = listed["severe_disability"].to_numpy(bool)
    no_care = listed["disability_no_care_subsidy"].to_numpy(bool)
    new = listed["newly_unemployed_3m"].to_numpy(bool)
    jobless = listed["unemployed"].to_numpy(bool)
    interrupted = listed["contribution_interrupted"].to_numpy(bool)
    zh_out, en_out = [], []
    for i in range(len(listed)):  # the list is small: a few people per township
        zh, en = [], []
        if share[i] >= rules.catastrophic_share:
            zh.append(f"近12个月医疗自付 {oop[i]:,.0f} 元（当地人均可支配收入的 {share[i]:.0%}）")
            en.append(
                f"{oop[i]:,.0f} yuan medical cost out of pocket in 12 months "
                f"({share[i]:.0%} of local income per head)"
            )
        if stays[i] >= rules.serious_stays:
            zh.append(f"近12个月住院 {stays[i]} 次")
            en.append(f"{stays[i]} hospital stays in 12 months")
        if critical[i] > 0:
            zh.append(f"近12个月大病保险支付 {critical[i]:,.0f} 元")
            en.append(f"critical-illness insurance paid {critical[i]:,.0f} yuan in 12 months")
        if chronic[i] > 0:
            zh.append(f"近12个月门诊慢特病 {chronic[i]} 次")
            en.append(f"{chronic[i]} chronic-disease outpatient settlements in 12 months")
        if severe[i]:
            zh.append("重度残疾，未享受护理补贴" if no_care[i] else "重度残疾（一、二级）")
            en.append("severe disability, no care subsidy" if no_care[i] else "severe disability (grade 1-2)")
        if new[i]:
            zh.append("近3个月新登记失业")
            en.append("registered unemployed in the last 3 months")
        elif jobless[i]:
            zh.append("最近一次就业登记为失业")
            en.append("latest job registration: unemployed")
        if interrupted[i]:
            zh.append("社保缴费中断")
            en.append("pension contributions interrupted")
        zh_out.append("；".join(zh))
        en_out.append("; ".join(en))
    return zh_out, en_out


def unlinked_list(
    people: pd.DataFrame, cfg: ScoringConfig, rules: UnlinkedRules | None = None
) -> pd.DataFrame:
    """The list at T (COLUMNS), by township then rank in it.

    ``people``: the signals of features/unlinked.py (UNLINKED_COLUMNS) with each person's
    ``village_code``, ``town_code`` and ``county_code`` (None when unplaced) and
    ``local_income`` (last year's local per-capita disposable income of their county)."""
    rules = rules or UnlinkedRules()
    uc = cfg.unlinked
    keep = people["town_code"].notna().to_numpy() & (people["score"].to_numpy() >= uc.min_score)
    listed = people[keep]
    if listed.empty:
        return empty_list()
    listed = listed.assign(_oop=-listed["oop_medical_12m"], _score=-listed["score"]).sort_values(
        ["town_code", "_score", "_oop", "person_key"], kind="stable"
    )
    listed["rank_in_town"] = listed.groupby("town_code").cumcount().to_numpy(dtype="int64") + 1
    listed = listed[listed["rank_in_town"].to_numpy() <= uc.town_capacity].reset_index(drop=True)
    if listed.empty:
        return empty_list()
    zh, en = _texts(listed, rules)
    as_of = pd.Timestamp(listed["as_of"].iloc[0])
    check = cfg.model_copy(update={"due_working_days": {"visit": uc.due_working_days}})
    out = listed.assign(
        reasons_zh=zh,
        reasons_en=en,
        due_date=due_dates(as_of, pd.Series("visit", index=listed.index), check),
    )
    return out[COLUMNS].astype(DTYPES)

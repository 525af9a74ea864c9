"""Entitlement check (应救尽救): from what departments deliver, the programmes a household
likely qualifies for now against what it receives, with an estimated amount.

The estimate only suggests what a worker offers at a visit. It never decides eligibility:
visible income misses informal work, farm income and family transfers, assets are not seen at
all, and each programme is decided by its own assessment (家庭经济状况核对, 入户调查). The rules
and every line are configuration (``entitlements:``, :class:`EntitlementConfig`), as multiples
of the local 低保 standard per county and year (``policy_lines:``), so a county with its own
line moves every rule with it.

Income here is the household's visible income without the assistance it already receives
(wages, pensions, unemployment benefit): a 低保 household's own benefit would otherwise lift
it over the line it is paid for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.policy import PolicyLinesConfig, county_cities, policy_lines
from scoring.entitlement_config import EntitlementConfig

# programme codes, in the order a worker reads them (basic living first)
PROGRAMMES = (
    "tekun",
    "dibao",
    "dibao_edge",
    "medical_assistance",
    "disability_living",
    "disability_care",
    "temporary_aid",
)
GEOGRAPHY = ("county_code", "town_code", "village_code")
COLUMNS = (
    "household_key",
    *GEOGRAPHY,
    "programme",
    "likely_eligible",
    "receiving",
    "est_monthly_amount",
    "est_one_off_amount",
    "reason_zh",
)
NEEDED = (
    "household_key",
    *GEOGRAPHY,
    "members",
    "head_age",
    "visible_income",
    "assistance_income",
    "assistance_state",
    "oop_medical_3m",
    "oop_medical_12m",
    "medical_assistance_paid_12m",
    "disabled_members",
    "severe_disability_members",
    "disability_subsidy_members",
    "expenditure_aid_12m",
)
STANDARD_COLUMNS = ("county_code", "city_name", "dibao_monthly", "local_income_annual", "edge_multiple")
GROUP_ZH = {"tekun": "特困", "dibao": "低保", "edge": "低保边缘", "rigid": "刚性支出困难"}


def county_standards(
    county_codes: pd.Series, divisions: pd.DataFrame, lines: PolicyLinesConfig, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The policy lines in force at ``as_of`` for each distinct county: its city, the monthly
    低保 standard, last year's local per-capita disposable income (yuan a year) and the
    低保边缘 multiple of the standard."""
    codes = pd.Series(pd.unique(county_codes.astype("str")), dtype="str")
    std, income, edge = policy_lines(codes, divisions, lines, as_of)
    cities = county_cities(divisions)
    return pd.DataFrame(
        {
            "county_code": codes,
            "city_name": codes.map(cities).astype("str"),
            "dibao_monthly": std,
            "local_income_annual": income,
            "edge_multiple": edge,
        }
    )


def yuan(values: np.ndarray | pd.Series) -> pd.Series:
    """Whole yuan with thousands separators, as the alerts' reasons print money."""
    return pd.Series(np.round(np.asarray(values, dtype="float64")), dtype="float64").map("{:,.0f}".format)


def _pick(condition: np.ndarray, yes: str, no: str) -> pd.Series:
    return pd.Series(np.where(condition, yes, no), dtype="str")


class _Household:
    """The snapshot's columns the rules read, as arrays, with the household's policy lines."""

    def __init__(self, snapshot: pd.DataFrame, standards: pd.DataFrame, cfg: EntitlementConfig) -> None:
        missing = [c for c in NEEDED if c not in snapshot.columns]
        if missing:
            raise ValueError(f"the snapshot lacks the columns the entitlement check reads: {missing}")
        lacking = [c for c in STANDARD_COLUMNS if c not in standards.columns]
        if lacking:
            raise ValueError(f"the policy lines lack the columns {lacking}")
        s = snapshot.reset_index(drop=True)
        lines = standards.drop_duplicates("county_code").set_index("county_code")
        county = s["county_code"].astype("str")
        unknown = sorted(set(county) - set(lines.index.astype("str")))
        if unknown:
            raise ValueError(f"no policy lines for counties {unknown}")
        self.s = s
        self.std = county.map(lines["dibao_monthly"]).to_numpy(dtype="float64")
        self.local_monthly = county.map(lines["local_income_annual"]).to_numpy(dtype="float64") / 12.0
        self.edge_multiple = county.map(lines["edge_multiple"]).to_numpy(dtype="float64")
        self.members = np.maximum(s["members"].to_numpy(dtype="float64"), 1.0)
        own = s["visible_income"].to_numpy(dtype="float64") - s["assistance_income"].to_numpy(dtype="float64")
        self.pc = np.maximum(own, 0.0) / self.members  # per head, without assistance received
        self.state = s["assistance_state"].astype("str").to_numpy()
        self.age = s["head_age"].to_numpy(dtype="float64")
        self.oop12 = s["oop_medical_12m"].to_numpy(dtype="float64")

    def col(self, name: str) -> np.ndarray:
        return self.s[name].to_numpy(dtype="float64")

    def on(self, state: str) -> np.ndarray:
        on: np.ndarray = self.state == state
        return on


def _rows(
    h: _Household,
    programme: str,
    eligible: np.ndarray,
    receiving: np.ndarray,
    monthly: np.ndarray,
    reason: pd.Series,
    one_off: np.ndarray | None = None,
) -> pd.DataFrame:
    """The rows of one programme: households likely eligible or receiving."""
    keep = np.flatnonzero(eligible | receiving)
    out = h.s.loc[keep, ["household_key", *GEOGRAPHY]].reset_index(drop=True)
    out["programme"] = programme
    out["likely_eligible"] = eligible[keep]
    out["receiving"] = receiving[keep]
    out["est_monthly_amount"] = np.round(np.where(eligible, monthly, 0.0)[keep], 0)
    extra = np.zeros(len(eligible)) if one_off is None else np.where(eligible, one_off, 0.0)
    out["est_one_off_amount"] = np.round(extra[keep], 0)
    out["reason_zh"] = reason.iloc[keep].reset_index(drop=True).astype("str")
    return out


def _income_text(h: _Household) -> pd.Series:
    return "人均可见收入 " + yuan(h.pc) + " 元/月（不含救助金）"


def _tekun(h: _Household, cfg: EntitlementConfig) -> tuple[pd.DataFrame, np.ndarray]:
    r = cfg.tekun
    severe = h.col("severe_disability_members") > 0
    old = h.age >= r.min_age
    child = h.age < r.max_child_age
    alone = h.members <= r.max_members
    poor = h.pc < r.income_multiple * h.std
    eligible = alone & (severe | old | child) & poor
    amount = r.support_multiple * h.std * h.members
    ages = pd.Series(np.where(np.isnan(h.age), 0.0, h.age)).map("{:.0f}".format)
    cause = pd.Series(np.where(severe, "重度残疾", np.where(child, "未成年", ages + " 岁")), dtype="str")
    size = pd.Series(np.where(alone, "单人户", pd.Series(h.members).map("{:.0f} 人户".format)), dtype="str")
    reason = (
        size
        + "，"
        + cause
        + "，"
        + _income_text(h)
        + _pick(poor, "，低于", "，不低于")
        + "低保标准 "
        + yuan(h.std * r.income_multiple)
        + " 元/月；基本生活标准约 "
        + yuan(amount)
        + f" 元/月（低保标准 × {r.support_multiple:g}）"
    )
    return _rows(h, "tekun", eligible, h.on("tekun"), amount, reason), eligible


def _dibao(h: _Household, cfg: EntitlementConfig, tekun: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    r = cfg.dibao
    line = r.income_multiple * h.std
    below = h.pc < line
    eligible = below & ~tekun & ~h.on("tekun")
    gap = np.maximum(line - h.pc, 0.0)
    amount = np.maximum(gap * h.members, r.min_benefit)
    members = pd.Series(h.members).map("{:.0f}".format)
    reason = (
        _income_text(h)
        + _pick(below, "，低于", "，不低于")
        + "当地低保标准 "
        + yuan(line)
        + " 元/月"
        + pd.Series(
            np.where(
                below,
                "；补差约 " + yuan(gap) + " 元 × " + members + " 人 = " + yuan(amount) + " 元/月",
                "（已在册，按可见收入不再低于标准，宜核查）",
            ),
            dtype="str",
        )
    )
    return _rows(h, "dibao", eligible, h.on("dibao"), amount, reason), eligible


def _edge(h: _Household, cfg: EntitlementConfig, basic: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    line = h.edge_multiple * h.std
    below = h.pc < line
    eligible = below & ~basic & ~h.on("dibao") & ~h.on("tekun")
    multiple = pd.Series(h.edge_multiple).map("{:g}".format)
    reason = (
        _income_text(h)
        + _pick(below, "，低于", "，不低于")
        + "低保边缘线 "
        + yuan(line)
        + " 元/月（低保标准 "
        + yuan(h.std)
        + " 元 × "
        + multiple
        + "）"
        + _pick(basic, "；按可见收入可能符合低保或特困", "；可享医疗、教育等专项救助")
    )
    no_cash = np.zeros(len(below))
    return _rows(h, "dibao_edge", eligible, h.on("edge"), no_cash, reason), eligible


def _rigid(h: _Household, cfg: EntitlementConfig) -> np.ndarray:
    """刚性支出困难 (domain.md): low income, and income minus a year's medical cost below the
    低保边缘 line."""
    low = h.pc < cfg.rigid.local_income_multiple * h.local_monthly
    after = h.pc - h.oop12 / 12.0 / h.members
    rigid: np.ndarray = low & (h.oop12 > 0) & (after < h.edge_multiple * h.std)
    return rigid


def _medical(h: _Household, cfg: EntitlementConfig, groups: dict[str, np.ndarray]) -> pd.DataFrame:
    """The most generous group that applies (the order of ``groups``) sets the deductible and share."""
    r = cfg.medical
    n = len(h.pc)
    group = np.full(n, "", dtype=object)
    for name, member in groups.items():
        if name in r.groups:
            group = np.where((group == "") & member, name, group)
    share_of = {g: c.threshold_share for g, c in r.groups.items()}
    reimburse_of = {g: c.reimburse_share for g, c in r.groups.items()}
    covered = group != ""
    g = pd.Series(group, dtype="object")
    threshold = g.map(share_of).fillna(0.0).to_numpy(dtype="float64") * h.local_monthly * 12.0
    reimburse = g.map(reimburse_of).fillna(0.0).to_numpy(dtype="float64")
    eligible = covered & (h.oop12 > threshold) & (h.oop12 > r.min_oop_12m) & (h.oop12 > 0)
    amount = reimburse * np.maximum(h.oop12 - threshold, 0.0) / 12.0
    paid = h.col("medical_assistance_paid_12m")
    reason = (
        "近12个月医疗自付 "
        + yuan(h.oop12)
        + " 元"
        + pd.Series(
            np.where(
                covered,
                "，"
                + g.map(GROUP_ZH).fillna("")
                + pd.Series(
                    np.where(threshold > 0, "起付线 " + yuan(threshold) + " 元", "无起付线"), dtype="str"
                ),
                "",
            ),
            dtype="str",
        )
        + pd.Series(
            np.where(
                eligible,
                "；按 " + pd.Series(reimburse).map("{:.0%}".format) + " 估算约 " + yuan(amount) + " 元/月",
                "",
            ),
            dtype="str",
        )
        + pd.Series(np.where(paid > 0, "；近12个月已获医疗救助 " + yuan(paid) + " 元", ""), dtype="str")
    )
    return _rows(h, "medical_assistance", eligible, paid > 0, amount, reason)


def _disability(h: _Household, cfg: EntitlementConfig, groups: dict[str, np.ndarray]) -> list[pd.DataFrame]:
    r = cfg.disability
    receiving = h.col("disability_subsidy_members") > 0  # the certificate flags either subsidy
    disabled = h.col("disabled_members")
    severe = h.col("severe_disability_members")
    in_group = np.zeros(len(h.pc), bool)
    for name in r.living_groups:
        in_group |= groups.get(name, np.zeros(len(h.pc), bool))
    living = in_group & (disabled > 0)
    living_amount = r.living_multiple * h.std * disabled
    living_reason = (
        pd.Series(disabled).map("{:.0f}".format)
        + " 名成员持残疾人证"
        + _pick(in_group, "，家庭属低保或低保边缘", "，家庭未见低保或低保边缘")
        + "；生活补贴约 "
        + yuan(r.living_multiple * h.std)
        + " 元/人/月"
    )
    care = severe > 0
    care_amount = r.care_multiple * h.std * severe
    care_reason = (
        pd.Series(severe).map("{:.0f}".format)
        + " 名成员为重度残疾（一、二级）；护理补贴约 "
        + yuan(r.care_multiple * h.std)
        + " 元/人/月"
    )
    return [
        _rows(h, "disability_living", living, receiving & (disabled > 0), living_amount, living_reason),
        _rows(h, "disability_care", care, receiving & care, care_amount, care_reason),
    ]


def _temporary_aid(h: _Household, cfg: EntitlementConfig) -> pd.DataFrame:
    r = cfg.temporary_aid
    bill = h.col("oop_medical_3m")
    household_line = h.std * h.members
    heavy = bill > r.bill_months * household_line
    excluded = np.isin(h.state, list(r.exclude_states))
    eligible = heavy & (h.pc < h.local_monthly) & ~excluded
    one_off = np.minimum(r.share * bill, r.cap_months * household_line)
    reason = (
        "近3个月医疗自付 "
        + yuan(bill)
        + " 元"
        + _pick(heavy, "，超过", "，未超过")
        + f"家庭 {r.bill_months:g} 个月低保线 "
        + yuan(r.bill_months * household_line)
        + " 元"
        + pd.Series(np.where(eligible, "；一次性救助约 " + yuan(one_off) + " 元", ""), dtype="str")
        + pd.Series(
            np.where(h.col("expenditure_aid_12m") > 0, "；近12个月已获支出型临时救助", ""), dtype="str"
        )
    )
    receiving = h.col("expenditure_aid_12m") > 0
    return _rows(h, "temporary_aid", eligible, receiving, np.zeros(len(bill)), reason, one_off=one_off)


def check_entitlements(
    snapshot: pd.DataFrame, standards: pd.DataFrame, cfg: EntitlementConfig
) -> pd.DataFrame:
    """One row per household and programme it likely qualifies for now or receives (``COLUMNS``):
    ``likely_eligible`` by the configured rule, ``receiving`` from what departments deliver (the
    assistance roster's state, medical assistance paid, the disability certificate's subsidy
    flags, 支出型 temporary aid), the estimated monthly amount (the one-off amount for
    temporary aid) where likely eligible, and a plain-Chinese reason with the numbers behind it.

    ``standards``: the policy lines per county (:func:`county_standards`). The estimate only
    suggests what to offer at a visit; it never decides eligibility.
    """
    h = _Household(snapshot, standards, cfg)
    tekun_rows, tekun = _tekun(h, cfg)
    dibao_rows, dibao = _dibao(h, cfg, tekun)
    edge_rows, edge = _edge(h, cfg, tekun | dibao)
    groups = {  # the assistance groups, on the roster or likely eligible, most generous first
        "tekun": tekun | h.on("tekun"),
        "dibao": dibao | h.on("dibao"),
        "edge": edge | h.on("edge"),
        "rigid": _rigid(h, cfg) | h.on("rigid"),
    }
    parts = [
        tekun_rows,
        dibao_rows,
        edge_rows,
        _medical(h, cfg, groups),
        *_disability(h, cfg, groups),
        _temporary_aid(h, cfg),
    ]
    out = pd.concat(parts, ignore_index=True)
    out["programme"] = pd.Categorical(out["programme"], categories=PROGRAMMES)
    out = out.sort_values(["county_code", "town_code", "household_key", "programme"], kind="stable")
    out["programme"] = out["programme"].astype("str")
    return out.reset_index(drop=True)[list(COLUMNS)]


def likely_eligible_not_receiving(entitlements: pd.DataFrame) -> pd.DataFrame:
    """The township's own list: per township and programme, how many households likely qualify
    and do not receive it, and their keys (keys only: names are added when a worker entitled
    to them prints the list)."""
    sel = entitlements[entitlements["likely_eligible"] & ~entitlements["receiving"]]
    grouped = sel.groupby(["county_code", "town_code", "programme"], sort=True)["household_key"]
    return grouped.agg(households="size", household_keys=list).reset_index()


def programme_counts(entitlements: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per programme (and ``by``, e.g. county_code): households likely eligible, receiving,
    likely eligible and not receiving, and the estimated amounts, for all likely eligible and
    for those not receiving (monthly; temporary aid's one-off)."""
    e = entitlements
    gap = e["likely_eligible"] & ~e["receiving"]
    frame = pd.DataFrame(
        {
            **{k: e[k] for k in by},
            "programme": pd.Categorical(e["programme"], categories=PROGRAMMES),
            "eligible": e["likely_eligible"].astype("int64"),
            "receiving": e["receiving"].astype("int64"),
            "eligible_not_receiving": gap.astype("int64"),
            "est_monthly_total": e["est_monthly_amount"],
            "est_monthly_not_receiving": e["est_monthly_amount"].where(gap, 0.0),
            "est_one_off_not_receiving": e["est_one_off_amount"].where(gap, 0.0),
        }
    )
    out = frame.groupby([*by, "programme"], observed=False, sort=True).sum().reset_index()
    out["programme"] = out["programme"].astype("str")
    return out

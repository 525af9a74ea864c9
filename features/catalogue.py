"""The feature catalogue: every household feature, declared once as a keyword record.

A feature's ``source`` (the canonical table it is computed from, ingest/tables.py) and
``window`` (how many months before T it looks back) drive the code: the reader reads each
table back as far as its features' longest window (:func:`lookback`), and a test builds
snapshots from every delivery and from that narrowed read and finds them equal. The
snapshot builder checks its output against this list, docs/features.md is generated from it
(features/catalogue_doc.py), and the reasons a social worker reads are its templates filled
with the household's own values (``reason_zh.format(**row)``).

Adding a feature from an existing source: its record here, its code in the feature module
of its group, its test (then regenerate docs/features.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingest.tables import BY_NAME as TABLES

Dtype = Literal["float", "int", "bool", "category"]
Direction = Literal["high", "low", "true"]
DERIVED = "derived"  # the source of a feature computed from other features
CASE_OPS = ("==", "!=", "<=", ">=", "<", ">")


@dataclass(frozen=True, kw_only=True)
class ReasonCase:
    """Another wording of a feature's reason for some values, so a worker never reads a capped
    ratio, "0.0 倍" or "仅 0 名": where every condition of ``when`` holds, ``zh``/``en`` (str.format
    templates like the feature's own) replace the reason. ``when``: ``field op number`` joined by
    `` and `` (ops ``== != < <= > >=``); a field may be another feature or ``typical_<name>``, the
    cohort's median (scoring.reasons); an unknown value never matches. The first case that holds
    wins, else the feature's reason."""

    when: str
    zh: str
    en: str

    @property
    def conditions(self) -> tuple[tuple[str, str, float], ...]:
        """(field, op, number) of each condition."""
        out = []
        for part in self.when.split(" and "):
            field, op, number = part.split()
            if op not in CASE_OPS:
                raise ValueError(f"reason case {self.when!r}: unknown operator {op!r}")
            out.append((field, op, float(number)))
        return tuple(out)


@dataclass(frozen=True, kw_only=True)
class Feature:
    """One feature: what it is, where it comes from and how a worker reads it."""

    name: str
    source: str  # a canonical table (ingest/tables.py), or DERIVED
    window: int | None  # months before the as-of date it looks back; None: the state at T
    dtype: Dtype
    meaning_zh: str
    meaning_en: str
    reason_zh: str  # str.format template over the household's feature values
    reason_en: str
    group: str  # related features that merge into one reason
    raises_risk_when: Direction
    missing: str = "0"  # what a household without data gets (NaN: unknown, LightGBM's missing)
    codes: tuple[str, ...] = ()  # for categoricals: the meaning of code 0, 1, 2 ...
    reads: tuple[str, ...] = ()  # a DERIVED feature: the tables it looks back into over its window
    reason_cases: tuple[ReasonCase, ...] = ()  # other wordings for some values (zero, capped, codes)

    @property
    def categorical(self) -> bool:
        """Integer-coded categories (LightGBM's categorical features)."""
        return self.dtype == "category"

    @property
    def tables(self) -> tuple[str, ...]:
        """The canonical tables the feature reads over its window."""
        return self.reads if self.source == DERIVED else (self.source,)


# the tables visible income is measured from (income_change_* compare it with earlier months)
INCOME_TABLES = ("pension_contributions", "pension_payments", "employment_registrations", "assistance_roster")

HOUSE_GRADES = ("none", "A", "B", "C", "D")  # house_grade codes; 0 = no appraisal known
ASSISTANCE_CODES = ("none", "edge", "rigid", "monitor", "dibao", "tekun")  # assistance_category codes
NAN = "NaN (unknown)"

FEATURES: tuple[Feature, ...] = (
    # --- composition (hukou membership at the end of the month before T) ---
    Feature(
        name="members",
        source="households",
        window=None,
        dtype="int",
        meaning_zh="户籍成员数",
        meaning_en="registered members",
        reason_zh="家庭户籍成员 {members} 人",
        reason_en="{members} registered members",
        group="composition",
        raises_risk_when="low",
    ),
    Feature(
        name="children",
        source="households",
        window=None,
        dtype="int",
        meaning_zh="未成年成员数（<18岁）",
        meaning_en="members under 18",
        reason_zh="家中有未成年人 {children} 名",
        reason_en="{children} children in the household",
        group="composition",
        raises_risk_when="high",
    ),
    Feature(
        name="elderly",
        source="households",
        window=None,
        dtype="int",
        meaning_zh="老年成员数（≥60岁）",
        meaning_en="members aged 60 or more",
        reason_zh="家中有60岁以上老人 {elderly} 名",
        reason_en="{elderly} members aged 60+",
        group="composition",
        raises_risk_when="high",
    ),
    Feature(
        name="working_age",
        source="households",
        window=None,
        dtype="int",
        meaning_zh="劳动年龄成员数（18-59岁）",
        meaning_en="members aged 18-59",
        reason_zh="劳动年龄成员仅 {working_age} 名",
        reason_en="only {working_age} working-age members",
        group="composition",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(when="working_age == 0", zh="家中无劳动年龄成员", en="no working-age member"),
        ),
    ),
    Feature(
        name="dependency_ratio",
        source="households",
        window=None,
        dtype="float",
        meaning_zh="抚养比：未成年与老年成员数 ÷ 劳动年龄成员数（无劳动年龄成员时按1计）",
        meaning_en="dependants per working-age member (divided by 1 when there is none)",
        reason_zh="抚养负担重：每名劳动年龄成员负担 {dependency_ratio:.1f} 人",
        reason_en="{dependency_ratio:.1f} dependants per working-age member",
        group="composition",
        raises_risk_when="high",
        reason_cases=(
            ReasonCase(
                when="working_age == 0",
                zh="家中无劳动年龄成员，有老人 {elderly} 名、未成年人 {children} 名",
                en="no working-age member; {elderly} elderly and {children} children",
            ),
        ),
    ),
    Feature(
        name="elderly_alone",
        source="households",
        window=None,
        dtype="bool",
        meaning_zh="独居或空巢老人户：全部成员均≥60岁",
        meaning_en="every member is 60 or older (elderly alone or couple)",
        reason_zh="老年人独居或空巢",
        reason_en="elderly living alone",
        group="composition",
        raises_risk_when="true",
    ),
    Feature(
        name="single_parent",
        source="households",
        window=None,
        dtype="bool",
        meaning_zh="单亲家庭：有未成年人且仅一名成年人",
        meaning_en="children and exactly one adult",
        reason_zh="单亲家庭，独自抚养 {children} 名子女",
        reason_en="single parent raising {children} children",
        group="composition",
        raises_risk_when="true",
    ),
    Feature(
        name="head_age",
        source="households",
        window=None,
        dtype="float",
        meaning_zh="户主年龄（岁）",
        meaning_en="age of the head of household",
        reason_zh="户主 {head_age:.0f} 岁",
        reason_en="head of household aged {head_age:.0f}",
        group="composition",
        raises_risk_when="high",
        missing=NAN + ": no head registered",
    ),
    # --- income as the departments see it (monthly yuan, latest month delivered before T) ---
    Feature(
        name="earners",
        source="pension_contributions",
        window=None,
        dtype="int",
        meaning_zh="有职工社保缴费（正常应缴）的成员数",
        meaning_en="members with a due employee pension contribution",
        reason_zh="有工资性收入的成员仅 {earners} 名",
        reason_en="only {earners} members with visible wages",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="earners == 0",
                zh="家中无人有工资性收入（无职工社保缴费）",
                en="no member with visible wages (no employee contributions)",
            ),
        ),
    ),
    Feature(
        name="wage_income",
        source="pension_contributions",
        window=None,
        dtype="float",
        meaning_zh="成员职工社保缴费基数之和（工资代理，元/月）",
        meaning_en="sum of members' contribution bases (wage proxy, yuan/month)",
        reason_zh="家庭可见工资收入偏低",
        reason_en="low visible wages",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="wage_income == 0",
                zh="家中无可见工资收入（无职工社保缴费）",
                en="no visible wages (no employee contributions)",
            ),
            ReasonCase(
                when="typical_wage_income > 0",
                zh="家庭可见工资收入 {wage_income:,.0f} 元/月，"
                "低于本地家庭中位数 {typical_wage_income:,.0f} 元/月",
                en="visible wages {wage_income:,.0f} yuan a month, "
                "below the local median of {typical_wage_income:,.0f}",
            ),
        ),
    ),
    Feature(
        name="pension_income",
        source="pension_payments",
        window=None,
        dtype="float",
        meaning_zh="成员养老金之和（元/月）",
        meaning_en="pensions paid to members (yuan/month)",
        reason_zh="家庭养老金收入偏低",
        reason_en="low pensions",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(when="pension_income == 0", zh="家中无人领取养老金", en="no member draws a pension"),
            ReasonCase(
                when="typical_pension_income > 0",
                zh="家庭养老金收入 {pension_income:,.0f} 元/月，"
                "低于本地家庭中位数 {typical_pension_income:,.0f} 元/月",
                en="pensions {pension_income:,.0f} yuan a month, "
                "below the local median of {typical_pension_income:,.0f}",
            ),
        ),
    ),
    Feature(
        name="unemployment_benefit_income",
        source="employment_registrations",
        window=None,
        dtype="float",
        meaning_zh="失业登记成员的失业保险金月额之和",
        meaning_en="unemployment benefit of registered unemployed members (yuan/month)",
        reason_zh="领取失业保险金 {unemployment_benefit_income:,.0f} 元/月",
        reason_en="unemployment benefit {unemployment_benefit_income:,.0f} yuan a month",
        group="unemployment",
        raises_risk_when="high",
    ),
    Feature(
        name="assistance_income",
        source="assistance_roster",
        window=None,
        dtype="float",
        meaning_zh="最新花名册月救助金额（元/月）",
        meaning_en="monthly assistance on the latest roster (yuan/month)",
        reason_zh="已领救助金 {assistance_income:,.0f} 元/月",
        reason_en="assistance {assistance_income:,.0f} yuan a month",
        group="assistance",
        raises_risk_when="high",
    ),
    Feature(
        name="visible_income",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=None,
        dtype="float",
        meaning_zh="部门可见家庭月收入：工资代理+养老金+失业金+救助金",
        meaning_en="visible household income: wages + pensions + unemployment benefit + assistance",
        reason_zh="部门可见家庭收入偏低",
        reason_en="low visible household income",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="visible_income == 0",
                zh="家庭无可见收入（无工资、养老金、失业金和救助金记录）",
                en="no visible income (no wages, pensions, unemployment benefit or assistance on record)",
            ),
            ReasonCase(
                when="typical_visible_income > 0",
                zh="部门可见家庭收入 {visible_income:,.0f} 元/月，"
                "低于本地家庭中位数 {typical_visible_income:,.0f} 元/月",
                en="visible household income {visible_income:,.0f} yuan a month, "
                "below the local median of {typical_visible_income:,.0f}",
            ),
        ),
    ),
    Feature(
        name="visible_income_per_capita",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=None,
        dtype="float",
        meaning_zh="可见人均月收入（元）",
        meaning_en="visible income per member (yuan/month)",
        reason_zh="人均可见收入 {visible_income_per_capita:,.0f} 元/月，"
        "为当地低保标准的 {income_ratio_to_dibao:.1f} 倍",
        reason_en="visible income {visible_income_per_capita:,.0f} yuan per person a month, "
        "{income_ratio_to_dibao:.1f} x the local 低保 line",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="visible_income_per_capita == 0",
                zh="家庭无可见收入（无工资、养老金、失业金和救助金记录）",
                en="no visible income (no wages, pensions, unemployment benefit or assistance on record)",
            ),
            ReasonCase(
                when="income_ratio_to_dibao < 1",
                zh="人均可见收入 {visible_income_per_capita:,.0f} 元/月，低于当地低保标准",
                en="visible income {visible_income_per_capita:,.0f} yuan per person a month, "
                "below the local 低保 line",
            ),
        ),
    ),
    Feature(
        name="income_ratio_to_dibao",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=None,
        dtype="float",
        meaning_zh="可见人均月收入 ÷ 当地当年低保标准（月）",
        meaning_en="visible per-capita monthly income / local monthly 低保 standard",
        reason_zh="人均可见收入 {visible_income_per_capita:,.0f} 元/月，"
        "为当地低保标准的 {income_ratio_to_dibao:.1f} 倍",
        reason_en="visible income {visible_income_per_capita:,.0f} yuan per person, "
        "{income_ratio_to_dibao:.1f} x the local 低保 line",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="visible_income_per_capita == 0",
                zh="家庭无可见收入（无工资、养老金、失业金和救助金记录）",
                en="no visible income (no wages, pensions, unemployment benefit or assistance on record)",
            ),
            ReasonCase(
                when="income_ratio_to_dibao < 0.1",
                zh="人均可见收入 {visible_income_per_capita:,.0f} 元/月，不到当地低保标准的一成",
                en="visible income {visible_income_per_capita:,.0f} yuan per person, "
                "under a tenth of the local 低保 line",
            ),
            ReasonCase(
                when="income_ratio_to_dibao < 1",
                zh="人均可见收入 {visible_income_per_capita:,.0f} 元/月，低于当地低保标准（"
                "为标准的 {income_ratio_to_dibao:.0%}）",
                en="visible income {visible_income_per_capita:,.0f} yuan per person, "
                "below the local 低保 line ({income_ratio_to_dibao:.0%} of it)",
            ),
        ),
    ),
    Feature(
        name="income_ratio_to_edge",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=None,
        dtype="float",
        meaning_zh="可见人均月收入 ÷ 低保边缘线（低保标准×边缘倍数）",
        meaning_en="visible per-capita income / 低保边缘 line (the city's edge multiple x the standard)",
        reason_zh="人均可见收入为低保边缘线的 {income_ratio_to_edge:.1f} 倍",
        reason_en="visible income {income_ratio_to_edge:.1f} x the 低保边缘 line",
        group="income",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="visible_income_per_capita == 0",
                zh="家庭无可见收入（无工资、养老金、失业金和救助金记录）",
                en="no visible income (no wages, pensions, unemployment benefit or assistance on record)",
            ),
            ReasonCase(
                when="income_ratio_to_edge < 0.1",
                zh="人均可见收入不到低保边缘线的一成",
                en="visible income under a tenth of the 低保边缘 line",
            ),
            ReasonCase(
                when="income_ratio_to_edge < 1",
                zh="人均可见收入低于低保边缘线（为边缘线的 {income_ratio_to_edge:.0%}）",
                en="visible income below the 低保边缘 line ({income_ratio_to_edge:.0%} of it)",
            ),
        ),
    ),
    Feature(
        name="below_edge_line",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=None,
        dtype="bool",
        meaning_zh="可见人均收入低于低保边缘线",
        meaning_en="visible per-capita income below the 低保边缘 line",
        reason_zh="人均可见收入低于低保边缘线",
        reason_en="visible income below the 低保边缘 line",
        group="income",
        raises_risk_when="true",
    ),
    Feature(
        name="income_change_3m",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=3,
        dtype="float",
        meaning_zh="可见人均收入较3个月前的变化率",
        meaning_en="relative change of visible per-capita income over 3 months",
        reason_zh="近3个月可见收入变化 {income_change_3m:+.0%}",
        reason_en="visible income changed {income_change_3m:+.0%} in 3 months",
        group="income",
        raises_risk_when="low",
        missing=NAN + ": no delivery 3 months back, or no income then",
        reason_cases=(
            ReasonCase(
                when="income_change_3m <= -1",
                zh="近3个月可见收入降为零（3个月前有收入）",
                en="visible income fell to nothing in 3 months (there was some 3 months ago)",
            ),
        ),
    ),
    Feature(
        name="income_change_12m",
        source=DERIVED,
        reads=INCOME_TABLES,
        window=12,
        dtype="float",
        meaning_zh="可见人均收入较12个月前的变化率",
        meaning_en="relative change of visible per-capita income over 12 months",
        reason_zh="近12个月可见收入变化 {income_change_12m:+.0%}",
        reason_en="visible income changed {income_change_12m:+.0%} in 12 months",
        group="income",
        raises_risk_when="low",
        missing=NAN + ": no delivery 12 months back, or no income then",
        reason_cases=(
            ReasonCase(
                when="income_change_12m <= -1",
                zh="近12个月可见收入降为零（12个月前有收入）",
                en="visible income fell to nothing in 12 months (there was some 12 months ago)",
            ),
        ),
    ),
    Feature(
        name="contribution_gap_months_12m",
        source="pension_contributions",
        window=12,
        dtype="int",
        meaning_zh="近12个月成员社保缴费中断的人月数",
        meaning_en="member-months of interrupted contributions in 12 months",
        reason_zh="近12个月社保断缴 {contribution_gap_months_12m} 人月",
        reason_en="{contribution_gap_months_12m} member-months of contribution gaps in 12 months",
        group="unemployment",
        raises_risk_when="high",
    ),
    Feature(
        name="contribution_interrupted",
        source="pension_contributions",
        window=None,
        dtype="int",
        meaning_zh="最新月份社保缴费中断的成员数",
        meaning_en="members whose latest contribution is interrupted",
        reason_zh="{contribution_interrupted} 名成员社保缴费中断",
        reason_en="{contribution_interrupted} members stopped contributing",
        group="unemployment",
        raises_risk_when="high",
    ),
    Feature(
        name="newly_unemployed_3m",
        source="employment_registrations",
        window=3,
        dtype="int",
        meaning_zh="近3个月办理失业登记的成员数",
        meaning_en="members with an unemployment registration in 3 months",
        reason_zh="近3个月 {newly_unemployed_3m} 名成员办理失业登记",
        reason_en="{newly_unemployed_3m} members registered unemployed in 3 months",
        group="unemployment",
        raises_risk_when="high",
    ),
    Feature(
        name="unemployed_members",
        source="employment_registrations",
        window=None,
        dtype="int",
        meaning_zh="当前处于失业登记状态（未注销、未再就业）的成员数",
        meaning_en="members currently registered unemployed",
        reason_zh="{unemployed_members} 名成员处于失业状态",
        reason_en="{unemployed_members} members registered unemployed",
        group="unemployment",
        raises_risk_when="high",
    ),
    # --- medical (settlements known before T, windows by admission date) ---
    Feature(
        name="oop_medical_3m",
        source="medical_settlements",
        window=3,
        dtype="float",
        meaning_zh="近3个月医疗个人负担（自付+自费，元）",
        meaning_en="out-of-pocket medical cost in 3 months (copay + self-pay, yuan)",
        reason_zh="近3个月医疗自付 {oop_medical_3m:,.0f} 元",
        reason_en="{oop_medical_3m:,.0f} yuan out of pocket for care in 3 months",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="oop_medical_6m",
        source="medical_settlements",
        window=6,
        dtype="float",
        meaning_zh="近6个月医疗个人负担（元）",
        meaning_en="out-of-pocket medical cost in 6 months (yuan)",
        reason_zh="近6个月医疗自付 {oop_medical_6m:,.0f} 元",
        reason_en="{oop_medical_6m:,.0f} yuan out of pocket for care in 6 months",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="oop_medical_12m",
        source="medical_settlements",
        window=12,
        dtype="float",
        meaning_zh="近12个月医疗个人负担（元）",
        meaning_en="out-of-pocket medical cost in 12 months (yuan)",
        reason_zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元",
        reason_en="{oop_medical_12m:,.0f} yuan out of pocket for care in 12 months",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="oop_medical_6m_share",
        source=DERIVED,
        reads=("medical_settlements",),
        window=6,
        dtype="float",
        meaning_zh="近6个月医疗个人负担 ÷ 6个月可见收入（无收入时封顶）",
        meaning_en="6-month out-of-pocket cost / 6 months of visible income (capped)",
        reason_zh="近6个月医疗自付 {oop_medical_6m:,.0f} 元，占家庭可见收入 {oop_medical_6m_share:.0%}",
        reason_en="{oop_medical_6m:,.0f} yuan out of pocket in 6 months, "
        "{oop_medical_6m_share:.0%} of visible income",
        group="medical",
        raises_risk_when="high",
        reason_cases=(
            ReasonCase(
                when="visible_income == 0",
                zh="近6个月医疗自付 {oop_medical_6m:,.0f} 元，家庭无可见收入",
                en="{oop_medical_6m:,.0f} yuan out of pocket in 6 months, with no visible income",
            ),
            ReasonCase(
                when="oop_medical_6m_share > 1",
                zh="近6个月医疗自付 {oop_medical_6m:,.0f} 元，超过家庭同期可见收入",
                en="{oop_medical_6m:,.0f} yuan out of pocket in 6 months, "
                "more than the visible income of those months",
            ),
        ),
    ),
    Feature(
        name="oop_medical_12m_share",
        source=DERIVED,
        reads=("medical_settlements",),
        window=12,
        dtype="float",
        meaning_zh="近12个月医疗个人负担 ÷ 12个月可见收入（无收入时封顶）",
        meaning_en="12-month out-of-pocket cost / 12 months of visible income (capped)",
        reason_zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，占家庭可见收入 {oop_medical_12m_share:.0%}",
        reason_en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months, "
        "{oop_medical_12m_share:.0%} of visible income",
        group="medical",
        raises_risk_when="high",
        reason_cases=(
            ReasonCase(
                when="visible_income == 0",
                zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，家庭无可见收入",
                en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months, with no visible income",
            ),
            ReasonCase(
                when="oop_medical_12m_share > 1",
                zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，超过家庭同期可见收入",
                en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months, "
                "more than the visible income of those months",
            ),
        ),
    ),
    Feature(
        name="oop_medical_12m_to_local_income",
        source=DERIVED,
        reads=("medical_settlements",),
        window=12,
        dtype="float",
        meaning_zh="近12个月医疗个人负担 ÷ 上年当地居民人均可支配收入",
        meaning_en="12-month out-of-pocket cost / last year's local per-capita disposable income",
        reason_zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，"
        "达上年当地人均可支配收入的 {oop_medical_12m_to_local_income:.0%}",
        reason_en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months, "
        "{oop_medical_12m_to_local_income:.0%} of last year's local income per head",
        group="medical",
        raises_risk_when="high",
        reason_cases=(
            ReasonCase(
                when="oop_medical_12m_to_local_income >= 1",
                zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，超过上年当地人均可支配收入",
                en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months, "
                "more than last year's local income per head",
            ),
        ),
    ),
    Feature(
        name="inpatient_stays_12m",
        source="medical_settlements",
        window=12,
        dtype="int",
        meaning_zh="近12个月住院次数",
        meaning_en="inpatient stays in 12 months",
        reason_zh="近12个月住院 {inpatient_stays_12m} 次",
        reason_en="{inpatient_stays_12m} hospital stays in 12 months",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="chronic_ill_members",
        source="medical_settlements",
        window=12,
        dtype="int",
        meaning_zh="近12个月有门诊慢特病结算的成员数",
        meaning_en="members with a chronic/special outpatient settlement in 12 months",
        reason_zh="{chronic_ill_members} 名成员患慢性病、长期门诊治疗",
        reason_en="{chronic_ill_members} chronically ill members",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="chronic_outpatient_12m",
        source="medical_settlements",
        window=12,
        dtype="int",
        meaning_zh="近12个月门诊慢特病结算次数",
        meaning_en="chronic/special outpatient settlements in 12 months",
        reason_zh="近12个月门诊慢特病就诊 {chronic_outpatient_12m} 次",
        reason_en="{chronic_outpatient_12m} chronic outpatient settlements in 12 months",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="critical_illness_paid_12m",
        source="medical_settlements",
        window=12,
        dtype="float",
        meaning_zh="近12个月大病保险支付（元）",
        meaning_en="critical-illness insurance payments in 12 months (yuan)",
        reason_zh="近12个月大病保险已支付 {critical_illness_paid_12m:,.0f} 元（重大疾病）",
        reason_en="critical-illness insurance paid {critical_illness_paid_12m:,.0f} yuan in 12 months",
        group="medical",
        raises_risk_when="high",
    ),
    Feature(
        name="medical_assistance_paid_12m",
        source="medical_settlements",
        window=12,
        dtype="float",
        meaning_zh="近12个月医疗救助支付（元）",
        meaning_en="medical assistance payments in 12 months (yuan)",
        reason_zh="近12个月已获医疗救助 {medical_assistance_paid_12m:,.0f} 元",
        reason_en="medical assistance paid {medical_assistance_paid_12m:,.0f} yuan in 12 months",
        group="medical",
        raises_risk_when="high",
    ),
    # --- disability (certificates known before T) ---
    Feature(
        name="disabled_members",
        source="disability_certificates",
        window=None,
        dtype="int",
        meaning_zh="持有效残疾人证的成员数",
        meaning_en="members with a valid disability certificate",
        reason_zh="{disabled_members} 名成员持残疾人证",
        reason_en="{disabled_members} members with a disability certificate",
        group="disability",
        raises_risk_when="high",
    ),
    Feature(
        name="severe_disability_members",
        source="disability_certificates",
        window=None,
        dtype="int",
        meaning_zh="一、二级（重度）残疾成员数",
        meaning_en="members with a grade 1-2 (severe) certificate",
        reason_zh="{severe_disability_members} 名成员为重度残疾（一、二级）",
        reason_en="{severe_disability_members} members severely disabled (grade 1-2)",
        group="disability",
        raises_risk_when="high",
    ),
    Feature(
        name="new_severe_disability_3m",
        source="disability_certificates",
        window=3,
        dtype="int",
        meaning_zh="近3个月新办一、二级残疾证或等级变为一、二级的成员数",
        meaning_en="members with a new grade 1-2 certificate or a change to grade 1-2 in 3 months",
        reason_zh="近3个月 {new_severe_disability_3m} 名成员新认定重度残疾",
        reason_en="{new_severe_disability_3m} members newly severely disabled in 3 months",
        group="disability",
        raises_risk_when="high",
    ),
    Feature(
        name="new_disability_12m",
        source="disability_certificates",
        window=12,
        dtype="int",
        meaning_zh="近12个月新办残疾证的成员数",
        meaning_en="members with a new certificate in 12 months",
        reason_zh="近12个月 {new_disability_12m} 名成员新办残疾证",
        reason_en="{new_disability_12m} new disability certificates in 12 months",
        group="disability",
        raises_risk_when="high",
    ),
    Feature(
        name="disability_worsened_12m",
        source="disability_certificates",
        window=12,
        dtype="int",
        meaning_zh="近12个月残疾等级加重的成员数",
        meaning_en="members whose disability grade became more severe in 12 months",
        reason_zh="近12个月 {disability_worsened_12m} 名成员残疾等级加重",
        reason_en="{disability_worsened_12m} members' disability worsened in 12 months",
        group="disability",
        raises_risk_when="high",
    ),
    Feature(
        name="disability_subsidy_members",
        source="disability_certificates",
        window=None,
        dtype="int",
        meaning_zh="享受困难残疾人生活补贴或重度残疾人护理补贴的成员数",
        meaning_en="members receiving the disability living or care subsidy",
        reason_zh="{disability_subsidy_members} 名成员领取残疾人两项补贴",
        reason_en="{disability_subsidy_members} members receive disability subsidies",
        group="disability",
        raises_risk_when="high",
    ),
    # --- housing and property ---
    Feature(
        name="house_grade",
        source="house_safety",
        window=None,
        dtype="category",
        meaning_zh="成员名下房屋最新安全鉴定等级（取最差）",
        meaning_en="latest safety grade of the members' houses (the worst)",
        reason_zh="住房经安全鉴定（A级）",
        reason_en="house appraised (grade A)",
        group="housing",
        raises_risk_when="high",
        missing="0: no appraisal known",
        codes=HOUSE_GRADES,
        reason_cases=(
            ReasonCase(
                when="house_grade == 4",
                zh="住房经鉴定为D级整幢危房",
                en="house appraised grade D (whole house dangerous)",
            ),
            ReasonCase(
                when="house_grade == 3",
                zh="住房经鉴定为C级局部危房",
                en="house appraised grade C (part dangerous)",
            ),
            ReasonCase(
                when="house_grade == 2",
                zh="住房经鉴定为B级（个别构件危险）",
                en="house appraised grade B (some members dangerous)",
            ),
        ),
    ),
    Feature(
        name="house_grade_c",
        source="house_safety",
        window=None,
        dtype="bool",
        meaning_zh="最新鉴定为C级（局部危房）",
        meaning_en="latest appraisal grade C (part dangerous)",
        reason_zh="住房经鉴定为C级局部危房",
        reason_en="house appraised grade C (part dangerous)",
        group="housing",
        raises_risk_when="true",
    ),
    Feature(
        name="house_grade_d",
        source="house_safety",
        window=None,
        dtype="bool",
        meaning_zh="最新鉴定为D级（整幢危房）",
        meaning_en="latest appraisal grade D (whole house dangerous)",
        reason_zh="住房经鉴定为D级整幢危房",
        reason_en="house appraised grade D (whole house dangerous)",
        group="housing",
        raises_risk_when="true",
    ),
    Feature(
        name="house_unrenovated_danger",
        source="house_safety",
        window=None,
        dtype="bool",
        meaning_zh="C/D级危房且尚未改造完成",
        meaning_en="grade C/D house not yet renovated",
        reason_zh="危房尚未改造",
        reason_en="dangerous house not yet renovated",
        group="housing",
        raises_risk_when="true",
    ),
    Feature(
        name="property_sold_12m",
        source="property_registrations",
        window=12,
        dtype="int",
        meaning_zh="近12个月成员转出（买卖）不动产次数",
        meaning_en="property sold by members in 12 months",
        reason_zh="近12个月出售房产 {property_sold_12m} 处",
        reason_en="{property_sold_12m} properties sold in 12 months",
        group="property",
        raises_risk_when="high",
    ),
    Feature(
        name="property_acquired_12m",
        source="property_registrations",
        window=12,
        dtype="int",
        meaning_zh="近12个月成员取得不动产次数",
        meaning_en="property acquired by members in 12 months",
        reason_zh="近12个月取得房产 {property_acquired_12m} 处",
        reason_en="{property_acquired_12m} properties acquired in 12 months",
        group="property",
        raises_risk_when="low",
    ),
    # --- events (hukou changes known before T) ---
    Feature(
        name="deaths_12m",
        source="hukou_changes",
        window=12,
        dtype="int",
        meaning_zh="近12个月去世的成员数",
        meaning_en="members who died in 12 months",
        reason_zh="近12个月家中 {deaths_12m} 人去世",
        reason_en="{deaths_12m} members died in 12 months",
        group="death",
        raises_risk_when="high",
    ),
    Feature(
        name="earner_died_6m",
        source="hukou_changes",
        window=6,
        dtype="bool",
        meaning_zh="近6个月有可见收入（工资或养老金）的成员去世",
        meaning_en="a member with visible income (wages or pension) died in 6 months",
        reason_zh="近6个月家中有收入来源的成员去世",
        reason_en="an earning member died in the last 6 months",
        group="death",
        raises_risk_when="true",
    ),
    Feature(
        name="births_12m",
        source="hukou_changes",
        window=12,
        dtype="int",
        meaning_zh="近12个月出生的成员数",
        meaning_en="births in 12 months",
        reason_zh="近12个月新添 {births_12m} 名婴儿",
        reason_en="{births_12m} births in 12 months",
        group="events",
        raises_risk_when="high",
    ),
    Feature(
        name="household_split_12m",
        source="hukou_changes",
        window=12,
        dtype="bool",
        meaning_zh="近12个月发生分户（分出或新立户）",
        meaning_en="a household split (out of or into this household) in 12 months",
        reason_zh="近12个月发生分户",
        reason_en="household split in the last 12 months",
        group="events",
        raises_risk_when="true",
    ),
    Feature(
        name="moved_in_12m",
        source="hukou_changes",
        window=12,
        dtype="int",
        meaning_zh="近12个月迁入的成员数",
        meaning_en="members who moved in within 12 months",
        reason_zh="近12个月迁入 {moved_in_12m} 人",
        reason_en="{moved_in_12m} members moved in within 12 months",
        group="events",
        raises_risk_when="high",
    ),
    Feature(
        name="moved_out_12m",
        source="hukou_changes",
        window=12,
        dtype="int",
        meaning_zh="近12个月迁出的成员数",
        meaning_en="members who moved out within 12 months",
        reason_zh="近12个月迁出 {moved_out_12m} 人",
        reason_en="{moved_out_12m} members moved out within 12 months",
        group="events",
        raises_risk_when="high",
    ),
    # --- assistance history (rosters and temporary aid known before T) ---
    Feature(
        name="assistance_category",
        source="assistance_roster",
        window=None,
        dtype="category",
        meaning_zh="最新花名册救助类别",
        meaning_en="category on the latest roster",
        reason_zh="已在救助名单上",
        reason_en="already on an assistance roster",
        group="assistance",
        raises_risk_when="high",
        codes=ASSISTANCE_CODES,
        reason_cases=(
            ReasonCase(
                when="assistance_category == 1",
                zh="已在低保边缘名单上",
                en="already on the 低保边缘 roster",
            ),
            ReasonCase(
                when="assistance_category == 2",
                zh="已在刚性支出困难名单上",
                en="already on the rigid-spending roster",
            ),
            ReasonCase(
                when="assistance_category == 3",
                zh="已在防止返贫监测名单上",
                en="already monitored against falling back into poverty",
            ),
        ),
    ),
    Feature(
        name="months_since_admitted",
        source="assistance_roster",
        window=None,
        dtype="float",
        meaning_zh="当前救助认定至今月数",
        meaning_en="months since the current assistance was granted",
        reason_zh="认定救助已 {months_since_admitted:.0f} 个月",
        reason_en="assisted for {months_since_admitted:.0f} months",
        group="assistance",
        raises_risk_when="low",
        missing=NAN + ": not on the roster",
        reason_cases=(
            ReasonCase(
                when="months_since_admitted < 1",
                zh="刚被认定救助（不足1个月）",
                en="assistance granted less than a month ago",
            ),
        ),
    ),
    Feature(
        name="assessed_income_ratio_to_dibao",
        source="assistance_roster",
        window=None,
        dtype="float",
        meaning_zh="花名册核定人均收入 ÷ 低保标准",
        meaning_en="assessed per-capita income on the roster / 低保 standard",
        reason_zh="民政核定人均收入为低保标准的 {assessed_income_ratio_to_dibao:.1f} 倍",
        reason_en="assessed income {assessed_income_ratio_to_dibao:.1f} x the 低保 line",
        group="assistance",
        raises_risk_when="low",
        missing=NAN + ": not on the roster",
        reason_cases=(
            ReasonCase(
                when="assessed_income_ratio_to_dibao == 0",
                zh="民政核定家庭人均收入为零",
                en="assessed income is nil",
            ),
            ReasonCase(
                when="assessed_income_ratio_to_dibao < 0.1",
                zh="民政核定人均收入不到低保标准的一成",
                en="assessed income under a tenth of the 低保 line",
            ),
            ReasonCase(
                when="assessed_income_ratio_to_dibao < 1",
                zh="民政核定人均收入低于低保标准（为标准的 {assessed_income_ratio_to_dibao:.0%}）",
                en="assessed income below the 低保 line ({assessed_income_ratio_to_dibao:.0%} of it)",
            ),
        ),
    ),
    Feature(
        name="phase_out_months",
        source="assistance_roster",
        window=24,
        dtype="int",
        meaning_zh="近24个月处于渐退期的月数",
        meaning_en="months in phase-out (渐退期) within 24 months",
        reason_zh="处于渐退期已 {phase_out_months} 个月",
        reason_en="{phase_out_months} months in phase-out",
        group="assistance",
        raises_risk_when="high",
    ),
    Feature(
        name="assisted_months_24m",
        source="assistance_roster",
        window=24,
        dtype="int",
        meaning_zh="近24个月在低保/特困花名册上的月数",
        meaning_en="months on the 低保/特困 roster within 24 months",
        reason_zh="近24个月享受低保/特困 {assisted_months_24m} 个月",
        reason_en="{assisted_months_24m} months of 低保/特困 within 24 months",
        group="assistance",
        raises_risk_when="high",
    ),
    Feature(
        name="assistance_spells_24m",
        source="assistance_roster",
        window=24,
        dtype="int",
        meaning_zh="近24个月在救助花名册上的段数（任一类别）",
        meaning_en="spells on any assistance roster within 24 months",
        reason_zh="近24个月 {assistance_spells_24m} 次进入救助名单",
        reason_en="{assistance_spells_24m} spells of assistance in 24 months",
        group="assistance",
        raises_risk_when="high",
    ),
    Feature(
        name="exits_12m",
        source="assistance_roster",
        window=12,
        dtype="int",
        meaning_zh="近12个月退出救助花名册次数",
        meaning_en="exits from the assistance roster in 12 months",
        reason_zh="近12个月退出救助 {exits_12m} 次",
        reason_en="left assistance {exits_12m} times in 12 months",
        group="assistance",
        raises_risk_when="high",
    ),
    Feature(
        name="exits_24m",
        source="assistance_roster",
        window=24,
        dtype="int",
        meaning_zh="近24个月退出救助花名册次数",
        meaning_en="exits from the assistance roster in 24 months",
        reason_zh="近24个月退出救助 {exits_24m} 次",
        reason_en="left assistance {exits_24m} times in 24 months",
        group="assistance",
        raises_risk_when="high",
    ),
    Feature(
        name="months_since_exit",
        source="assistance_roster",
        window=24,
        dtype="float",
        meaning_zh="最近一次退出救助至今月数",
        meaning_en="months since the last exit from the roster",
        reason_zh="{months_since_exit:.0f} 个月前刚退出救助",
        reason_en="left assistance {months_since_exit:.0f} months ago",
        group="assistance",
        raises_risk_when="low",
        missing=NAN + ": no exit seen in 24 months",
        reason_cases=(
            ReasonCase(
                when="months_since_exit < 1",
                zh="刚退出救助（不足1个月）",
                en="left assistance less than a month ago",
            ),
        ),
    ),
    Feature(
        name="temporary_aid_12m",
        source="temporary_assistance",
        window=12,
        dtype="int",
        meaning_zh="近12个月临时救助次数",
        meaning_en="temporary aid payments in 12 months",
        reason_zh="近12个月获临时救助 {temporary_aid_12m} 次",
        reason_en="{temporary_aid_12m} temporary aid payments in 12 months",
        group="temporary_aid",
        raises_risk_when="high",
    ),
    Feature(
        name="temporary_aid_amount_12m",
        source="temporary_assistance",
        window=12,
        dtype="float",
        meaning_zh="近12个月临时救助金额（元）",
        meaning_en="temporary aid paid in 12 months (yuan)",
        reason_zh="近12个月临时救助 {temporary_aid_amount_12m:,.0f} 元",
        reason_en="{temporary_aid_amount_12m:,.0f} yuan of temporary aid in 12 months",
        group="temporary_aid",
        raises_risk_when="high",
    ),
    Feature(
        name="expenditure_aid_12m",
        source="temporary_assistance",
        window=12,
        dtype="int",
        meaning_zh="近12个月支出型临时救助次数",
        meaning_en="支出型 (spending-driven) temporary aid in 12 months",
        reason_zh="近12个月获支出型临时救助 {expenditure_aid_12m} 次",
        reason_en="{expenditure_aid_12m} spending-driven aid payments in 12 months",
        group="temporary_aid",
        raises_risk_when="high",
    ),
    # --- hidden need: hardship the rows point at, applied for or not (features/hidden_need.py) ---
    Feature(
        name="unassisted_below_dibao",
        source=DERIVED,
        reads=(*INCOME_TABLES, "temporary_assistance", "medical_settlements"),
        window=12,
        dtype="bool",
        meaning_zh="可见人均收入低于低保标准，且近12个月无任何救助记录（不在任何救助花名册上，"
        "无临时救助、医疗救助）；部门不报送申请或不予认定记录，已获救助是唯一的申请痕迹",
        meaning_en="visible per-capita income below the 低保 line and nothing on record in 12 months "
        "(no roster of any category, no temporary aid, no medical assistance); no department "
        "delivers applications or rejections",
        reason_zh="人均可见收入 {visible_income_per_capita:,.0f} 元/月，低于当地低保标准，且无任何救助记录",
        reason_en="visible income {visible_income_per_capita:,.0f} yuan per person a month, "
        "below the local 低保 line, with no assistance on record",
        group="income",
        raises_risk_when="true",
        reason_cases=(
            ReasonCase(
                when="visible_income_per_capita == 0",
                zh="家庭无可见收入，且无任何救助记录",
                en="no visible income and no assistance on record",
            ),
        ),
    ),
    Feature(
        name="unassisted_dibao_shortfall",
        source=DERIVED,
        reads=(*INCOME_TABLES, "temporary_assistance", "medical_settlements"),
        window=12,
        dtype="float",
        meaning_zh="无任何救助记录且低于低保标准时，人均可见收入低于标准的比例（1 − 收入÷标准；其他家庭为0）",
        meaning_en="for households below the 低保 line with nothing on record, how far below it "
        "(1 - income / standard); 0 for every other household",
        reason_zh="人均可见收入比当地低保标准低 {unassisted_dibao_shortfall:.0%}，且无任何救助记录",
        reason_en="visible income {unassisted_dibao_shortfall:.0%} below the local 低保 line, "
        "with no assistance on record",
        group="income",
        raises_risk_when="high",
        reason_cases=(
            ReasonCase(
                when="unassisted_dibao_shortfall >= 1",
                zh="家庭无可见收入，且无任何救助记录",
                en="no visible income and no assistance on record",
            ),
        ),
    ),
    Feature(
        name="elderly_alone_chronic",
        source=DERIVED,
        reads=("households", "medical_settlements"),
        window=12,
        dtype="bool",
        meaning_zh="独居或空巢老人户（全部成员≥60岁）患慢性病：近12个月有门诊慢特病结算，或医保结算≥3次",
        meaning_en="every member 60+ and chronic illness: a chronic/special outpatient settlement "
        "or 3+ settlements in 12 months",
        reason_zh="老年人独居或空巢，且患慢性病（近12个月门诊慢特病结算 {chronic_outpatient_12m} 次）",
        reason_en="elderly living alone with chronic illness "
        "({chronic_outpatient_12m} chronic outpatient settlements in 12 months)",
        group="composition",
        raises_risk_when="true",
        reason_cases=(
            ReasonCase(
                when="chronic_outpatient_12m == 0",
                zh="老年人独居或空巢，且近12个月反复就医",
                en="elderly living alone, with repeated medical claims in 12 months",
            ),
        ),
    ),
    Feature(
        name="severe_disability_no_subsidy",
        source=DERIVED,
        reads=("disability_certificates", *INCOME_TABLES),
        window=None,
        dtype="int",
        meaning_zh="未领取应享补贴的一、二级残疾成员数：无重度残疾人护理补贴，"
        "或家庭人均可见收入低于低保边缘线而无困难残疾人生活补贴",
        meaning_en="grade 1-2 members without a subsidy they are likely entitled to: no care subsidy, "
        "or no living subsidy while the household is below the 低保边缘 line",
        reason_zh="{severe_disability_no_subsidy} 名重度残疾成员未领取应享的残疾人补贴",
        reason_en="{severe_disability_no_subsidy} severely disabled members without the disability "
        "subsidies they are likely entitled to",
        group="disability",
        raises_risk_when="high",
    ),
    Feature(
        name="rigid_income_ratio_to_edge",
        source=DERIVED,
        reads=(*INCOME_TABLES, "medical_settlements"),
        window=12,
        dtype="float",
        meaning_zh="扣除近12个月医疗自付后的人均可见月收入 ÷ 低保边缘线："
        "（可见月收入 − 12个月医疗自付 ÷ 12）÷ 人数 ÷（边缘倍数 × 低保标准），下限为负的封顶值；"
        "部门不报送教育支出，未计入",
        meaning_en="(visible monthly income - 12 months of out-of-pocket medical cost / 12) per head "
        "/ 低保边缘 line, floored at -ratio_cap; education costs are not delivered",
        reason_zh="扣除医疗自付后，人均可见收入为低保边缘线的 {rigid_income_ratio_to_edge:.1f} 倍",
        reason_en="after medical costs, visible income is "
        "{rigid_income_ratio_to_edge:.1f} x the 低保边缘 line",
        group="medical",
        raises_risk_when="low",
        reason_cases=(
            ReasonCase(
                when="visible_income == 0 and oop_medical_12m == 0",
                zh="家庭无可见收入（无工资、养老金、失业金和救助金记录）",
                en="no visible income (no wages, pensions, unemployment benefit or assistance on record)",
            ),
            ReasonCase(
                when="rigid_income_ratio_to_edge <= 0",
                zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，扣除后家庭可见收入已无剩余",
                en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months: "
                "nothing of the visible income is left",
            ),
            ReasonCase(
                when="rigid_income_ratio_to_edge < 1",
                zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，扣除后人均可见收入低于低保边缘线"
                "（为边缘线的 {rigid_income_ratio_to_edge:.0%}）",
                en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months: what is left per person is "
                "below the 低保边缘 line ({rigid_income_ratio_to_edge:.0%} of it)",
            ),
        ),
    ),
    Feature(
        name="rigid_spending_below_edge",
        source=DERIVED,
        reads=(*INCOME_TABLES, "medical_settlements"),
        window=12,
        dtype="bool",
        meaning_zh="刚性支出致困：人均可见收入不低于低保边缘线，但扣除近12个月医疗自付后低于边缘线",
        meaning_en="visible income at or above the 低保边缘 line, below it after 12 months of "
        "out-of-pocket medical cost",
        reason_zh="近12个月医疗自付 {oop_medical_12m:,.0f} 元，扣除后人均可见收入低于低保边缘线",
        reason_en="{oop_medical_12m:,.0f} yuan out of pocket in 12 months takes visible income "
        "below the 低保边缘 line",
        group="medical",
        raises_risk_when="true",
    ),
    Feature(
        name="single_person_case_members",
        source=DERIVED,
        reads=(*INCOME_TABLES, "medical_settlements", "disability_certificates"),
        window=12,
        dtype="int",
        meaning_zh="单人户线索：家庭人均可见收入低于低保边缘线且不在低保/特困时，"
        "重病（近12个月有大病保险支付或住院≥2次）或一、二级残疾的成员数；其他家庭为0",
        meaning_en="in a household below the 低保边缘 line and not in 低保/特困: members seriously ill "
        "(critical-illness insurance paid or 2+ stays in 12 months) or grade 1-2 disabled",
        reason_zh="家庭人均可见收入低于低保边缘线，{single_person_case_members} 名成员重病或重度残疾，"
        "可核查是否符合单人户保障",
        reason_en="below the 低保边缘 line with {single_person_case_members} seriously ill or severely "
        "disabled members: check for a 单人户 case",
        group="income",
        raises_risk_when="high",
    ),
)

FEATURE_NAMES: list[str] = [f.name for f in FEATURES]
BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}


def lookback(table: str) -> int | None:
    """The months before T a snapshot reads ``table`` back: its features' longest window;
    None (every month) when one of them needs the state at T of a table whose deliveries are
    events, not monthly states (the latest disability certificate, however old)."""
    windows = [f.window for f in FEATURES if table in f.tables]
    if None in windows and not TABLES[table].monthly:
        return None
    return max((w for w in windows if w is not None), default=0)

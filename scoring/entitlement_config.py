"""The entitlement check's rules (``entitlements:`` in configs/entitlements.yaml).

Every line is a multiple of the local 低保 standard (per county and year, from
``policy_lines:``) or of last year's local per-capita disposable income, never a fixed sum
of yuan, so a city's own standard moves every rule with it. The defaults follow
shared/domain.md; the figures it marks (assumed) are assumed here too and say so in the YAML.
"""

from __future__ import annotations

from pydantic import Field

from lowinc.section import Section

# assistance_state values (features.catalogue.ASSISTANCE_CODES) a rule may name
STATES = ("edge", "rigid", "monitor", "dibao", "tekun")


class DibaoRule(Section):
    """低保: per-capita income below the standard; the benefit pays the gap (补差)."""

    income_multiple: float = Field(1.0, gt=0)  # the line: this × the 低保 standard
    min_benefit: float = Field(0.0, ge=0)  # monthly floor of the estimated benefit, yuan per household


class TekunRule(Section):
    """特困: no work capacity (age or severe disability, or a child alone), no income, no one
    obliged to support them (taken as a single-person household)."""

    max_members: int = Field(1, ge=1)
    min_age: float = 60.0  # the head is at least this old ...
    max_child_age: float = 16.0  # ... or younger than this
    income_multiple: float = Field(1.0, gt=0)  # "no income": per-capita income below this × standard
    support_multiple: float = Field(1.3, gt=0)  # basic living standard: this × the 低保 standard


class MedicalGroup(Section):
    """Medical assistance for one group: the deductible (a share of last year's local
    per-capita disposable income) and the share of out-of-pocket cost above it it pays."""

    threshold_share: float = Field(0.0, ge=0)
    reimburse_share: float = Field(0.7, gt=0, le=1)


def _medical_groups() -> dict[str, MedicalGroup]:
    return {
        "tekun": MedicalGroup(threshold_share=0.0, reimburse_share=0.7),
        "dibao": MedicalGroup(threshold_share=0.0, reimburse_share=0.7),
        "edge": MedicalGroup(threshold_share=0.1, reimburse_share=0.6),
        "rigid": MedicalGroup(threshold_share=0.25, reimburse_share=0.5),
    }


class MedicalRule(Section):
    """医疗救助: 12-month out-of-pocket cost after insurance above the group's deductible, for
    低保/特困/边缘 households and those of 刚性支出困难 (the most generous group that applies)."""

    groups: dict[str, MedicalGroup] = Field(default_factory=_medical_groups)
    min_oop_12m: float = Field(0.0, ge=0)  # never flag below this 12-month cost, yuan


class RigidRule(Section):
    """刚性支出困难 (domain.md): per-capita income below this multiple of last year's local
    per-capita disposable income, and income minus 12 months of medical cost, per head, below
    the city's 低保边缘 line."""

    local_income_multiple: float = Field(1.0, gt=0)


class DisabilityRule(Section):
    """残疾人两项补贴: 困难残疾人生活补贴 for disabled members of households in ``living_groups``;
    重度残疾人护理补贴 for grade 1-2 members of any household. Amounts per member and month."""

    living_groups: tuple[str, ...] = ("dibao", "edge")
    living_multiple: float = Field(0.3, gt=0)  # × the 低保 standard
    care_multiple: float = Field(0.5, gt=0)  # × the 低保 standard


class TemporaryAidRule(Section):
    """临时救助 (支出型) after a catastrophic bill: 3-month out-of-pocket medical cost above
    ``bill_months`` of the household's 低保 line (standard × members), per-capita income below
    last year's local per-capita disposable income; one payment of ``share`` of the bill, at most
    ``cap_months`` × the standard × members."""

    bill_months: float = Field(6.0, gt=0)
    share: float = Field(0.3, gt=0, le=1)
    cap_months: float = Field(6.0, gt=0)
    exclude_states: tuple[str, ...] = ("dibao", "tekun")  # their own benefit covers the month


def _names() -> dict[str, str]:
    return {
        "dibao": "最低生活保障（低保）",
        "dibao_edge": "低保边缘",
        "tekun": "特困人员救助供养",
        "medical_assistance": "医疗救助",
        "disability_living": "困难残疾人生活补贴",
        "disability_care": "重度残疾人护理补贴",
        "temporary_aid": "临时救助（支出型）",
    }


class EntitlementConfig(Section):
    """The rules of the entitlement check (应救尽救), one section per programme. The check
    suggests what to offer at a visit; it never decides eligibility."""

    dibao: DibaoRule = DibaoRule()
    tekun: TekunRule = TekunRule()
    medical: MedicalRule = MedicalRule()
    rigid: RigidRule = RigidRule()
    disability: DisabilityRule = DisabilityRule()
    temporary_aid: TemporaryAidRule = TemporaryAidRule()
    names_zh: dict[str, str] = Field(default_factory=_names)  # programme code -> its name

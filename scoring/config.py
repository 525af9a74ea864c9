"""Warning policy (``scoring:`` in configs/scoring.yaml); defaults from shared/domain.md."""

from __future__ import annotations

from pydantic import Field

from lowinc.section import Section


class HardTriggers(Section):
    """A household is red whatever its score when one of these holds at the as-of date."""

    earner_died: bool = True  # a member with visible income died in the last 6 months
    new_severe_disability: bool = True  # a new grade 1-2 certificate (new_severe_disability_3m)
    catastrophic_oop_ratio: float = 1.0  # 12-month out of pocket / last year's local income per head
    house_grade_d: bool = True


class TierShares(Section):
    """The share of the cohort, by rank of calibrated risk, down to which each tier reaches
    (red: the top 1%; orange: the next, to the top 5%; yellow: to the top 10%)."""

    red: float = 0.01
    orange: float = 0.05
    yellow: float = 0.10


class Exploration(Section):
    """Exploration with known propensities (shared/domain.md, selective labels): a share of each
    township's monthly capacity goes to households drawn at random, stratified by township (so by
    county) and urban/rural, from the band just below the list's cut and from cohort households
    the system has never listed. Every listed household carries the probability with which it was
    listed (1 for those listed by rank); visit labels are weighted by its inverse."""

    share: float = Field(0.10, ge=0.0, lt=1.0)  # of each township's capacity; 0 turns it off
    band_share: float = Field(0.5, ge=0.0, le=1.0)  # of the drawn slots: from the band below the cut
    band_multiple: float = Field(
        1.0, gt=0.0
    )  # the band: this many × the town capacity of ranks below the cut
    # of the fresh pool's slots: to households with a signal of hidden need (SIGNALS), the rest
    # to those without; 0 draws the pool as one (disproportionate stratification: every household
    # still has a known probability above 0, visit labels are weighted by its inverse)
    signal_share: float = Field(0.0, ge=0.0, lt=1.0)
    seed: int = 16  # with the as-of month: the same month draws the same households


class RecipientChecks(Section):
    """Re-verification of current recipients (定期核查, 渐退; shared/domain.md): who may no longer
    qualify goes on a 核查 list for a check, never to automatic removal; who is in the phase-out
    period and at risk of falling back is visited before it ends."""

    # 低保/特困 households whose visible income per head is at least this multiple of the line
    income_above_line: float = Field(1.2, gt=0)
    # 低保边缘 households: the same against the edge line (1.5 × the standard)
    income_above_edge_line: float = Field(1.1, gt=0)
    income_rise_3m: float = Field(0.3, gt=0)  # visible income per head up by this share in 3 months
    phase_out_months: int = Field(12, ge=1)  # Zhejiang: a year
    phase_out_lead_months: int = Field(3, ge=0)  # list a phase-out household this long before it ends
    phase_out_risk_share: float = Field(0.2, gt=0, le=1)  # or earlier, if its risk is in this top share
    due_working_days: int = Field(20, ge=1)
    town_capacity: int = Field(10, ge=0)  # checks a township makes a month for each of the two lists


class UnlinkedList(Section):
    """The second list, of people living in the area without local hukou (issue 16): ranked in
    their township by the rule score of features/unlinked.py, a visit to see whether they need
    help (a score never decides anything)."""

    town_capacity: int = Field(5, ge=0)  # people a township visits from this list a month
    min_score: float = Field(1.0, gt=0)  # listed from this score on: no signal, no visit
    months: int = Field(12, ge=1)  # listed unlinked in the deliveries of this many months before T
    due_working_days: int = Field(20, ge=1)  # the visit is due this many working days after T


class ScoringConfig(Section):
    """Tiers by rank of calibrated risk among the cohort, capacities and due dates."""

    tier_shares: TierShares = TierShares()
    exploration: Exploration = Exploration()
    recipients: RecipientChecks = RecipientChecks()
    unlinked: UnlinkedList = UnlinkedList()
    hard_triggers: HardTriggers = HardTriggers()
    # working days to the home check, by tier (domain.md: red 5, orange 10; yellow joins the
    # monthly round)
    due_working_days: dict[str, int] = Field(default_factory=lambda: {"red": 5, "orange": 10, "yellow": 20})
    # public holidays on which no visit is due (YYYY-MM-DD); a bureau adds its own calendar
    holidays: list[str] = Field(default_factory=list)
    village_capacity: int = 3  # visits a village/community worker makes for this list a month
    town_capacity: int = 30  # visits a township office makes a month
    max_reasons: int = 3
    # the suggested action for a reason of each feature group, and for each hard trigger
    actions: dict[str, str] = Field(
        default_factory=lambda: {
            "medical": "医疗救助",
            "income": "核查低保",
            "unemployment": "就业援助",
            "disability": "残疾人两项补贴",
            "housing": "危房改造",
            "death": "临时救助",
            "temporary_aid": "临时救助",
            "assistance": "核查低保",
            "composition": "核查低保",
            "events": "核查低保",
            "property": "核查低保",
            "earner_died": "临时救助",
            "new_severe_disability": "残疾人两项补贴",
            "catastrophic_medical": "医疗救助",
            "house_grade_d": "危房改造",
        }
    )
    max_actions: int = 2
    # households explained (SHAP) in every run: every tier above blue
    explain_tiers: tuple[str, ...] = ("red", "orange", "yellow")

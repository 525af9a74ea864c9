"""Configuration of the synthetic region (``simulation:`` in configs/simulation.yaml).

Kept apart from the simulator itself: the embedded default region is simulated, so the
composed settings carry this section, and production code must be able to load the settings
without importing ``simulator/``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from lowinc.section import Section


class DefectRates(Section):
    """Share of rows (or files) that the simulator spoils, per kind of defect in the contract."""

    id_bad_check_digit: float = 0.002
    id_15_digit: float = 0.001
    id_lowercase_x: float = 0.3  # share of IDs ending in X that are written as x
    id_full_width: float = 0.001
    id_spaces: float = 0.001
    id_empty: float = 0.0005
    date_impossible: float = 0.0005
    date_future: float = 0.0003
    date_other_format: float = 0.001
    money_negative: float = 0.0003
    money_formatted: float = 0.001  # thousands separators or a trailing 元
    money_parts_mismatch: float = 0.0005  # medical cost parts that do not add up
    duplicate_row: float = 0.002
    unknown_category: float = 0.0005
    not_in_hukou: float = 0.003  # people outside the area's registry in department data
    # file-level defects: probability per file and month (never in a source's first month)
    column_added: float = 0.01
    column_renamed: float = 0.01
    column_reordered: float = 0.01
    wrong_encoding: float = 0.005
    month_missing: float = 0.003
    delivered_twice: float = 0.005


class DriftScenario(Section):
    """A change in the world from a month on, for monitoring work."""

    kind: Literal["factory_closure", "reimbursement_cut"]
    start: str  # YYYY-MM
    county: str | None = None  # 6-digit county code; None = the whole region
    share: float = 0.3  # factory closure: share of the county's enterprise workers laid off
    factor: float = 0.8  # reimbursement cut: basic insurance rates multiplied by this


class SimulationConfig(Section):
    """Rates and sizes of the synthetic region (defaults from shared/domain.md)."""

    city: str = "湖州市"
    county: str | None = None  # a county name or 6-digit code narrows the region
    province: bool = False  # the whole province
    households: int = 20_000
    start: str = "2022-01"
    months: int = 36
    seed: int = 7
    burn_in_months: int = 12  # simulated before `start`, not delivered, so flows settle
    # composition
    urban_share_weighting: float = 1.0  # relative weight of communities vs villages
    # income (monthly yuan); rural households farm and earn informally, urban ones less so
    wage_median_urban: float = 8_000.0
    wage_median_rural: float = 5_600.0
    wage_sigma: float = 0.55
    employment_rate_urban: float = 0.78
    employment_rate_rural: float = 0.68
    farm_income_median: float = 1_200.0
    elderly_farm_factor: float = 0.5  # elderly-only households farm small plots (less labour)
    informal_income_median: float = 700.0
    resident_pension: float = 450.0
    transfer_median: float = 1_200.0  # support from children elsewhere to elderly-only households
    unsupported_elderly_share: float = (
        0.10  # households with no one obliged to support them (无法定赡养/抚养人; the 特困 pool)
    )
    enterprise_pension_replacement: float = 0.55
    death_grant_months: float = 10.0  # 丧葬补助金 + 抚恤金 to survivors, in months of the pension
    # nominal growth, applied each January (levels above are for the start year)
    wage_growth_yearly: float = 0.055  # 湖州 wages/disposable income grow ~5-6% a year
    pension_growth_yearly: float = (
        0.04  # national pension adjustment ~4% (2022), resident pensions raised too
    )
    farm_growth_yearly: float = 0.04  # agricultural operating income
    # shocks, yearly per person unless noted
    job_loss_rate: float = 0.05
    job_find_rate_monthly: float = 0.18  # mean search ~5-6 months (Zhejiang's tight labour market)
    unemployment_registration_share: float = 0.55
    hospital_rate: float = 0.16
    hospital_rate_elderly: float = 0.26  # 65+; x1.6 for the chronically ill gives ~30% on average
    hospital_cost_median: float = (
        4_800.0  # with diagnosis factors: mean stay ~10k yuan, residents pay ~30-37% out of pocket
    )
    hospital_cost_sigma: float = 0.8
    chronic_onset_rate: float = 0.012
    disability_onset_rate: float = 0.004
    severe_disability_share: float = 0.45  # of new certificates, grade 1-2
    house_deteriorate_rate: float = 0.008  # rural households falling to C/D, yearly
    disaster_village_rate: float = 0.01  # yearly share of villages hit by flood/typhoon
    disaster_household_share: float = 0.4  # share of a hit village's households affected
    property_sale_rate: float = 0.01
    property_buy_rate: float = 0.01
    move_out_rate: float = 0.004  # households leaving the area, yearly
    move_in_rate: float = 0.004
    split_rate: float = 0.004  # yearly per married adult child living with parents
    fertility_rate: float = 0.05  # yearly births per woman aged 22-40 with a partner
    settlement_delay_max: int = 3  # months between a stay and its settlement
    # assistance
    takeup_monthly: float = 0.25  # base monthly application hazard when truly poor
    near_poor_apply_factor: float = (
        0.05  # relative hazard of applying when below the 低保边缘 line but not poor
    )
    heavy_spending_apply_factor: float = (
        0.05  # relative hazard when medical spending > 40% of income (刚性支出)
    )
    takeup_elderly_alone_factor: float = 0.45
    takeup_stigma_sigma: float = 0.8
    assessment_hidden_share: float = 0.7  # share of hidden income an assessor finds
    assessment_noise: float = 0.12
    phase_out_months: int = 12
    review_months: int = 12
    temp_aid_takeup: float = 0.25
    edge_band: float = 1.5  # 低保边缘: below this multiple of the standard
    poverty_window: int = 12  # months averaged for the truth's poverty test (income is yearly in policy)
    # ground truth
    label_horizon: int = 6
    mc_paths: int = 200
    mc_households: int = 2_000
    mc_months: list[str] = Field(default_factory=lambda: ["2023-01", "2023-07", "2024-01"])
    defects: DefectRates = DefectRates()
    scenarios: list[DriftScenario] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _month(cls, v: str) -> str:
        if len(v) != 7 or v[4] != "-" or not (v[:4] + v[5:]).isdigit() or not 1 <= int(v[5:]) <= 12:
            raise ValueError(f"month must be YYYY-MM, got {v!r}")
        return v

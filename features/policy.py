"""Policy lines per county and year: the monthly 低保 standard, last year's local per-capita
disposable income and the 低保边缘 multiple, declared in ``policy_lines:``
(configs/policy_lines.yaml) and resolved as the simulator does (the city's figure for the
year, a county override, else the default grown yearly). The one place the lines are read:
the features and the entitlement check both take them from here."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from pydantic import Field

from lowinc.section import Section


class CityPolicyLines(Section):
    """Policy lines of one city: 低保 standard by year (yuan per person per year)."""

    dibao_annual: dict[int, float]
    disposable_income_annual: dict[int, float]  # local per-capita disposable income
    counties: dict[str, dict[int, float]] = Field(default_factory=dict)  # county overrides
    edge_multiple: float | None = Field(None, gt=1.0)  # 低保边缘 line: × the standard (None: the default)


class PolicyLinesConfig(Section):
    """低保 standards and local incomes per city and year (shared/domain.md)."""

    default_dibao_annual_2022: float = 11_000.0
    default_disposable_income_2022: float = 52_000.0
    yearly_growth: float = 0.06
    edge_multiple: float = Field(1.5, gt=1.0)  # 低保边缘: per-capita income below this × the standard
    cities: dict[str, CityPolicyLines] = Field(default_factory=dict)


class CountyLines(NamedTuple):
    """The lines in force for each row's county: monthly 低保 standard, last year's local
    per-capita disposable income (yuan a year), and the 低保边缘 multiple of the standard."""

    dibao_monthly: np.ndarray
    local_income_annual: np.ndarray
    edge_multiple: np.ndarray


def county_cities(divisions: pd.DataFrame) -> pd.Series:
    """City name per 6-digit county code."""
    return divisions.drop_duplicates("county_code").set_index("county_code")["city_name"]


def dibao_annual(lines: PolicyLinesConfig, city: str | None, county: str, year: int) -> float:
    c = lines.cities.get(city) if city else None
    if c and year in c.counties.get(county, {}):
        return float(c.counties[county][year])
    if c and year in c.dibao_annual:
        return float(c.dibao_annual[year])
    return lines.default_dibao_annual_2022 * (1 + lines.yearly_growth) ** (year - 2022)


def disposable_income_annual(lines: PolicyLinesConfig, city: str | None, year: int) -> float:
    c = lines.cities.get(city) if city else None
    if c and year in c.disposable_income_annual:
        return float(c.disposable_income_annual[year])
    return lines.default_disposable_income_2022 * (1 + lines.yearly_growth) ** (year - 2022)


def edge_multiple(lines: PolicyLinesConfig, city: str | None) -> float:
    """The 低保边缘 line of a city as a multiple of its 低保 standard (Hangzhou: 2)."""
    c = lines.cities.get(city) if city else None
    return float(c.edge_multiple) if c and c.edge_multiple is not None else lines.edge_multiple


def policy_lines(
    county_codes: pd.Series, divisions: pd.DataFrame, lines: PolicyLinesConfig, as_of: pd.Timestamp
) -> CountyLines:
    """The lines of T's year for each row's county, computed once per distinct county."""
    codes, uniques = pd.factorize(county_codes.astype("str"))
    cities = county_cities(divisions)
    std = np.empty(len(uniques))
    income = np.empty(len(uniques))
    edge = np.empty(len(uniques))
    for i, county in enumerate(uniques):
        city = cities.get(county)
        std[i] = dibao_annual(lines, city, county, as_of.year) / 12.0
        income[i] = disposable_income_annual(lines, city, as_of.year - 1)
        edge[i] = edge_multiple(lines, city)
    if len(codes) == 0:
        return CountyLines(np.empty(0), np.empty(0), np.empty(0))
    return CountyLines(std[codes], income[codes], edge[codes])

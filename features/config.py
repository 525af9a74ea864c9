"""Configuration of household features and labels (``features:`` in configs/features.yaml)."""

from __future__ import annotations

from pydantic import Field

from lowinc.section import Section


class FeaturesConfig(Section):
    """Point-in-time snapshots and labels."""

    # months after the as-of date in which a fall counts (domain.md)
    label_horizon: int = Field(default=6, ge=1)
    child_age: int = 18  # members younger than this are children
    elderly_age: int = 60  # members this old or older are elderly
    ratio_cap: float = Field(default=10.0, gt=0)  # shares and ratios with a zero denominator are capped here

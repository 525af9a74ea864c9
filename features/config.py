"""Configuration of household features and labels (``features:`` in configs/features.yaml)."""

from __future__ import annotations

from lowinc.section import Section


class FeaturesConfig(Section):
    """Point-in-time snapshots and labels."""

    label_horizon: int = 6  # months after the as-of date in which a fall counts (domain.md)

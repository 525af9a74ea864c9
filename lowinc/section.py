"""The base of every configuration section (kept apart so feature, model and outreach
packages can declare their own sections without importing the settings object)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base for every configuration section: typed, frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

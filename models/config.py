"""Configuration of the risk model (``model:`` in configs/model.yaml)."""

from __future__ import annotations

from lowinc.section import Section


class ModelConfig(Section):
    """Training, evaluation and promotion of the risk model."""

    name: str = "lowinc-risk"  # the registered model name in MLflow

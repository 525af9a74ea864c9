"""The deployed object: a LightGBM booster, its calibrator and its feature list.

Saved as plain files (the booster's text model, calibration and metadata as JSON); the MLflow
pyfunc wrapper around these files is in models/tracking.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from models.calibration import Calibrator
from models.schema import design_matrix

BOOSTER_FILE = "booster.txt"
META_FILE = "risk_model.json"


@dataclass
class RiskModel:
    """Calibrated household risk from a feature snapshot."""

    booster: lgb.Booster
    calibrator: Calibrator
    feature_names: list[str]
    categorical: list[str] = field(default_factory=list)
    version: str | None = None  # the registry version, set when loaded from MLflow

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        """The booster's probability before calibration (same order as the calibrated risk)."""
        return np.asarray(self.booster.predict(design_matrix(frame, self.feature_names)), dtype=float)

    def predict_risk(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a fall into poverty within the label horizon."""
        return self.calibrator.transform(self.raw_score(frame))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values (log-odds) per feature, plus the expected value in ``bias``."""
        contrib = self.booster.predict(design_matrix(frame, self.feature_names), pred_contrib=True)
        return pd.DataFrame(contrib, columns=[*self.feature_names, "bias"], index=frame.index)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / BOOSTER_FILE))
        meta = {
            "feature_names": self.feature_names,
            "categorical": self.categorical,
            "calibrator": self.calibrator.to_dict(),
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: Path, version: str | None = None) -> RiskModel:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        return cls(
            booster=lgb.Booster(model_file=str(folder / BOOSTER_FILE)),
            calibrator=Calibrator.from_dict(meta["calibrator"]),
            feature_names=list(meta["feature_names"]),
            categorical=list(meta["categorical"]),
            version=version,
        )

"""The MLflow pyfunc of the risk model, logged as "models from code" (no pickle).

MLflow copies this file into the model and runs it when the model is loaded: it must stay
a script that ends with ``set_model``. It reads the saved :class:`RiskModel` folder from the
model's artifacts and returns the calibrated risk. Never imported by the package itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.models
import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from models.risk_model import RiskModel


class RiskPyfunc(PythonModel):
    """A feature frame in, calibrated risk out; ``.model`` is the :class:`RiskModel`."""

    def load_context(self, context: PythonModelContext) -> None:
        self.model = RiskModel.load(Path(context.artifacts["risk_model"]))

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> np.ndarray:
        return self.model.predict_risk(model_input)


mlflow.models.set_model(RiskPyfunc())

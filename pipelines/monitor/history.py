"""The MLflow side of a month: the monitoring runs, the live champion-challenger comparison,
and a run's figures over months for the trend plots."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from mlflow.tracking import MlflowClient

from models.registry import CHALLENGER
from monitoring.tracking import version_run


@dataclass
class Versions:
    """The MLflow side of one month: client, experiment, and each version's run."""

    client: MlflowClient
    experiment_id: str
    model_name: str

    def run_of(self, version: str) -> str:
        return version_run(self.client, self.experiment_id, version, self.model_name)


def challenger_of(versions: Versions, serving: str) -> str | None:
    aliases = versions.client.get_registered_model(versions.model_name).aliases
    challenger = aliases.get(CHALLENGER)
    return str(challenger) if challenger is not None and str(challenger) != serving else None


def comparison(versions: Versions, champion: str, challenger: str | None) -> pd.DataFrame:
    """Realised precision at capacity of both on every matured month both scored."""
    columns = [
        "as_of",
        "champion",
        "challenger",
        "champion_precision_at_k",
        "challenger_precision_at_k",
        "gain",
    ]
    if challenger is None:
        return pd.DataFrame(columns=columns)

    def series(version: str) -> pd.Series:
        history = versions.client.get_metric_history(versions.run_of(version), "realised.precision_at_k")
        by_ts = {m.timestamp: m.value for m in sorted(history, key=lambda m: m.step)}  # the latest per month
        return pd.Series(by_ts, dtype=float)

    both = pd.concat([series(champion).rename("c"), series(challenger).rename("s")], axis=1).dropna()
    if both.empty:
        return pd.DataFrame(columns=columns)
    months = pd.to_datetime(both.index, unit="ms").strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "as_of": months,
            "champion": champion,
            "challenger": challenger,
            "champion_precision_at_k": both["c"].to_numpy(),
            "challenger_precision_at_k": both["s"].to_numpy(),
            "gain": (both["s"] - both["c"]).to_numpy(),
        }
    )


HISTORY_KEYS = (
    "score.psi",
    "drift.top_feature_psi_max",
    "expected.expected_falls",
    "expected.expected_precision_at_k",
    "realised.observed_falls",
    "realised.expected_falls",
    "realised.precision_at_k",
    "realised.expected_precision_at_k",
    "realised.precision_band_low",
    "realised.falls_band_low",
    "realised.falls_band_high",
    "status_level",
)


def metric_history(client: MlflowClient, run_id: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The run's figures over months (the latest value per month), tidy, for the trend plots."""
    rows = []
    for key in [*HISTORY_KEYS, *extra]:
        for m in client.get_metric_history(run_id, key):
            rows.append(
                {
                    "as_of": f"{pd.Timestamp(m.timestamp, unit='ms'):%Y-%m-%d}",
                    "step": m.step,
                    "key": key,
                    "value": m.value,
                }
            )
    frame = pd.DataFrame(rows, columns=["as_of", "step", "key", "value"])
    return (
        frame.drop_duplicates(["as_of", "key"], keep="last")
        .sort_values(["key", "as_of"])
        .reset_index(drop=True)
    )

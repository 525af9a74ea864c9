"""The model registry: aliases ``champion`` and ``challenger``, the promotion rule, rollback.

A new model becomes the challenger. It replaces the champion automatically only if, on the
same latest test window, its precision at capacity beats the champion's by the configured
margin; otherwise it waits for ``lowinc model promote``. Every change of champion is appended
to the registered model's ``champion_history`` tag, which is what ``rollback`` walks back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from lowinc.errors import NotFound
from models.config import ModelConfig
from models.risk_model import RiskModel
from models.tracking import configure
from models.train import precision_at_capacity

CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    challenger_metric: float
    champion_metric: float | None = None
    champion_version: str | None = None


def decide_promotion(
    challenger: float, champion: float | None, margin: float, champion_version: str | None = None
) -> PromotionDecision:
    """The rule, pure: no champion → promote; else promote only if ahead by at least ``margin``
    (and strictly ahead when the margin is 0)."""
    if champion is None:
        return PromotionDecision(True, "first model: no champion yet", challenger, None, None)
    if math.isnan(champion):  # e.g. the champion reads features the snapshots no longer have
        return PromotionDecision(
            False,
            f"champion v{champion_version} cannot score this window: a person decides",
            challenger,
            champion,
            champion_version,
        )
    gain = challenger - champion
    if gain > 0 and gain >= margin:
        return PromotionDecision(
            True,
            f"beats champion v{champion_version} by {gain:+.4f} (margin {margin})",
            challenger,
            champion,
            champion_version,
        )
    return PromotionDecision(
        False,
        f"{gain:+.4f} against champion v{champion_version}, below the margin {margin}: "
        "waits for `lowinc model promote`",
        challenger,
        champion,
        champion_version,
    )


def champion_version(client: MlflowClient, name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def load_version(client: MlflowClient, name: str, version: str) -> RiskModel:
    """The registered model as a :class:`RiskModel` (booster, calibrator, feature names)."""
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    model: RiskModel = pyfunc.unwrap_python_model().model
    model.version = str(version)
    return model


def load_champion(cfg: ModelConfig, home: Path) -> RiskModel:
    """The current champion: ``.version``, ``.feature_names``, ``.predict_risk(frame)`` (calibrated),
    ``.booster`` (LightGBM, for ``pred_contrib``) and ``.contributions(frame)``.

    Raises LookupError when no model has been promoted yet.
    """
    client = configure(cfg, home)
    version = champion_version(client, cfg.name)
    if version is None:
        raise NotFound(
            f"no champion model {cfg.name} yet", hint="lowinc train (or lowinc model promote VERSION)"
        )
    return load_version(client, cfg.name, version)


def _history(client: MlflowClient, name: str) -> list[str]:
    tags = client.get_registered_model(name).tags
    return [str(v) for v in json.loads(tags.get(HISTORY_TAG, "[]"))]


def set_champion(client: MlflowClient, name: str, version: str, history: list[str] | None = None) -> None:
    """Point ``champion`` at ``version`` and record it; the challenger alias moves off it."""
    history = _history(client, name) if history is None else history
    client.set_registered_model_alias(name, CHAMPION, version)
    client.set_registered_model_tag(name, HISTORY_TAG, json.dumps([*history, str(version)]))
    aliases = client.get_registered_model(name).aliases
    if str(aliases.get(CHALLENGER)) == str(version):
        client.delete_registered_model_alias(name, CHALLENGER)


def promote(cfg: ModelConfig, home: Path, version: str) -> dict[str, str | None]:
    """Make ``version`` the champion by hand (the previous one stays in the history)."""
    client = configure(cfg, home)
    try:
        client.get_model_version(cfg.name, str(version))
    except MlflowException:
        raise NotFound(f"no version {version} of {cfg.name}", hint="lowinc model list") from None
    previous = champion_version(client, cfg.name)
    set_champion(client, cfg.name, str(version))
    return {"champion": str(version), "previous": previous}


def rollback(cfg: ModelConfig, home: Path) -> dict[str, str | None]:
    """Give the champion alias back to the previous champion."""
    client = configure(cfg, home)
    try:
        history = _history(client, cfg.name)
    except MlflowException:
        raise NotFound(f"no model {cfg.name} registered yet", hint="lowinc train") from None
    current = champion_version(client, cfg.name)
    if current is not None and history and history[-1] == current:
        history = history[:-1]
    if not history:
        raise NotFound(f"no earlier champion of {cfg.name} to roll back to", hint="lowinc model list")
    target = history[-1]
    client.set_registered_model_alias(cfg.name, CHAMPION, target)
    client.set_registered_model_tag(cfg.name, HISTORY_TAG, json.dumps(history))
    if current is not None:
        client.set_model_version_tag(cfg.name, current, "rolled_back", "true")
    return {"champion": target, "rolled_back": current}


def list_versions(cfg: ModelConfig, home: Path) -> list[dict[str, Any]]:
    client = configure(cfg, home)
    try:
        versions = client.search_model_versions(f"name='{cfg.name}'")
    except MlflowException:
        return []
    if not versions:
        return []
    by_version: dict[str, list[str]] = {}
    for alias, v in client.get_registered_model(cfg.name).aliases.items():
        by_version.setdefault(str(v), []).append(alias)
    rows = []
    for v in sorted(versions, key=lambda v: int(v.version)):
        rows.append(
            {
                "version": str(v.version),
                "aliases": sorted(by_version.get(str(v.version), [])),
                "created": pd.Timestamp(v.creation_timestamp, unit="ms").isoformat(timespec="seconds"),
                "run_id": v.run_id,
                "test_window": v.tags.get("test_window"),
                "precision_at_k": v.tags.get("precision_at_k"),
                "promotion": v.tags.get("promotion"),
            }
        )
    return rows


def register_challenger(
    cfg: ModelConfig, home: Path, version: str, run_id: str, challenger_metric: float, test: pd.DataFrame
) -> PromotionDecision:
    """Alias the new version ``challenger``, then apply the promotion rule on the test window."""
    client = configure(cfg, home)
    client.set_registered_model_alias(cfg.name, CHALLENGER, version)
    current = champion_version(client, cfg.name)
    champion_metric = None
    if current is not None:
        try:
            champion_metric = precision_at_capacity(load_version(client, cfg.name, current), test, cfg)
        except KeyError as exc:  # the champion reads features this snapshot no longer has
            champion_metric = math.nan
            client.set_tag(run_id, "promotion.champion_error", str(exc)[:500])
    decision = decide_promotion(challenger_metric, champion_metric, cfg.promotion_margin, current)
    if decision.promote:
        set_champion(client, cfg.name, version)
    client.set_tag(run_id, "promotion.decision", "promoted" if decision.promote else "challenger")
    client.set_tag(run_id, "promotion.reason", decision.reason)
    if champion_metric is not None and not math.isnan(champion_metric):
        client.log_metric(run_id, "champion.precision_at_k", champion_metric)
    client.set_model_version_tag(cfg.name, version, "promotion", decision.reason)
    return decision

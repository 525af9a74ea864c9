"""What one month of monitoring found, per model version, and its figures as flat metrics.

Metric names (MLflow allows letters, digits, ``_ - . / :`` and spaces; a group is written
``county_code:330503``):

- ``score.psi``, ``score.js``, ``score.psi/<group>``: the calibrated score's drift;
- ``feature.psi/<feature>``: every feature, overall; ``drift.top_feature_psi_max`` and
  ``drift.top_feature_psi_max/<group>``: the largest PSI among the top features;
- ``tier_share.<tier>`` and ``tier_share.<tier>/<group>``: households in each tier (as given,
  hard triggers included);
- ``expected.*``: falls and precision at capacity the risks promise for this month;
- ``realised.*``: the month whose labels matured, logged at that month's own step;
- ``field.*``: visits recorded in the month before (confirmed ÷ visited with a label result);
- ``status_level``: 0 green, 1 amber, 2 red.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from monitoring.bins import Bins
from monitoring.drift import Drift
from monitoring.reference import ALL
from monitoring.rules import LEVELS, Finding


def metric_key(group: str) -> str:
    """A group label as a metric name part: ``county_code=330503`` → ``county_code:330503``."""
    return group.replace("=", ":")


@dataclass
class Realised:
    """A matured month: the version that scored it, its figures and its group table."""

    as_of: str
    version: str
    step: int
    metrics: dict[str, float]
    groups: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)


@dataclass
class ModelMonth:
    """One model version's month: serving (the champion) or shadow-scored (the challenger)."""

    version: str
    role: str  # serving | shadow
    as_of: str  # YYYY-MM-DD
    step: int  # months since the version first scored (serving or in shadow)
    drift: Drift
    expected: dict[str, float]
    tier_counts: dict[str, dict[str, int]]  # group → tier → households (as given)
    status: str = "green"
    findings: list[Finding] = field(default_factory=list)
    realised: Realised | None = None
    bins: dict[str, Bins] = field(default_factory=dict)  # the reference's bins (labels for the report)

    def metrics(self, min_group_rows: int) -> dict[str, float]:
        """The month's figures (the realised ones are logged at their own step)."""
        out: dict[str, float] = {}
        score = self.drift.score
        for group, rows, psi, js in zip(
            score["group"], score["rows"], score["psi"], score["js"], strict=True
        ):
            if group == ALL:
                out["score.psi"], out["score.js"] = float(psi), float(js)
            elif rows >= min_group_rows:
                out[f"score.psi/{metric_key(str(group))}"] = float(psi)
        features = self.drift.features
        overall = features[features["group"] == ALL]
        out |= {f"feature.psi/{f}": float(v) for f, v in zip(overall["feature"], overall["psi"], strict=True)}
        large = (features["rows"] >= min_group_rows) | (features["group"] == ALL)
        top = features[features["top"] & large]
        for group, psi in top.groupby("group")["psi"].max().items():
            name = "drift.top_feature_psi_max" + ("" if group == ALL else f"/{metric_key(str(group))}")
            out[name] = float(psi)
        for group, counts in self.tier_counts.items():
            total = sum(counts.values())
            if group != ALL and total < min_group_rows:
                continue
            suffix = "" if group == ALL else f"/{metric_key(group)}"
            for tier, n in counts.items():
                out[f"tier_share.{tier}{suffix}"] = n / total if total else math.nan
        out |= {f"expected.{k}": float(v) for k, v in self.expected.items()}
        out["status_level"] = float(LEVELS[self.status])
        out["findings"] = float(len(self.findings))
        return {
            k: v for k, v in out.items() if v is not None and not (isinstance(v, float) and math.isnan(v))
        }

    def summary(self) -> str:
        """The version tag's drift summary: one line, numbers and codes only."""
        s = self.drift.score
        score_psi = float(s.loc[s["group"] == ALL, "psi"].iloc[0]) if len(s) else math.nan
        top = self.drift.features.loc[self.drift.features["top"] & self.drift.features["judged"]]
        worst = top.sort_values("psi", ascending=False).head(1)
        text = f"{self.as_of[:7]} {self.status}: score PSI {score_psi:.3f}"
        if len(worst):
            w = worst.iloc[0]
            where = "" if w["group"] == ALL else f" in {w['group']}"
            text += f"; max top-feature PSI {float(w['psi']):.3f} ({w['feature']}{where})"
        if self.findings:
            text += f"; {len(self.findings)} finding(s): " + "; ".join(f.text for f in self.findings[:3])
        return text[:500]


@dataclass
class MonitorMonth:
    """Everything one month of monitoring found: what the report shows and the CLI prints."""

    as_of: str  # YYYY-MM-DD, the scoring date
    models: list[ModelMonth]  # the serving version first, then any shadow-scored challenger
    quality: Any = None  # monitoring.quality.QualityResult of the delivery month, when read
    visits: dict[str, float] = field(default_factory=dict)  # field-verified figures (``field.*``)
    # champion against challenger on every matured month both scored: as_of, champion,
    # challenger, champion_precision_at_k, challenger_precision_at_k, gain
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the serving version's logged figures over months: as_of, step, key, value
    history: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def serving(self) -> ModelMonth:
        return self.models[0]

    @property
    def status(self) -> str:
        return self.serving.status

"""The month's status from its drift, its matured outcomes and its data: green, amber or red.

Amber: the score's PSI, or any of the model's top features' PSI, reaches ``psi_amber``
overall or in a group large enough to judge; realised precision at capacity below its
expected band; observed falls outside their band (if so configured; else a watch finding).
Red: a PSI reaching ``psi_red``, a schema break in a delivery, or amber
``amber_months_to_red`` months running. Watch findings (another feature at ``psi_red``,
falls outside their band by default) are shown and logged but leave the status alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from monitoring.config import DriftRules
from monitoring.drift import Drift
from monitoring.reference import ALL

LEVELS = {"green": 0, "amber": 1, "red": 2}
# a finding shown and logged that does not change the status (e.g. a feature outside the top ones)
WATCH = "watch"
RANK = {WATCH: 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class Finding:
    """One reason for a status (what, where, how much), numbers and codes only."""

    level: str  # amber | red | watch
    # score_drift | feature_drift | precision_below_band | falls_outside_band | schema_break
    # | amber_running | data_quality
    kind: str
    subject: str  # the feature, the source, or "model"
    group: str
    value: float
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "kind": self.kind,
            "subject": self.subject,
            "group": self.group,
            "value": self.value,
            "text": self.text,
        }


def _level(value: float, rules: DriftRules) -> str | None:
    if value >= rules.psi_red:
        return "red"
    if value >= rules.psi_amber:
        return "amber"
    return None


def drift_findings(drift: Drift, rules: DriftRules) -> list[Finding]:
    """Score and top-feature PSI at or above the thresholds, in judged groups; any other
    feature at ``psi_red`` or more is a watch finding (shown, not judged)."""
    out: list[Finding] = []
    judged = drift.features["judged"]
    score = drift.score.loc[drift.score["judged"]]
    top = drift.features.loc[judged & drift.features["top"]]
    other = drift.features.loc[judged & ~drift.features["top"]]
    for table, kind in ((score, "score_drift"), (top, "feature_drift"), (other, "other_feature_drift")):
        # a few hundred rows: features x groups
        for name, group, value in zip(table["feature"], table["group"], table["psi"], strict=True):
            level = _level(float(value), rules) if pd.notna(value) else None
            if level is None or (kind == "other_feature_drift" and level != "red"):
                continue
            level = WATCH if kind == "other_feature_drift" else level
            where = "overall" if group == ALL else f"in {group}"
            suffix = " (not a top feature: not judged)" if level == WATCH else ""
            text = f"{name} PSI {value:.3f} {where}{suffix}"
            out.append(Finding(level, kind, str(name), str(group), float(value), text))
    return sorted(out, key=lambda f: (-RANK[f.level], -f.value))


def outcome_findings(realised: Mapping[str, float], month: str, rules: DriftRules) -> list[Finding]:
    """A matured month whose precision fell below its band, or whose falls left theirs."""
    out: list[Finding] = []
    precision, low = realised.get("realised.precision_at_k"), realised.get("realised.precision_band_low")
    if precision is not None and low is not None and pd.notna(precision) and precision < low:
        out.append(
            Finding(
                "amber",
                "precision_below_band",
                "model",
                ALL,
                float(precision),
                f"realised precision at capacity {precision:.3f} for {month} below its band (≥ {low:.3f})",
            )
        )
    observed = realised.get("realised.observed_falls")
    lo, hi = realised.get("realised.falls_band_low"), realised.get("realised.falls_band_high")
    known = observed is not None and lo is not None and hi is not None
    if known and not lo <= observed <= hi:  # type: ignore[operator]
        expected = realised.get("realised.expected_falls", float("nan"))
        text = f"{observed:.0f} falls observed for {month}, {expected:.0f} expected (band {lo:.0f}–{hi:.0f})"
        level = "amber" if rules.falls_outside_band_is_amber else WATCH
        out.append(Finding(level, "falls_outside_band", "model", ALL, float(observed or 0), text))
    return out


def status_of(
    findings: Sequence[Finding], previous: Sequence[str], rules: DriftRules
) -> tuple[str, list[Finding]]:
    """The month's status, and its findings with the amber-running one added when it applies.

    ``previous``: the statuses of the months before, latest last."""
    found = list(findings)
    status = max((f.level for f in found if f.level in LEVELS), key=LEVELS.__getitem__, default="green")
    run = rules.amber_months_to_red - 1
    if status == "amber" and run > 0 and len(previous) >= run and all(s != "green" for s in previous[-run:]):
        found.insert(
            0,
            Finding(
                "red",
                "amber_running",
                "model",
                ALL,
                float(rules.amber_months_to_red),
                f"amber {rules.amber_months_to_red} months running",
            ),
        )
        status = "red"
    return status, found

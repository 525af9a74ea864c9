"""The monthly HTML drift report: what a model owner reads, and nothing unsafe in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from monitoring.drift import Drift, measure_drift
from monitoring.month import ModelMonth, MonitorMonth, Realised
from monitoring.outcomes import expected_outcomes, realised_outcomes
from monitoring.reference import Reference, build_reference
from monitoring.report import render_report
from monitoring.rules import Finding

HOSTILE = "<script>alert(1)</script>"
FEATURES = [
    ("income_ratio", False),
    ("age", False),
    ("members", False),
    ("medical_cost", False),
    ("tenure", True),
]
TIER_SHARES = {"red": 0.02, "orange": 0.08, "yellow": 0.2}


def cohort(rng: np.random.Generator, n: int, shift: float = 0.0, as_of: str = "2024-01-01") -> pd.DataFrame:
    """Codes and numbers only; ``shift`` moves medical_cost (far) and income_ratio (a little)."""
    return pd.DataFrame(
        {
            "income_ratio": rng.normal(1.0 + 0.1 * shift, 0.3, n),
            "age": rng.integers(20, 90, n).astype(float),
            "members": rng.integers(1, 7, n).astype(float),
            "medical_cost": rng.lognormal(7 + shift, 1.0, n),
            "tenure": rng.integers(0, 4, n).astype(float),
            "county_code": rng.choice(["330502", "330503"], n),
            "urban": rng.random(n) < 0.4,
            "as_of": pd.Timestamp(as_of),
        }
    )


def risk_of(frame: pd.DataFrame) -> np.ndarray:
    z = -3 + 0.0002 * frame["medical_cost"].clip(upper=20_000) - 1.0 * frame["income_ratio"]
    return np.asarray(1 / (1 + np.exp(-z)))


def reference_of(frame: pd.DataFrame, version: str = "7") -> Reference:
    return build_reference(
        frame,
        risk_of(frame),
        FEATURES,
        model_version=version,
        group_columns=["county_code", "urban"],
        importance=["medical_cost", "income_ratio", "age"],
        tier_shares=TIER_SHARES,
    )


def drift_of(reference: Reference, frame: pd.DataFrame) -> Drift:
    return measure_drift(reference, frame, risk_of(frame), ["county_code", "urban"], 1_000, 3)


@dataclass
class QualityFinding:
    severity: str
    kind: str
    source: str
    text: str


@dataclass
class Quality:
    status: str
    findings: list[QualityFinding] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


@pytest.fixture(scope="module")
def parts() -> tuple[Reference, pd.DataFrame, Drift]:
    rng = np.random.default_rng(15)
    reference = reference_of(cohort(rng, 5_000))
    month = cohort(rng, 5_000, shift=1.0, as_of="2025-03-01")
    return reference, month, drift_of(reference, month)


def model_month(drift: Drift, frame: pd.DataFrame, version: str = "7", role: str = "serving") -> ModelMonth:
    risk = risk_of(frame)
    realised_frame = frame.assign(risk=risk, label=np.random.default_rng(1).random(len(frame)) < risk)
    metrics, groups = realised_outcomes(realised_frame, 200, ["county_code", "urban"], 2.0, 0.15)
    return ModelMonth(
        version=version,
        role=role,
        as_of="2025-03-01",
        step=5,
        drift=drift,
        expected=expected_outcomes(risk, 200),
        tier_counts={"all": {"red": 100, "orange": 400, "yellow": 1000, "blue": 3500}},
        status="red",
        findings=[
            Finding("red", "feature_drift", "medical_cost", "all", 1.2, "medical_cost PSI 1.200 overall")
        ],
        realised=Realised("2024-12-01", version, 2, metrics, groups),
    )


def render(month: MonitorMonth, reference: Reference | None = None, **kwargs: object) -> str:
    bins = None if reference is None else reference.bins
    return render_report(month, model_name="lowinc-risk", bins=bins, **kwargs)  # type: ignore[arg-type]


class Collect(HTMLParser):
    """Tags seen, and the cells of every table row (by table id of the enclosing section)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.section = ""
        self.rows: dict[str, list[list[str]]] = {}
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "section":
            self.section = dict(attrs).get("id") or ""
        elif tag == "tr":
            self.rows.setdefault(self.section, []).append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[self.section][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> Collect:
    c = Collect()
    c.feed(page)
    c.close()
    return c


def test_the_report_names_the_version_month_status_and_findings(
    parts: tuple[Reference, pd.DataFrame, Drift],
) -> None:
    reference, frame, drift = parts
    page = render(MonitorMonth("2025-03-01", [model_month(drift, frame)]), reference)
    doc = parse(page)
    assert doc.tags[0] == "html" and "svg" in doc.tags
    assert "7 (serving)" in page
    assert "2025-03" in page
    assert re.search(r'<span class="badge red" id="status">red</span>', page)
    assert "medical_cost PSI 1.200 overall" in page


def test_the_most_shifted_feature_heads_the_features_table(
    parts: tuple[Reference, pd.DataFrame, Drift],
) -> None:
    reference, frame, drift = parts
    doc = parse(render(MonitorMonth("2025-03-01", [model_month(drift, frame)]), reference))
    header, first, *rest = doc.rows["features"]
    assert header[0] == "feature" and first[0] == "medical_cost"
    psi = [float(r[2]) for r in [first, *rest]]
    assert psi == sorted(psi, reverse=True) and psi[0] > 0.25
    assert first[7] == "yes"  # one of the model's top features


def test_top_n_limits_the_features_table(parts: tuple[Reference, pd.DataFrame, Drift]) -> None:
    reference, frame, drift = parts
    doc = parse(render(MonitorMonth("2025-03-01", [model_month(drift, frame)]), reference, top_n=2))
    assert len(doc.rows["features"]) == 1 + 2


def test_groups_are_judged_or_too_small_and_bins_are_labelled(
    parts: tuple[Reference, pd.DataFrame, Drift],
) -> None:
    reference, frame, _ = parts
    small = drift_of(
        reference, frame.assign(county_code=np.where(np.arange(len(frame)) < 300, "330599", "330502"))
    )
    page = render(MonitorMonth("2025-03-01", [model_month(small, frame)]), reference)
    groups = {row[0]: row for row in parse(page).rows["groups"][1:]}
    assert groups["county_code=330502"][-1] == "judged"
    assert groups["county_code=330599"][-1].startswith("new group")
    assert "missing" in page and "≤ " in page  # Bins.labels() of the reference


def test_a_hostile_name_is_escaped_and_nothing_executes_or_calls_out(
    parts: tuple[Reference, pd.DataFrame, Drift],
) -> None:
    _, frame, _ = parts
    hostile = frame.rename(columns={"age": HOSTILE}).assign(county_code=HOSTILE)
    ref = reference_of(hostile.assign(as_of=pd.Timestamp("2024-01-01")))
    drift = drift_of(ref, hostile)
    month = MonitorMonth(
        "2025-03-01",
        [model_month(drift, hostile)],
        quality=Quality(
            "fail", [QualityFinding("error", "schema_break", HOSTILE, HOSTILE)], pd.DataFrame({HOSTILE: [1]})
        ),
        visits={"field.visited": 40.0, "field.confirmed": 12.0, "field.precision": 0.3},
    )
    page = render_report(month, model_name=HOSTILE, bins=ref.bins)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert not re.search(r"https?://", page)
    assert "script" not in parse(page).tags


def test_outcomes_field_challenger_and_quality_are_shown(
    parts: tuple[Reference, pd.DataFrame, Drift],
) -> None:
    reference, frame, drift = parts
    serving = model_month(drift, frame)
    shadow = model_month(drift, frame, version="8", role="shadow")
    shadow.expected = {**shadow.expected, "expected_precision_at_k": 0.555}
    comparison = pd.DataFrame(
        {
            "as_of": ["2024-12-01"],
            "champion": ["7"],
            "challenger": ["8"],
            "champion_precision_at_k": [0.31],
            "challenger_precision_at_k": [0.36],
            "gain": [0.05],
        }
    )
    month = MonitorMonth(
        "2025-03-01",
        [serving, shadow],
        quality=Quality("warn", [QualityFinding("warning", "late", "medical", "delivered 3 days late")]),
        visits={"field.visited": 40.0, "field.confirmed": 12.0, "field.precision": 0.3},
        comparison=comparison,
    )
    doc = parse(render(month, reference))
    outcomes = {row[0]: row for row in doc.rows["outcomes"]}
    assert float(outcomes["expected falls"][1].replace(",", "")) == pytest.approx(
        serving.expected["expected_falls"], abs=0.1
    )
    assert "precision at capacity" in outcomes and "calibration slope" in outcomes
    assert {"county_code=330502", "urban=1"} <= set(outcomes)  # realised group table
    assert ["field.visited", "40"] in doc.rows["field"] and ["field.precision", "0.300"] in doc.rows["field"]
    challenger = doc.rows["challenger"]
    assert [r[:2] for r in challenger[1:3]] == [["7", "serving"], ["8", "shadow"]]
    assert (
        challenger[1][5] == f"{serving.expected['expected_precision_at_k']:.3f}"
        and challenger[2][5] == "0.555"
    )
    assert ["2024-12-01", "7", "8", "0.310", "0.360", "0.050"] in challenger
    assert ["warning", "late", "medical", "delivered 3 days late"] in doc.rows["quality"]


def test_a_low_recall_ratio_is_flagged(parts: tuple[Reference, pd.DataFrame, Drift]) -> None:
    reference, frame, drift = parts
    serving = model_month(drift, frame)
    assert serving.realised is not None
    groups = serving.realised.groups.copy()
    groups.loc[0, "recall_ratio"] = 0.5
    serving.realised.groups = groups
    doc = parse(render(MonitorMonth("2025-03-01", [serving]), reference))
    flagged = [r for r in doc.rows["outcomes"] if r and r[-1] == "below 0.8"]
    assert [r[0] for r in flagged] == [groups.loc[0, "group_name"]]


def test_a_month_without_maturity_visits_quality_or_bins_still_renders(
    parts: tuple[Reference, pd.DataFrame, Drift],
) -> None:
    _, frame, drift = parts
    bare = model_month(drift, frame)
    bare.realised, bare.findings, bare.status = None, [], "green"
    page = render(MonitorMonth("2025-03-01", [bare]))
    assert "No month has matured yet" in page
    assert "No field visits" in page and "No data-quality result" in page
    assert "bin 1" in page  # no reference bins given: numbered
    partial = render(MonitorMonth("2025-03-01", [bare], quality=SimpleNamespace(status="ok")))
    assert (
        re.search(r'<span class="badge green">ok</span>', partial) and "No data-quality findings" in partial
    )
    assert re.search(r'<span class="badge green" id="status">green</span>', page)

"""The monthly drift report: one self-contained HTML page per model version and month (issue 15).

Pure: a ``MonitorMonth`` in, a string out; the pipeline logs it as an MLflow artifact. Inline
CSS and inline SVG bars, no JavaScript and no external URL. Every text passes Jinja2's
autoescape (the inputs hold division codes and numbers only, never personal data, but a code
is still text from a delivery). Python here turns the month's tables into rows of formatted
cells and bar geometry; ``templates/report.html.j2`` lays them out.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from monitoring.bins import Bins
from monitoring.drift import Drift
from monitoring.month import ModelMonth, MonitorMonth, Realised
from monitoring.reference import ALL, SCORE, TIERS

TEMPLATE = "report.html.j2"
CHART_FEATURES = 6  # bin charts drawn: the features of highest PSI overall
RECALL_RATIO_FLOOR = 0.8  # a group whose falls are found less often than this share is flagged
QUALITY_ROWS = 200  # rows of the data-quality table shown
STATUSES = ("green", "amber", "red")


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, a CSS class (``num``, ``amber``, ``red``, ``flag``) and, for a
    status, the colour of the badge it shows in (green, amber, red, unknown)."""

    text: str
    cls: str = ""
    badge: str = ""


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Shape:
    """An SVG rectangle or text of a bin chart (coordinates in px)."""

    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    cls: str = ""
    text: str = ""
    anchor: str = "start"


@dataclass(frozen=True)
class Chart:
    title: str
    psi: Cell
    width: int
    height: int
    bars: list[Shape] = field(default_factory=list)
    texts: list[Shape] = field(default_factory=list)


def fmt(value: object, digits: int = 3) -> str:
    """A number as the report shows it; missing and NaN as a dash."""
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "—"
        if v.is_integer() and abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}f}"
    if value is pd.NA or value is pd.NaT:
        return "—"
    return str(value)


def count_or_ratio(value: object) -> str:
    """A field figure: a count without decimals, a ratio with three."""
    v = _float(value)
    return fmt(int(v)) if math.isfinite(v) and v.is_integer() else fmt(v)


def pct(value: object) -> str:
    v = _float(value)
    return "—" if math.isnan(v) else f"{100 * v:.1f}%"


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def level_of(value: object, amber: float, red: float) -> str:
    """``red``, ``amber`` or ``""`` for a PSI against the thresholds."""
    v = _float(value)
    if math.isnan(v):
        return ""
    return "red" if v >= red else "amber" if v >= amber else ""


def psi_cell(value: object, amber: float, red: float) -> Cell:
    return Cell(fmt(value), f"num {level_of(value, amber, red)}".strip())


def num(value: object, digits: int = 3) -> Cell:
    return Cell(fmt(value, digits), "num")


def frame_table(frame: pd.DataFrame, limit: int | None = None) -> Table:
    """Any small frame as a table (numbers right-aligned)."""
    shown = frame if limit is None else frame.head(limit)
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
    rows = [
        [Cell(fmt(v), "num" if isnum else "") for v, isnum in zip(row, numeric, strict=True)]
        for row in shown.itertuples(index=False, name=None)  # a few dozen rows at most
    ]
    return Table([str(c) for c in shown.columns], rows)


def _judgement(judged: object, new_group: object) -> str:
    if bool(new_group):
        return "new group: not in the reference"
    return "judged" if bool(judged) else "too small to judge"


def score_table(drift: Drift, amber: float, red: float) -> Table:
    """The calibrated score's PSI and JS overall and in every group."""
    s = drift.score
    rows = [
        [
            Cell(str(g)),
            num(r),
            num(rr),
            psi_cell(p, amber, red),
            num(j),
            Cell("overall" if g == ALL else _judgement(jd, ng)),
        ]
        for g, r, rr, p, j, jd, ng in zip(
            s["group"],
            s["rows"],
            s["reference_rows"],
            s["psi"],
            s["js"],
            s["judged"],
            s["new_group"],
            strict=True,
        )
    ]
    return Table(["group", "rows", "reference rows", "PSI", "JS", "judged"], rows)


def tier_table(drift: Drift) -> Table:
    """Share of each group in each tier (by rank, as tiers are cut): reference → this month."""
    t = drift.tiers
    if t.empty:
        return Table(["group"], [])
    ref = t.pivot_table(index="group", columns="tier", values="reference_share", sort=False, dropna=False)
    now = t.pivot_table(index="group", columns="tier", values="share", sort=False, dropna=False)
    tiers = [x for x in TIERS if x in now.columns]
    rows = []
    for group in now.index:
        cells = [Cell(str(group))]
        for tier in tiers:
            r, c = _float(ref.at[group, tier]), _float(now.at[group, tier])
            moved = not math.isnan(r) and abs(c - r) >= 0.05
            cells.append(Cell(f"{pct(r)} → {pct(c)}", "num amber" if moved else "num"))
        rows.append(cells)
    return Table(["group", *[f"{x} (reference → month)" for x in tiers]], rows)


def worst_groups(features: pd.DataFrame) -> pd.DataFrame:
    """The judged group of highest PSI for every feature (index: feature; group, psi)."""
    judged = features[(features["group"] != ALL) & features["judged"] & features["psi"].notna()]
    worst = judged.sort_values("psi", ascending=False).drop_duplicates("feature")
    return worst.set_index("feature")[["group", "psi"]]


def ranked_features(drift: Drift) -> pd.DataFrame:
    """Features overall, highest PSI first, with their means and worst group."""
    f = drift.features
    overall = f[f["group"] == ALL].set_index("feature")[["kind", "psi", "js", "top"]]
    means = drift.means.set_index("feature")[["reference_mean", "mean", "missing_share"]]
    worst = worst_groups(f).rename(columns={"group": "worst_group", "psi": "worst_psi"})
    table = overall.join(means, how="left").join(worst, how="left")
    return table.sort_values("psi", ascending=False, na_position="last", kind="stable")


def feature_table(drift: Drift, top_n: int, amber: float, red: float) -> Table:
    ranked = ranked_features(drift).head(top_n)
    rows = [
        [
            Cell(str(name)),
            Cell(str(r["kind"])),
            psi_cell(r["psi"], amber, red),
            num(r["js"]),
            num(r["reference_mean"]),
            num(r["mean"]),
            Cell(pct(r["missing_share"]), "num"),
            Cell("yes" if bool(r["top"]) else "", "top" if bool(r["top"]) else ""),
            Cell("—" if pd.isna(r["worst_group"]) else f"{r['worst_group']} ({fmt(r['worst_psi'])})"),
        ]
        for name, r in ranked.iterrows()  # top_n rows
    ]
    columns = [
        "feature",
        "kind",
        "PSI",
        "JS",
        "reference mean",
        "month mean",
        "missing",
        "top",
        "worst group",
    ]
    return Table(columns, rows)


def group_table(drift: Drift, amber: float, red: float) -> Table:
    """Every county and urban/rural group: rows, score PSI, max top-feature PSI, judged or not."""
    s = drift.score[drift.score["group"] != ALL]
    f = drift.features
    top_max = f[f["top"] & (f["group"] != ALL)].groupby("group")["psi"].max()
    rows = [
        [
            Cell(str(g)),
            num(r),
            psi_cell(p, amber, red),
            psi_cell(top_max.get(g, math.nan), amber, red),
            Cell(_judgement(jd, ng), "" if bool(jd) and not bool(ng) else "muted"),
        ]
        for g, r, p, jd, ng in zip(s["group"], s["rows"], s["psi"], s["judged"], s["new_group"], strict=True)
    ]
    return Table(["group", "rows", "score PSI", "max top-feature PSI", "judged"], rows)


def bin_labels(name: str, size: int, bins: Mapping[str, Bins] | None) -> list[str]:
    """The bins' labels from the reference when given (and matching), else numbers."""
    if bins is not None and name in bins:
        labels = bins[name].labels()
        if len(labels) == size:
            return labels
    return [f"bin {i + 1}" for i in range(size - 1)] + ["missing"]


def bin_chart(
    name: str,
    shares: tuple[Sequence[float], Sequence[float]],
    psi: float,
    labels: list[str],
    amber: float,
    red: float,
) -> Chart:
    """Reference (grey) and month (blue) share of every bin as horizontal bar pairs."""
    ref, now = np.asarray(shares[0], dtype="float64"), np.asarray(shares[1], dtype="float64")
    label_w, bar_w, value_w, row_h, top = 120, 240, 110, 20, 18
    scale = bar_w / max(float(np.nanmax(np.concatenate([ref, now, [1e-9]]))), 1e-9)
    bars: list[Shape] = []
    texts = [
        Shape(label_w, 12, cls="legend-ref", text="■ reference"),
        Shape(label_w + 90, 12, cls="legend-now", text="■ month"),
    ]
    for i, (label, r, c) in enumerate(zip(labels, ref, now, strict=True)):
        y = top + i * row_h
        bars.append(Shape(label_w, y + 2, round(float(r) * scale, 1), 7, "ref"))
        bars.append(Shape(label_w, y + 10, round(float(c) * scale, 1), 7, "now"))
        texts.append(Shape(label_w - 6, y + 14, text=label[:24], anchor="end"))
        texts.append(Shape(label_w + bar_w + 6, y + 14, text=f"{pct(r)} → {pct(c)}"))
    height = top + len(labels) * row_h + 4
    return Chart(name, psi_cell(psi, amber, red), label_w + bar_w + value_w, height, bars, texts)


def bin_charts(
    drift: Drift, bins: Mapping[str, Bins] | None, amber: float, red: float, n: int = CHART_FEATURES
) -> list[Chart]:
    names = [str(x) for x in ranked_features(drift).index[:n] if x in drift.shares]
    out = []
    for name in names:
        shares = drift.shares[name]
        out.append(
            bin_chart(name, shares, drift.overall(name), bin_labels(name, len(shares[0]), bins), amber, red)
        )
    return out


def score_chart(drift: Drift, bins: Mapping[str, Bins] | None, amber: float, red: float) -> Chart | None:
    if SCORE not in drift.shares:
        return None
    shares = drift.shares[SCORE]
    labels = bin_labels(SCORE, len(shares[0]), bins)
    return bin_chart("calibrated score", shares, drift.overall(SCORE), labels, amber, red)


def expected_table(model: ModelMonth) -> Table:
    e = model.expected
    rows = [
        [Cell("cohort households"), num(e.get("cohort"), 0), Cell("")],
        [
            Cell("expected falls"),
            num(e.get("expected_falls"), 1),
            Cell(f"± {fmt(e.get('expected_falls_sd'), 1)} (sd)"),
        ],
        [Cell("expected fall rate"), Cell(pct(e.get("expected_rate")), "num"), Cell("")],
        [
            Cell("expected precision at capacity"),
            num(e.get("expected_precision_at_k")),
            Cell(f"± {fmt(e.get('expected_precision_at_k_se'))} (se)"),
        ],
    ]
    return Table(["figure", "value", "uncertainty"], rows)


def realised_table(realised: Realised) -> Table:
    m = realised.metrics

    def get(key: str) -> float:
        return _float(m.get(f"realised.{key}"))

    precision, low = get("precision_at_k"), get("precision_band_low")
    observed, lo, hi = get("observed_falls"), get("falls_band_low"), get("falls_band_high")
    below = not math.isnan(precision) and not math.isnan(low) and precision < low
    outside = not any(math.isnan(v) for v in (observed, lo, hi)) and not lo <= observed <= hi
    rows = [
        [
            Cell("precision at capacity"),
            Cell(fmt(precision), "num red" if below else "num"),
            Cell(f"expected {fmt(get('expected_precision_at_k'))}, band ≥ {fmt(low)}"),
            Cell("below band" if below else "", "flag" if below else ""),
        ],
        [Cell("recall at capacity"), num(get("recall_at_k")), Cell(""), Cell("")],
        [
            Cell("falls observed"),
            Cell(fmt(observed, 0), "num red" if outside else "num"),
            Cell(f"expected {fmt(get('expected_falls'), 1)}, band {fmt(lo, 1)}–{fmt(hi, 1)}"),
            Cell("outside band" if outside else "", "flag" if outside else ""),
        ],
        [
            Cell("observed ÷ expected falls"),
            num(get("observed_to_expected")),
            Cell("1 when calibrated"),
            Cell(""),
        ],
        [Cell("ROC-AUC"), num(get("roc_auc")), Cell(""), Cell("")],
        [Cell("PR-AUC"), num(get("pr_auc")), Cell(""), Cell("")],
        [Cell("Brier score"), num(get("brier"), 4), Cell("lower is better"), Cell("")],
        [Cell("calibration slope"), num(get("calibration_slope")), Cell("1 when calibrated"), Cell("")],
        [
            Cell("calibration intercept"),
            num(get("calibration_intercept")),
            Cell("0 when calibrated"),
            Cell(""),
        ],
    ]
    return Table(["figure", "value", "against", "flag"], rows)


def realised_group_table(groups: pd.DataFrame) -> Table:
    """Recall at capacity per group and its ratio to the region's; a ratio below 0.8 is flagged."""
    if groups.empty:
        return Table([], [])
    name = groups["group_name"] if "group_name" in groups else groups["group"].astype(str)
    rows = []
    for i in range(len(groups)):  # one row per county and urban/rural value: a few dozen
        g = groups.iloc[i]
        ratio = _float(g.get("recall_ratio"))
        low = not math.isnan(ratio) and ratio < RECALL_RATIO_FLOOR
        rows.append(
            [
                Cell(str(name.iloc[i])),
                num(g.get("rows")),
                num(g.get("positives"), 0),
                num(g.get("selected"), 1),
                num(g.get("recall_at_k")),
                num(g.get("precision_at_k")),
                Cell(fmt(ratio), "num red" if low else "num"),
                Cell(f"below {RECALL_RATIO_FLOOR}" if low else "", "flag" if low else ""),
            ]
        )
    columns = [
        "group",
        "rows",
        "falls",
        "visits (expected)",
        "recall at k",
        "precision at k",
        "recall ratio",
        "flag",
    ]
    return Table(columns, rows)


def model_side_by_side(models: Sequence[ModelMonth], amber: float, red: float) -> Table:
    """The serving version and any shadow-scored challenger, this month, side by side."""
    rows = []
    for m in models:
        f = m.drift.features
        top = f[f["top"] & (f["group"] == ALL)]["psi"]
        precision = m.realised.metrics.get("realised.precision_at_k") if m.realised else None
        rows.append(
            [
                Cell(str(m.version)),
                Cell(str(m.role)),
                Cell(str(m.status), badge=status_class(m.status)),
                psi_cell(m.drift.overall(SCORE), amber, red),
                psi_cell(top.max() if len(top) else math.nan, amber, red),
                num(m.expected.get("expected_precision_at_k")),
                num(m.expected.get("expected_falls"), 1),
                num(precision),
            ]
        )
    columns = [
        "version", "role", "status", "score PSI", "max top-feature PSI (overall)",
        "expected precision at k", "expected falls", "realised precision at k (matured month)",
    ]  # fmt: skip
    return Table(columns, rows)


def status_class(status: object) -> str:
    return str(status) if status in STATUSES else "unknown"


QUALITY_CLASSES = {
    "ok": "green", "pass": "green", "passed": "green", "green": "green", "info": "green",
    "warn": "amber", "warning": "amber", "amber": "amber",
    "fail": "red", "failed": "red", "error": "red", "break": "red", "red": "red", "critical": "red",
}  # fmt: skip


def quality_class(word: object) -> str:
    """A data-quality status or severity as a badge colour (unknown words grey)."""
    return QUALITY_CLASSES.get(str(word).lower(), "unknown")


@dataclass(frozen=True)
class Quality:
    status: str
    status_cls: str
    findings: list[list[Cell]]
    table: Table | None
    truncated: bool


def quality_view(quality: Any) -> Quality | None:
    """The delivery's data-quality result, read defensively (any object with the attributes)."""
    if quality is None:
        return None
    status = str(getattr(quality, "status", "unknown"))
    findings = [
        [
            Cell(str(getattr(f, "severity", "")), badge=quality_class(getattr(f, "severity", ""))),
            Cell(str(getattr(f, "kind", ""))),
            Cell(str(getattr(f, "source", ""))),
            Cell(str(getattr(f, "text", ""))),
        ]
        for f in (getattr(quality, "findings", None) or [])
    ]
    frame = getattr(quality, "table", None)
    table = (
        frame_table(frame, QUALITY_ROWS) if isinstance(frame, pd.DataFrame) and len(frame.columns) else None
    )
    truncated = isinstance(frame, pd.DataFrame) and len(frame) > QUALITY_ROWS
    return Quality(status, quality_class(status), findings, table, truncated)


def versions_line(models: Sequence[ModelMonth]) -> str:
    return ", ".join(f"{m.version} ({m.role})" for m in models)


@functools.cache
def _template() -> Template:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


def render_report(
    month: MonitorMonth,
    *,
    model_name: str,
    top_n: int = 25,
    bins: Mapping[str, Bins] | None = None,
    amber: float = 0.10,
    red: float = 0.25,
) -> str:
    """The month's HTML report for the model owner (the serving version first, then any challenger).

    ``bins``: the serving version's reference bins, to label the bin charts (numbered without);
    ``amber``/``red``: the PSI thresholds that colour the tables (monitoring.rules)."""
    serving = month.serving
    drift = serving.drift
    realised = serving.realised
    return _template().render(
        title=f"{model_name} monitoring {month.as_of[:7]}",
        model_name=model_name,
        versions=versions_line(month.models),
        as_of=month.as_of,
        month_label=month.as_of[:7],
        status=str(month.status),
        status_cls=status_class(month.status),
        findings=[(status_class(f.level), f.level, f.text) for f in serving.findings],
        amber=fmt(amber, 2),
        red=fmt(red, 2),
        score=score_table(drift, amber, red),
        score_chart=score_chart(drift, bins, amber, red),
        tiers=tier_table(drift),
        features=feature_table(drift, top_n, amber, red),
        n_features=int((drift.features["group"] == ALL).sum()),
        top_n=top_n,
        groups=group_table(drift, amber, red),
        charts=bin_charts(drift, bins, amber, red),
        expected=expected_table(serving),
        realised=None if realised is None else realised_table(realised),
        realised_month=None if realised is None else realised.as_of[:7],
        realised_version=None if realised is None else str(realised.version),
        realised_findings=[] if realised is None else [f.text for f in realised.findings],
        realised_groups=None if realised is None else realised_group_table(realised.groups),
        visits=[(str(k), count_or_ratio(v)) for k, v in sorted(month.visits.items())],
        comparison=frame_table(month.comparison) if len(month.comparison.columns) else None,
        models=model_side_by_side(month.models, amber, red),
        has_challenger=len(month.models) > 1,
        quality=quality_view(month.quality),
    )

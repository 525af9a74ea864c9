"""Data quality of one delivery month, judged from the ingest reports (issue 15).

Pure: month reports in, a :class:`QualityResult` out (flat MLflow-safe metrics, findings,
a status, a per-source table). ``lowinc monitor --as-of T`` assesses delivery month T-1
against the (up to) 12 months delivered before it.

What is judged, per source:

- **quarantine share**: quarantined rows / rows read (as ``ingest.notice_quarantine_share``:
  strictly above the threshold); amber above ``quarantine_share_amber``, red above
  ``quarantine_share_red``, with the most frequent failure kinds named;
- **rejected files** (amber) and **missing files** (amber); a source that delivered none of
  its files is a schema break (red);
- **vanished columns**: a file rejected because a required column is missing, or an
  optional column missing now that earlier months of the table delivered: a schema break (red);
- **new columns**: columns the reader did not recognise and earlier months of the table did
  not have (amber, not a break: they are kept aside, nothing is lost);
- **row counts**: rows read that are not duplicates (of the tables ingested this month)
  against the median of the same tables over the history; judged only with at least
  ``min_history_months`` months of history and a median of at least ``min_median_rows``
  (a source of a handful of rows a month varies by chance); amber outside
  ``row_ratio_amber``, red outside ``row_ratio_red``;
- **late files**: a table that was missing when its month was first assessed and is ingested
  now (amber): scores made in between lacked it. The first assessment of each month is kept
  as a :func:`first_seen_record` (monitoring.quality_state stores it).

Texts name sources, files, column headers, counts and failure kinds only, never a delivered
value, and pass through :func:`ingest.notice.safe_reason` (one line, ID-like digits blanked).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ingest.notice import safe_reason
from ingest.report import FileReport, MonthReport
from lowinc.section import Section

Severity = Literal["amber", "red"]
Status = Literal["green", "amber", "red"]

MAX_TEXT = 200
TOP_REASONS = 3
# how ingest words a column that is not there (ingest/readers.py map_headers)
_REQUIRED_MISSING = re.compile(r"required column (.+?) \((\w+)\) is missing")
_OPTIONAL_MISSING = re.compile(r"optional column (.+?) \((\w+)\) is missing")
_REQUIRED_KIND = "missing_required_column:"
_METRIC_UNSAFE = re.compile(r"[^0-9A-Za-z_\-. /]")
_HINTS = {
    "quarantine_share": "see the month's quarantine for the failing rows; ask the department to fix them",
    "rejected_file": "fix the file (or the source config) and re-deliver it, then run lowinc ingest --month",
    "missing_file": "ask the department for the file, then run lowinc ingest --month",
    "late_file": "scores made before it arrived lacked it; re-score if it matters",
    "new_columns": "add the column to configs/sources if it is wanted (it is kept aside meanwhile)",
    "vanished_columns": "ask the department to restore the column (or update configs/sources)",
    "row_count": "check that the department's extract is complete",
    "schema_break": "ask the department to deliver the source's files, then run lowinc ingest --month",
}


class QualityConfig(Section):
    """Thresholds of the data-quality check (``lowinc monitor``)."""

    # a source whose quarantined rows are more than this share of its rows read is amber
    # (the same share and semantics as ingest.notice_quarantine_share), more than red: red
    quarantine_share_amber: float = Field(default=0.02, ge=0, le=1)
    quarantine_share_red: float = Field(default=0.10, ge=0, le=1)
    # a source's rows against the median of its history: outside amber is amber, outside red red
    row_ratio_amber: tuple[float, float] = (0.8, 1.25)
    row_ratio_red: tuple[float, float] = (0.5, 2.0)
    # fewer months of history, or a smaller median: row counts are reported, not judged
    min_history_months: int = Field(default=3, ge=1)
    min_median_rows: int = Field(default=100, ge=0)
    history_months: int = Field(default=12, ge=1)  # months before the assessed one compared

    @model_validator(mode="after")
    def _ordered(self) -> QualityConfig:
        if self.quarantine_share_red < self.quarantine_share_amber:
            raise ValueError("quarantine_share_red must be at least quarantine_share_amber")
        (alo, ahi), (rlo, rhi) = self.row_ratio_amber, self.row_ratio_red
        if not (0 <= rlo <= alo <= 1 <= ahi <= rhi):
            raise ValueError("row ratios must nest: 0 <= red low <= amber low <= 1 <= amber high <= red high")
        return self


@dataclass(frozen=True)
class QualityFinding:
    """One thing wrong with a delivery month; ``text`` is one line, safe to send."""

    kind: str  # quarantine_share | rejected_file | missing_file | late_file | new_columns |
    #            vanished_columns | row_count | schema_break
    source: str
    severity: Severity
    text: str


@dataclass
class QualityResult:
    """The data quality of one delivery month."""

    month: str
    metrics: dict[str, float]
    findings: list[QualityFinding]
    schema_break: bool
    status: Status
    table: pd.DataFrame = field(repr=False)  # one row per source


def metric_name(*parts: str) -> str:
    """``quality.<part>.<part>``, with anything MLflow does not accept in a key replaced."""
    return ".".join(["quality", *(_METRIC_UNSAFE.sub("_", p) for p in parts)])


def _finding(kind: str, source: str, severity: Severity, text: str) -> QualityFinding:
    return QualityFinding(kind, source, severity, safe_reason(text, MAX_TEXT))


def _files(reports: Sequence[MonthReport]) -> pd.DataFrame:
    """One row per file report of the given months (a month has tens of files)."""
    rows = [
        {
            "month": r.month,
            "source": f.source,
            "table": f.table,
            "file": f.file,
            "status": f.status,
            "rows_in": f.rows_in,
            "rows": f.accepted + f.quarantined,  # rows read that are not duplicates
            "quarantined": f.quarantined,
        }
        for r in reports
        for f in r.files
    ]
    columns = ["month", "source", "table", "file", "status", "rows_in", "rows", "quarantined"]
    return pd.DataFrame(rows, columns=columns)


def _table_status(files: Sequence[FileReport]) -> dict[str, str]:
    """``source/table`` → ingested (a file of it was read), rejected (files came, none read)
    or missing."""
    out: dict[str, str] = {}
    rank = {"missing": 0, "rejected": 1, "ingested": 2}
    for f in files:
        key = f"{f.source}/{f.table}"
        if key not in out or rank.get(f.status, 0) > rank.get(out[key], 0):
            out[key] = f.status
    return out


def first_seen_record(report: MonthReport) -> dict[str, str]:
    """What a month looked like when it was first assessed: ``source/table`` → status
    (ingested | rejected | missing). Keyed by table, not file: a missing file is reported
    under its pattern (``户籍变动*.csv``), the file delivered later under its name."""
    return _table_status(report.files)


def late_files(
    reports: Sequence[MonthReport], first_seen: Mapping[str, Mapping[str, str]] | None
) -> list[QualityFinding]:
    """Tables of the given months that were missing at their month's first assessment and
    are ingested now (amber). :func:`assess_quality` looks at the assessed month and its
    history, so a late table is reported in every assessment whose window holds its month."""
    out = []
    for report in reports:
        before = (first_seen or {}).get(report.month, {})
        now = _table_status(report.files)
        for key, status in sorted(now.items()):
            if status == "ingested" and before.get(key) == "missing":
                source, table = key.split("/", 1)
                names = ", ".join(f.file for f in report.files if f.table == table and f.status == "ingested")
                out.append(
                    _finding(
                        "late_file",
                        source,
                        "amber",
                        f"{report.month} {source}/{names}: delivered late (missing when "
                        f"{report.month} was first assessed)",
                    )
                )
    return out


def _failures_by_kind(report: MonthReport) -> dict[str, Counter[str]]:
    """source → quarantine failures per kind (a row may fail more than one check)."""
    out: dict[str, Counter[str]] = {}
    for f in report.files:
        out.setdefault(f.source, Counter()).update(f.quarantined_by_reason)
    return out


def _quarantine(current: MonthReport, cfg: QualityConfig) -> tuple[pd.DataFrame, list[QualityFinding]]:
    """Per source: rows read, quarantined, share, failures per kind; findings above amber."""
    files = _files([current])
    per = files.groupby("source")[["rows_in", "quarantined"]].sum()
    per["share"] = (per["quarantined"] / per["rows_in"].where(per["rows_in"] > 0)).fillna(0.0)
    by_kind = _failures_by_kind(current)
    top = {
        source: ", ".join(
            f"{k} {n:,}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
        )
        for source, kinds in by_kind.items()
    }
    per["top_reasons"] = pd.Series(top, dtype="str").reindex(per.index).fillna("")
    findings = []
    for source, row in per[per["share"] > cfg.quarantine_share_amber].iterrows():
        severity: Severity = "red" if row["share"] > cfg.quarantine_share_red else "amber"
        findings.append(
            _finding(
                "quarantine_share",
                str(source),
                severity,
                f"{current.month} {source}: {row['share']:.1%} of rows quarantined "
                f"({int(row['quarantined']):,} of {int(row['rows_in']):,}; failures: {row['top_reasons']})",
            )
        )
    return per, findings


def _files_findings(current: MonthReport) -> tuple[list[QualityFinding], set[str]]:
    """Rejected and missing files; a rejected file whose required column is missing is a
    vanished column; a source that delivered none of its files is a schema break."""
    findings = []
    broken: set[str] = set()
    for f in current.files:
        where = f"{current.month} {f.source}/{f.file}"
        if f.status == "rejected" and f.message.startswith(_REQUIRED_KIND):
            found = _REQUIRED_MISSING.search(f.message)
            what = f"required column {found.group(1)} ({found.group(2)})" if found else "required columns"
            findings.append(
                _finding("vanished_columns", f.source, "red", f"{where}: rejected, {what} is missing")
            )
            broken.add(f.source)
        elif f.status == "rejected":
            findings.append(_finding("rejected_file", f.source, "amber", f"{where}: rejected: {f.message}"))
        elif f.status == "missing":
            findings.append(_finding("missing_file", f.source, "amber", f"{where}: not delivered"))
    by_source: dict[str, set[str]] = {}
    for f in current.files:
        by_source.setdefault(f.source, set()).add(f.status)
    for source, statuses in sorted(by_source.items()):
        if statuses == {"missing"}:
            findings.append(
                _finding(
                    "schema_break",
                    source,
                    "red",
                    f"{current.month} {source}: none of its files delivered",
                )
            )
            broken.add(source)
    return findings, broken


def _missing_optional(f: FileReport) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for n in f.notes if (m := _OPTIONAL_MISSING.search(n))}


def _column_findings(current: MonthReport, history: Sequence[MonthReport]) -> list[QualityFinding]:
    """Optional columns missing now that an earlier month of the table delivered (vanished,
    red) and unrecognised columns no earlier month of the table had (new, amber)."""
    read = [(r.month, f) for r in history for f in r.files if f.status == "ingested"]
    findings = []
    for f in (f for f in current.files if f.status == "ingested"):
        earlier = [g for _m, g in read if (g.source, g.table) == (f.source, f.table)]
        where = f"{current.month} {f.source}/{f.file}"
        gone = sorted(
            col for col in _missing_optional(f) if any(col not in _missing_optional(g) for g in earlier)
        )
        if gone:
            names = ", ".join(f"{h} ({n})" for h, n in gone)
            findings.append(
                _finding("vanished_columns", f.source, "red", f"{where}: column {names} no longer delivered")
            )
        seen = {c for g in earlier for c in g.extra_columns}
        new = [c for c in f.extra_columns if c not in seen]
        if new:
            findings.append(
                _finding(
                    "new_columns",
                    f.source,
                    "amber",
                    f"{where}: {len(new)} new unrecognised column(s): {'; '.join(new)}",
                )
            )
    return findings


def _row_counts(
    current: MonthReport, history: Sequence[MonthReport], cfg: QualityConfig
) -> tuple[pd.DataFrame, list[QualityFinding]]:
    """Per source: rows (not duplicates) of the tables ingested this month, the sum of those
    tables' medians over the history, months of history, the ratio, whether it is judged."""
    now = _files([current])
    now = now[now["status"] == "ingested"]
    rows = now.groupby("source")["rows"].sum()
    past = _files(history)
    past = past[past["status"] == "ingested"]
    past = past.merge(now[["source", "table"]].drop_duplicates(), on=["source", "table"])
    per_table = past.groupby(["source", "table", "month"])["rows"].sum()
    medians = per_table.groupby(level=["source", "table"]).median().groupby(level="source").sum()
    months = past.groupby("source")["month"].nunique()
    out = pd.DataFrame({"rows": rows})
    out["median_rows_12m"] = medians.reindex(out.index)
    out["history_months"] = months.reindex(out.index).fillna(0).astype("int64")
    out["rows_ratio"] = out["rows"] / out["median_rows_12m"].where(out["median_rows_12m"] > 0)
    out["rows_judged"] = (
        (out["history_months"] >= cfg.min_history_months)
        & (out["median_rows_12m"] >= max(cfg.min_median_rows, 1))
        & out["rows_ratio"].notna()
    )
    (alo, ahi), (rlo, rhi) = cfg.row_ratio_amber, cfg.row_ratio_red
    ratio = out["rows_ratio"]
    red = out["rows_judged"] & ((ratio < rlo) | (ratio > rhi))
    amber = out["rows_judged"] & ~red & ((ratio < alo) | (ratio > ahi))
    findings = []
    out["rows_severity"] = np.where(red, "red", np.where(amber, "amber", ""))
    for source, row in out[red | amber].iterrows():
        severity: Severity = "red" if row["rows_severity"] == "red" else "amber"
        findings.append(
            _finding(
                "row_count",
                str(source),
                severity,
                f"{current.month} {source}: {int(row['rows']):,} rows, {row['rows_ratio']:.0%} of the "
                f"median {row['median_rows_12m']:,.0f} of the last {int(row['history_months'])} months",
            )
        )
    return out, findings


def _status(findings: Sequence[QualityFinding]) -> Status:
    severities = {f.severity for f in findings}
    return "red" if "red" in severities else "amber" if "amber" in severities else "green"


def assess_quality(
    current: MonthReport,
    history: Sequence[MonthReport],
    cfg: QualityConfig,
    first_seen: Mapping[str, Mapping[str, str]] | None = None,
) -> QualityResult:
    """The data quality of ``current`` (a delivery month) against the months before it
    (``history``: earlier reports; the last ``cfg.history_months`` of them are used).
    ``first_seen``: month → :func:`first_seen_record` of the month's first assessment."""
    earlier = sorted((r for r in history if r.month < current.month), key=lambda r: r.month)
    earlier = earlier[-cfg.history_months :]
    quarantine, q_findings = _quarantine(current, cfg)
    f_findings, broken = _files_findings(current)
    c_findings = _column_findings(current, earlier)
    counts, r_findings = _row_counts(current, earlier, cfg)
    late = late_files([*earlier, current], first_seen)
    findings = [*f_findings, *c_findings, *q_findings, *r_findings, *late]
    schema_break = bool(broken) or any(f.kind == "vanished_columns" for f in findings)

    table = _source_table(current, quarantine, counts, findings)
    metrics = _metrics(current, quarantine, counts, findings, schema_break)
    return QualityResult(current.month, metrics, findings, schema_break, _status(findings), table)


def _source_table(
    current: MonthReport, quarantine: pd.DataFrame, counts: pd.DataFrame, findings: list[QualityFinding]
) -> pd.DataFrame:
    files = _files([current])
    sources = pd.Index(sorted(set(files["source"])), name="source")
    table = pd.DataFrame(index=sources)
    table["rows_in"] = quarantine["rows_in"].reindex(sources).fillna(0).astype("int64")
    table["rows"] = counts["rows"].reindex(sources).fillna(0).astype("int64")
    table["median_rows_12m"] = counts["median_rows_12m"].reindex(sources)
    table["rows_ratio"] = counts["rows_ratio"].reindex(sources)
    table["rows_judged"] = counts["rows_judged"].reindex(sources).fillna(False).astype("bool")
    table["quarantine_share"] = quarantine["share"].reindex(sources).fillna(0.0)
    table["top_reasons"] = quarantine["top_reasons"].reindex(sources).fillna("")
    status = files.groupby("source")["status"]
    table["rejected_files"] = status.apply(lambda s: int((s == "rejected").sum())).reindex(sources)
    table["missing_files"] = status.apply(lambda s: int((s == "missing").sum())).reindex(sources)
    table["late_files"] = [sum(f.kind == "late_file" and f.source == s for f in findings) for s in sources]
    table["status"] = [_status([f for f in findings if f.source == s]) for s in sources]
    return table.reset_index()


def _metrics(
    current: MonthReport,
    quarantine: pd.DataFrame,
    counts: pd.DataFrame,
    findings: list[QualityFinding],
    schema_break: bool,
) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for source, row in quarantine.iterrows():
        metrics[metric_name(str(source), "quarantine_share")] = float(row["share"])
    rows_in = quarantine["rows_in"].to_dict()
    for source, kinds in _failures_by_kind(current).items():
        for kind, n in kinds.items():
            if rows_in.get(source):
                metrics[metric_name(source, "quarantine_share", kind)] = n / int(rows_in[source])
    for source, row in counts.iterrows():
        metrics[metric_name(str(source), "rows")] = float(row["rows"])
        if pd.notna(row["rows_ratio"]):
            metrics[metric_name(str(source), "rows_median12")] = float(row["median_rows_12m"])
            metrics[metric_name(str(source), "rows_ratio_to_median12")] = float(row["rows_ratio"])

    def count(kind: str) -> float:
        return float(sum(f.kind == kind for f in findings))

    metrics[metric_name("rejected_files")] = float(sum(f.status == "rejected" for f in current.files))
    metrics[metric_name("missing_files")] = float(sum(f.status == "missing" for f in current.files))
    metrics[metric_name("late_files")] = count("late_file")
    metrics[metric_name("new_columns_files")] = count("new_columns")
    metrics[metric_name("vanished_columns_files")] = count("vanished_columns")
    metrics[metric_name("schema_break")] = float(schema_break)
    metrics[metric_name("red_findings")] = float(sum(f.severity == "red" for f in findings))
    metrics[metric_name("amber_findings")] = float(sum(f.severity == "amber" for f in findings))
    return metrics


def quality_notice_lines(result: QualityResult) -> list[str]:
    """Short lines for the data team: the month and status, then each finding (red first)
    with what to do. Empty when the month is green."""
    if result.status == "green":
        return []
    ordered = sorted(result.findings, key=lambda f: (f.severity != "red", f.kind, f.source))
    head = f"Data quality of delivery month {result.month}: {result.status.upper()}"
    if result.schema_break:
        head += " (schema break)"
    lines = [head + f": {len(ordered)} finding(s)."]
    lines += [f"- [{f.severity}] {f.text}; {_HINTS.get(f.kind, 'see the month report')}" for f in ordered]
    lines.append("Month reports: <home>/reports/ingest/<month>.md")
    return lines

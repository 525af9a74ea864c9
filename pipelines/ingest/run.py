"""Ingest a delivery month: each source read, normalised, validated, split, pseudonymised,
written; then people linked to hukou households and the month's report written.

Plain functions (the Prefect flow and the CLI call these). A rejected file stops only
itself; a missing file is reported, not silent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from lowinc.private import private_dir, private_file
from lowinc.sources import FileSpec, SourceSpec, load_sources
from monitoring.suites import SuiteRunner, default_runner
from pipelines.ingest import link, store
from pipelines.ingest.canonical import canonical_frame
from pipelines.ingest.memo import key_hashes, memo_for
from pipelines.ingest.normalise import normalise_frame
from pipelines.ingest.quarantine import quarantine_records
from pipelines.ingest.readers import FileRejected, read_delivered
from pipelines.ingest.report import FileReport, MonthReport, month_report_from_dict
from pipelines.ingest.validate import decide_rows, defect_failures, exact_duplicates

MONTH = re.compile(r"^\d{4}-\d{2}$")
EXTRAS_TABLE = "extra_columns"
UNLINKED_TABLE = "unlinked"
HOUSEHOLDS_TABLE = "households"
HUKOU_TABLES = ("hukou_base", "hukou_changes")


def delivered_months(raw_dir: Path, source: str | None = None) -> list[str]:
    """Delivery months present under the raw root (of one source, or of any)."""
    roots = [raw_dir / source] if source else [p for p in raw_dir.glob("*") if p.is_dir()]
    return sorted({p.name for r in roots if r.exists() for p in r.iterdir() if MONTH.match(p.name)})


def delivered_files(month_dir: Path, spec: FileSpec) -> list[Path]:
    """Files matching a definition; the plain name first, resubmissions (X(1), X_重报) after."""
    found = [p for p in month_dir.glob(spec.pattern) if p.is_file()] if month_dir.exists() else []
    return sorted(found, key=lambda p: (len(p.name), p.name))


def ingested_months(paths: store.IngestPaths) -> list[str]:
    """Months with an ingest report."""
    found = paths.reports.glob("*.json") if paths.reports.exists() else []
    return sorted(p.stem for p in found if MONTH.match(p.stem))


def months_to_ingest(requested: list[str], paths: store.IngestPaths) -> list[str]:
    """The requested months and every later month already ingested, in order: a later
    month's cross-month duplicates and linking depend on the earlier ones, so ingesting
    months out of order ends in the same state as ingesting them in order."""
    if not requested:
        return []
    first = min(requested)
    return sorted(set(requested) | {m for m in ingested_months(paths) if m > first})


def latest_date(month: str) -> pd.Timestamp:
    """The last moment of a delivery month: nothing in it may be dated later."""
    return pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0) + pd.Timedelta("1D") - pd.Timedelta("1us")


def _extras_long(extras: pd.DataFrame, file: str) -> pd.DataFrame:
    if extras.empty or not len(extras.columns):
        return pd.DataFrame()
    long = extras.astype("str").reset_index(names="row").melt(id_vars="row", var_name="column")
    return pd.DataFrame(
        {
            "file": file,
            "row_number": long["row"].astype("int64") + 1,
            "column": long["column"],
            "value": long["value"],
        }
    )


def drop_earlier_keys(
    spec: FileSpec, canon: pd.DataFrame, earlier: np.ndarray, rep: FileReport
) -> pd.DataFrame:
    """Rows repeating a key of an earlier month are duplicates: counted, kept once (there)."""
    if not len(earlier) or canon.empty:
        return canon
    columns = [spec.canonical_name(c) for c in spec.unique_key]
    hashes = key_hashes(canon, columns)
    at = np.minimum(np.searchsorted(earlier, hashes), len(earlier) - 1)
    repeat = earlier[at] == hashes
    if n := int(repeat.sum()):
        rep.accepted -= n
        rep.duplicates += n
        rep.notes.append(f"{n} rows repeat a {'+'.join(spec.unique_key)} delivered in an earlier month")
    return canon[~repeat].reset_index(drop=True)


def ingest_table(
    source: str,
    spec: FileSpec,
    month: str,
    paths: store.IngestPaths,
    key: bytes,
    runner: SuiteRunner,
    first_month: str | None,
    fallback_dates: bool = True,
) -> list[FileReport]:
    """One table of one source and month, every delivered file of it; writes its partitions."""
    files = delivered_files(paths.raw / source / month, spec)
    for base in (paths.canonical, paths.quarantine, paths.quarantine / EXTRAS_TABLE):
        store.clear_partition(base, spec.table, month)
    if not files:
        expected = (month == first_month) if spec.first_month_only else True
        if not expected:
            return []
        return [
            FileReport(
                source,
                spec.table,
                spec.pattern,
                "missing",
                f"no file matching {spec.pattern} delivered in {month}",
            )
        ]
    reports: list[FileReport] = []
    memo = memo_for(paths.home, key)
    earlier = memo.earlier_keys(paths.canonical, spec, month)
    read: list[pd.DataFrame] = []  # this month's earlier files of the table
    seen_keys: pd.DataFrame | None = None
    canon, idents, quarantine, extras = [], [], [], []
    for path in files:
        try:
            result = read_delivered(path, spec)
        except FileRejected as exc:
            reports.append(FileReport(source, spec.table, path.name, "rejected", f"{exc.kind}: {exc.reason}"))
            continue
        raw = result.frame
        rep = FileReport(
            source,
            spec.table,
            path.name,
            "ingested",
            rows_in=len(raw),
            extra_columns=list(map(str, result.extras.columns)),
            notes=result.notes,
        )
        dup = exact_duplicates(raw, read, spec.first_id_column)
        read.append(raw)
        fresh = raw[~dup.to_numpy()]
        norm = normalise_frame(spec, fresh, fallback_dates)
        failures = defect_failures(runner.run(spec, norm.frame, latest_date(month)))
        decision = decide_rows(spec, norm.frame, failures, seen_keys)
        accepted = norm.frame[decision.accepted.to_numpy()]
        if spec.unique_key:
            keys = accepted[list(spec.unique_key)]
            seen_keys = keys if seen_keys is None else pd.concat([seen_keys, keys])
        rep.accepted = len(accepted)
        rep.quarantined = decision.quarantined
        rep.duplicates = int(dup.sum()) + decision.key_duplicates
        rep.quarantined_by_reason = {
            str(k): int(v) for k, v in failures["kind"].value_counts().sort_index().items()
        }
        rep.repaired = norm.repaired
        c, i = canonical_frame(spec, accepted, memo.pseudonyms, month, path.name)
        c = drop_earlier_keys(spec, c, earlier, rep)
        rep.check()
        reports.append(rep)
        quarantine.append(
            quarantine_records(
                failures,
                raw,
                result.headers,
                result.extras,
                source=source,
                table=spec.table,
                file=path.name,
                known_month=month,
            )
        )
        extras.append(_extras_long(result.extras, path.name))
        canon.append(c)
        idents.append(i)
    if canon:
        rows = pd.concat(canon, ignore_index=True) if len(canon) > 1 else canon[0]
        store.write_partition(rows, paths.canonical, spec.table, month)
        memo.remember_keys(paths.canonical, spec, month, rows)
        ident = (
            pd.concat(idents, ignore_index=True).drop_duplicates(["person_key", "name"], ignore_index=True)
            if len(idents) > 1
            else idents[0]
        )
        store.write_partition(ident, paths.identity, spec.table, month)
    q = [x for x in quarantine if len(x)]
    if q:
        store.write_partition(pd.concat(q, ignore_index=True), paths.quarantine, spec.table, month)
    e = [x for x in extras if len(x)]
    if e:
        store.write_partition(
            pd.concat(e, ignore_index=True), paths.quarantine / EXTRAS_TABLE, spec.table, month
        )
    return reports


def ingest_source(
    source: SourceSpec,
    month: str,
    paths: store.IngestPaths,
    key: bytes,
    runner: SuiteRunner | None = None,
    fallback_dates: bool = True,
) -> list[FileReport]:
    """Every file of one source for one delivery month."""
    runner = runner or default_runner()
    months = delivered_months(paths.raw, source.source)
    first = months[0] if months else None
    out: list[FileReport] = []
    for spec in source.files:
        out.extend(ingest_table(source.source, spec, month, paths, key, runner, first, fallback_dates))
    return out


def person_key_columns(spec: FileSpec) -> list[str]:
    return [c.key for c in spec.columns if c.type == "id" and c.key]


def link_month(
    sources: dict[str, SourceSpec],
    month: str,
    paths: store.IngestPaths,
    reports: list[FileReport],
    key: bytes,
) -> None:
    """Count rows of people outside the hukou register (known by this month); write the
    unlinked table and the households as at the end of the month; fill reports' unlinked."""
    register = memo_for(paths.home, key).register_through(paths.canonical, month)
    unlinked = []
    for src in sources.values():
        for spec in src.files:
            if spec.table in HUKOU_TABLES:
                continue
            cols = person_key_columns(spec)
            frame = store.read_partitions(paths.canonical, spec.table, [month], ["source_file", *cols])
            if frame.empty:
                continue
            mask, u = link.unlinked(frame, cols, register)
            per_file = frame[mask.to_numpy()].groupby("source_file").size()
            for rep in reports:
                if rep.table == spec.table and rep.status == "ingested":
                    rep.unlinked = int(per_file.get(rep.file, 0))
            if len(u):
                unlinked.append(u.assign(source=src.source, table=spec.table))
    store.clear_partition(paths.canonical, UNLINKED_TABLE, month)
    if unlinked:
        store.write_partition(pd.concat(unlinked, ignore_index=True), paths.canonical, UNLINKED_TABLE, month)
    store.clear_partition(paths.canonical, HOUSEHOLDS_TABLE, month)
    if len(register.state):
        store.write_partition(register.households(), paths.canonical, HOUSEHOLDS_TABLE, month)


def start_month(month: str, paths: store.IngestPaths) -> None:
    """Forget that a month was ingested before its partitions are replaced: its report is
    written last, so a run killed half way leaves the month without one, and the next run
    (which ingests the months without a report) does it again."""
    for suffix in (".json", ".md"):
        (paths.reports / f"{month}{suffix}").unlink(missing_ok=True)


def write_report(report: MonthReport, paths: store.IngestPaths) -> Path:
    private_dir(paths.reports.parent)  # reports name sources and counts: owner-only
    private_dir(paths.reports)
    markdown = paths.reports / f"{report.month}.md"
    markdown.write_text(report.to_markdown(), encoding="utf-8")
    path = paths.reports / f"{report.month}.json"
    path.write_text(report.to_json() + "\n", encoding="utf-8")
    private_file(markdown)
    return private_file(path)


def read_report(paths: store.IngestPaths, month: str) -> MonthReport:
    data = json.loads((paths.reports / f"{month}.json").read_text(encoding="utf-8"))
    return month_report_from_dict(data)


def finish_month(
    sources: dict[str, SourceSpec],
    month: str,
    paths: store.IngestPaths,
    reports: list[FileReport],
    key: bytes,
) -> MonthReport:
    """Link, check the accounting and write the month's report."""
    link_month(sources, month, paths, reports, key)
    report = MonthReport(month, reports)
    report.check()
    write_report(report, paths)
    return report


def ingest_month(
    month: str,
    paths: store.IngestPaths,
    sources: dict[str, SourceSpec],
    key: bytes,
    runner: SuiteRunner | None = None,
    fallback_dates: bool = True,
) -> MonthReport:
    """Every source of one delivery month, then linking and the report."""
    start_month(month, paths)
    reports: list[FileReport] = []
    for src in sources.values():
        reports.extend(ingest_source(src, month, paths, key, runner, fallback_dates))
    return finish_month(sources, month, paths, reports, key)


def ingest_months(
    months: list[str],
    paths: store.IngestPaths,
    sources: dict[str, SourceSpec],
    key: bytes,
    workers: int = 1,
    fallback_dates: bool = True,
    on_month: Callable[[MonthReport], None] | None = None,
) -> list[MonthReport]:
    """Ingest months in order, the sources of each in ``workers`` processes, linking each
    month (here) as soon as its sources are done, while the workers go on to the next.

    Every month's report is removed first: a run stopped half way leaves the months it
    did not finish without one, and the next run ingests them again.
    """
    from pipelines.ingest.workers import SourceWorkers  # the workers run this module's functions

    for m in months:
        start_month(m, paths)
    out = []
    with SourceWorkers(paths.home, key, sources, months, workers, fallback_dates) as pool:
        pending = {m: {name: pool.submit(name, m) for name in sources} for m in months}
        for m in months:
            reports: list[FileReport] = []
            for name, future in pending.pop(m).items():
                try:
                    reports.extend(future.result())
                except Exception as exc:  # the source failed as a whole: report it, go on
                    reports.append(FileReport(name, "*", "*", "rejected", f"source failed: {exc!r}"))
            out.append(finish_month(sources, m, paths, reports, key))
            if on_month:
                on_month(out[-1])
    return out


def sources_from(directory: Path) -> dict[str, SourceSpec]:
    return load_sources(directory)

"""Ingest a delivery month: each source read, normalised, validated, split, pseudonymised,
written; then people linked to hukou households and the month's report written.

Plain functions, run by the orchestration in pipelines.ingest (one month at a time, or a
table in a worker process). A rejected file stops only itself, whatever went wrong with
it; a missing file is reported, not silent; nothing is read through a symbolic link under
the raw root.
"""

from __future__ import annotations

import functools
import json
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec

import numpy as np
import pandas as pd

from ingest import link, store
from ingest.canonical import canonical_frame, check_declared
from ingest.memo import IngestMemo, key_hashes, memo_for
from ingest.normalise import normalise_frame
from ingest.quarantine import quarantine_records
from ingest.readers import FORMULA_DETAIL, FORMULA_KIND, FileRejected, ReadResult, read_delivered
from ingest.report import FileReport, IgnoredFolder, MonthReport, month_report_from_dict
from ingest.suites import SuiteRunner, default_runner
from ingest.tables import EXTRAS_TABLE, HOUSEHOLDS_TABLE, HUKOU_TABLES, UNLINKED_TABLE
from ingest.validate import decide_rows, defect_failures, exact_duplicates
from lowinc.home import HomeLayout
from lowinc.months import check_month, is_month, month_problem
from lowinc.private import private_dir, private_file
from lowinc.sources import FileSpec, SourceSpec, load_sources


def _source_roots(raw_dir: Path, source: str | None) -> list[Path]:
    return [raw_dir / source] if source else sorted(p for p in raw_dir.glob("*") if p.is_dir())


def delivered_months(raw_dir: Path, source: str | None = None) -> list[str]:
    """Delivery months present under the raw root (of one source, or of any): folders named
    by a real month only; the others are listed by :func:`ignored_folders`."""
    roots = _source_roots(raw_dir, source)
    return sorted(
        {p.name for r in roots if r.exists() for p in r.iterdir() if p.is_dir() and is_month(p.name)}
    )


def ignored_folders(raw_dir: Path, sources: Iterable[str]) -> list[IgnoredFolder]:
    """Folders under ``raw/<source>/`` of the given sources that are not delivery months
    (``2022-13``, ``2022-8``, ``backup``), with the reason: nothing in them is read, and a
    month report says so rather than skip them without a word."""
    out = []
    for source in sorted(sources):
        root = raw_dir / source
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
            if (problem := month_problem(folder.name)) is not None:
                out.append(IgnoredFolder(source, folder.name, problem))
    return out


def _delivery_order(p: Path) -> tuple[int, str]:
    return (len(p.name), p.name)


def linked_folder(month_dir: Path) -> Path | None:
    """The source or month folder that is a symbolic link, if one is: never followed."""
    return next((p for p in (month_dir.parent, month_dir) if p.is_symlink()), None)


def _matches(month_dir: Path, spec: FileSpec) -> list[Path]:
    if linked_folder(month_dir) or not month_dir.is_dir():
        return []
    return sorted(month_dir.glob(spec.pattern), key=_delivery_order)


def _mode(p: Path) -> int:
    """The file's own type and mode (0 when it vanished or cannot be examined)."""
    try:
        return p.lstat().st_mode
    except OSError:
        return 0


def delivered_files(month_dir: Path, spec: FileSpec) -> list[Path]:
    """Files matching a definition; the plain name first, resubmissions (X(1), X_重报) after.
    Only regular files in real folders: a symbolic link is refused (refused_files), never read."""
    return [p for p in _matches(month_dir, spec) if stat.S_ISREG(_mode(p))]


def refused_files(month_dir: Path, spec: FileSpec) -> list[tuple[str, str]]:
    """(name, reason) of what matches a definition but is not read: a symbolic link (which
    may point anywhere outside raw/), or anything else that is not a regular file; or the
    whole month when its folder or its source's folder is a symbolic link."""
    if folder := linked_folder(month_dir):
        where = "source" if folder == month_dir.parent else "month"
        return [
            (
                spec.pattern,
                f"symbolic_link: the {where} folder {folder.name} is a symbolic link: not followed",
            )
        ]
    out = []
    for p in _matches(month_dir, spec):
        mode = _mode(p)
        if stat.S_ISLNK(mode):
            out.append((p.name, "symbolic_link: a symbolic link: not followed, nothing read"))
        elif not stat.S_ISREG(mode):
            out.append((p.name, "unreadable: not a regular file: nothing read"))
    return out


def ingested_months(paths: HomeLayout) -> list[str]:
    """Months with an ingest report."""
    found = paths.ingest_reports.glob("*.json") if paths.ingest_reports.exists() else []
    return sorted(p.stem for p in found if is_month(p.stem))


def months_to_ingest(requested: list[str], paths: HomeLayout) -> list[str]:
    """The requested months and every later month already ingested, in order: a later
    month's cross-month duplicates and linking depend on the earlier ones, so ingesting
    months out of order ends in the same state as ingesting them in order."""
    if not requested:
        return []
    for month in requested:  # a month is a folder, a partition and a report name: never a path
        check_month(month)
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
    kept: pd.DataFrame = canon[~repeat]
    return kept.reset_index(drop=True)


def formula_failures(result: ReadResult, fresh: pd.Index) -> pd.DataFrame:
    """Failures for the formula cells of a file's rows (those not already duplicates): a
    formula is not delivered data, with or without the value Excel cached for it."""
    f = result.formulas[result.formulas["row"].isin(fresh)]
    return pd.DataFrame(
        {
            "row_id": (f["row"] + 1).astype("int64").to_numpy(),
            "expectation": "no_formula_in_data",
            "kind": FORMULA_KIND,
            "column": f["column"].to_numpy(dtype=object),
            "header": f["header"].to_numpy(dtype=object),
            "detail": FORMULA_DETAIL,
        }
    )


def with_formulas(failures: pd.DataFrame, formulas: pd.DataFrame) -> pd.DataFrame:
    """A formula cell is reported as a formula, not also as the bad value its text makes."""
    if formulas.empty:
        return failures
    at = pd.MultiIndex.from_frame(formulas[["row_id", "column"]])
    rest = failures[~pd.MultiIndex.from_frame(failures[["row_id", "column"]]).isin(at)]
    both = pd.concat([rest, formulas.astype({"row_id": "int64"})], ignore_index=True)
    return both.sort_values(["row_id", "kind", "column"], kind="stable").reset_index(drop=True)


@dataclass
class FileOutcome:
    """What one delivered file adds to its table's partitions, and its report."""

    report: FileReport
    raw: pd.DataFrame
    keys: pd.DataFrame | None
    canonical: pd.DataFrame
    identity: pd.DataFrame
    quarantine: pd.DataFrame
    extras: pd.DataFrame


@dataclass
class TableContext:
    """The state of one table's month that each of its files is read against."""

    source: str
    spec: FileSpec
    month: str
    runner: SuiteRunner
    memo: IngestMemo
    earlier: np.ndarray
    fallback_dates: bool


def ingest_file(
    ctx: TableContext, path: Path, read: list[pd.DataFrame], seen_keys: pd.DataFrame | None
) -> FileOutcome:
    """One delivered file: read, duplicates, normalise, validate, decide, canonical rows.
    Changes nothing outside what it returns, so a failure half way leaves no trace."""
    spec = ctx.spec
    result = read_delivered(path, spec)
    raw = result.frame
    rep = FileReport(
        ctx.source,
        spec.table,
        path.name,
        "ingested",
        rows_in=len(raw),
        extra_columns=result.extra_labels,
        notes=result.notes,
    )
    dup = exact_duplicates(raw, read, spec.first_id_column)
    fresh = raw[~dup.to_numpy()]
    norm = normalise_frame(spec, fresh, ctx.fallback_dates)
    failures = defect_failures(ctx.runner.run(spec, norm.frame, latest_date(ctx.month)))
    failures = with_formulas(failures, formula_failures(result, fresh.index))
    decision = decide_rows(spec, norm.frame, failures, seen_keys)
    accepted = norm.frame[decision.accepted.to_numpy()]
    keys = None
    if spec.unique_key:
        new = accepted[list(spec.unique_key)]
        keys = new if seen_keys is None else pd.concat([seen_keys, new])
    rep.accepted = len(accepted)
    rep.quarantined = decision.quarantined
    rep.duplicates = int(dup.sum()) + decision.key_duplicates
    rep.quarantined_by_reason = {
        str(k): int(v) for k, v in failures["kind"].value_counts().sort_index().items()
    }
    rep.repaired = norm.repaired
    c, i = canonical_frame(spec, accepted, ctx.memo.pseudonyms, ctx.month, path.name)
    c = drop_earlier_keys(spec, c, ctx.earlier, rep)
    rep.check()
    q = quarantine_records(
        failures,
        raw,
        result.headers,
        result.extras,
        source=ctx.source,
        table=spec.table,
        file=path.name,
        known_month=ctx.month,
    )
    return FileOutcome(rep, raw, keys, c, i, q, _extras_long(result.extras, path.name))


def file_failed(source: str, table: str, file: str, exc: BaseException) -> FileReport:
    """The report of a file that could not be ingested. A rejection's reason is written to
    quote nothing delivered; any other error only by its type (its message may hold a row)."""
    if isinstance(exc, FileRejected):
        return FileReport(source, table, file, "rejected", f"{exc.kind}: {exc.reason}")
    return FileReport(
        source,
        table,
        file,
        "rejected",
        f"failed: the file could not be ingested ({type(exc).__name__}); nothing of it was kept",
    )


def table_failed(source: str, spec: FileSpec, month: str, raw: Path, exc: BaseException) -> list[FileReport]:
    """Reports for a table that failed as a whole (a write, a worker process lost): each of
    its delivered files rejected by name, never a "*" standing for the whole source."""
    try:
        names = [p.name for p in delivered_files(raw / source / month, spec)] or [spec.pattern]
    except OSError:  # the folder itself cannot be listed
        names = [spec.pattern]
    return [
        FileReport(
            source,
            spec.table,
            name,
            "rejected",
            f"failed: the table {spec.table} could not be ingested ({type(exc).__name__}); "
            "nothing of it was kept",
        )
        for name in names
    ]


P = ParamSpec("P")
TableStep = Callable[Concatenate[str, FileSpec, str, HomeLayout, P], list[FileReport]]


def reported_per_table(step: TableStep[P]) -> TableStep[P]:
    """A table step that never raises: a failure of the whole table is reported per file
    (:func:`table_failed`); a failure of one file is the step's own to report."""

    @functools.wraps(step)
    def guarded(
        source: str, spec: FileSpec, month: str, paths: HomeLayout, /, *args: P.args, **kwargs: P.kwargs
    ) -> list[FileReport]:
        try:
            return step(source, spec, month, paths, *args, **kwargs)
        except Exception as exc:
            return table_failed(source, spec, month, paths.raw, exc)

    return guarded


@reported_per_table
def ingest_table(
    source: str,
    spec: FileSpec,
    month: str,
    paths: HomeLayout,
    key: bytes,
    runner: SuiteRunner,
    first_month: str | None,
    fallback_dates: bool = True,
) -> list[FileReport]:
    """One table of one source and month, every delivered file of it; writes its partitions.
    Never raises: what fails is reported per file (or, failing that, per table)."""
    month_dir = paths.raw / source / month
    files = delivered_files(month_dir, spec)
    refused = refused_files(month_dir, spec)
    for base in (paths.canonical, paths.quarantine, paths.quarantine / EXTRAS_TABLE):
        store.clear_partition(base, spec.table, month)
    if not files and not refused:
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
    reports = [FileReport(source, spec.table, name, "rejected", reason) for name, reason in refused]
    memo = memo_for(paths.root, key)
    ctx = TableContext(
        source, spec, month, runner, memo, memo.earlier_keys(paths.canonical, spec, month), fallback_dates
    )
    read: list[pd.DataFrame] = []  # this month's earlier files of the table
    seen_keys: pd.DataFrame | None = None
    canon, idents, quarantine, extras = [], [], [], []
    for path in files:
        try:
            done = ingest_file(ctx, path, read, seen_keys)
        except Exception as exc:  # any failure of one file stops only that file
            reports.append(file_failed(source, spec.table, path.name, exc))
            continue
        reports.append(done.report)
        read.append(done.raw)
        seen_keys = done.keys if spec.unique_key else seen_keys
        canon.append(done.canonical)
        idents.append(done.identity)
        quarantine.append(done.quarantine)
        extras.append(done.extras)
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
    paths: HomeLayout,
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
    paths: HomeLayout,
    reports: list[FileReport],
    key: bytes,
) -> None:
    """Count rows of people outside the hukou register (known by this month); write the
    unlinked table and the households as at the end of the month; fill reports' unlinked."""
    register = memo_for(paths.root, key).register_through(paths.canonical, month)
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


def start_month(month: str, paths: HomeLayout) -> None:
    """Forget that a month was ingested before its partitions are replaced: its report is
    written last, so a run killed half way leaves the month without one, and the next run
    (which ingests the months without a report) does it again."""
    check_month(month)
    for suffix in (".json", ".md"):
        (paths.ingest_reports / f"{month}{suffix}").unlink(missing_ok=True)


def write_report(report: MonthReport, paths: HomeLayout) -> Path:
    private_dir(paths.ingest_reports.parent)  # reports name sources and counts: owner-only
    private_dir(paths.ingest_reports)
    markdown = paths.ingest_reports / f"{report.month}.md"
    markdown.write_text(report.to_markdown(), encoding="utf-8")
    path = paths.ingest_reports / f"{report.month}.json"
    path.write_text(report.to_json() + "\n", encoding="utf-8")
    private_file(markdown)
    return private_file(path)


def read_report(paths: HomeLayout, month: str) -> MonthReport:
    data = json.loads((paths.ingest_reports / f"{month}.json").read_text(encoding="utf-8"))
    return month_report_from_dict(data)


def finish_month(
    sources: dict[str, SourceSpec],
    month: str,
    paths: HomeLayout,
    reports: list[FileReport],
    key: bytes,
) -> MonthReport:
    """Link, check the accounting and write the month's report."""
    link_month(sources, month, paths, reports, key)
    report = MonthReport(month, reports, ignored_folders(paths.raw, sources))
    report.check()
    write_report(report, paths)
    return report


def ingest_month(
    month: str,
    paths: HomeLayout,
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


def sources_from(directory: Path) -> dict[str, SourceSpec]:
    """The source definitions of a folder, each file checked against its table's declaration
    (a definition that no longer writes a declared column stops here, before any work)."""
    sources = load_sources(directory)
    for source in sources.values():
        for spec in source.files:
            check_declared(spec)
    return sources

"""Great Expectations suites built from the source definitions, and their row-level results.

Each canonical table's expectations are derived from its FileSpec (never written per
column by hand): required → not null; ID → 18-char shape and GB 11643 check character;
code → regex; category → value set; numbers and dates → ranges (dates not more than the
column's grace days after the delivery month, a suite parameter); birth date and sex →
agree with the ID; sum rules; unique keys. Each expectation carries ``meta`` (kind,
column, header, reason) so a failing row can be quarantined with a readable reason. They
are run as one suite per delivered column (and one for the sums, one for the keys) on a
batch of just the columns it reads, with result_format COMPLETE and the ``row_id`` as
index, so every failing row is named. docs/ingest.md gives the measurements behind these
choices.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lowinc.sources import ColumnSpec, FileSpec

ROW_ID = "row_id"
LATEST_DATE = "latest_date"  # suite parameter: the last day of the delivery month
# Expectation kinds whose failing rows are duplicates to count and keep once, not defects.
DUPLICATE_KINDS = frozenset({"duplicate_key"})

# Every failing row, named by its row number: the frame is indexed by ``row_id`` and GX
# returns the index values of the failing rows as one list per expectation (without the
# failing values, which it would otherwise look up one row at a time). The pandas query
# string that selects them is not built: it would filter the frame once more.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row_id"],
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
}
FAILURE_COLUMNS = ["row_id", "expectation", "kind", "column", "header", "detail"]


def latest_parameter(grace_days: int) -> str:
    """The suite parameter holding the latest date a column with this grace accepts."""
    return LATEST_DATE if grace_days == 0 else f"{LATEST_DATE}_plus_{grace_days}d"


def latest_dates(spec: FileSpec, latest_date: pd.Timestamp) -> dict[str, pd.Timestamp]:
    """Every "not future" limit of a file definition's columns, by suite parameter: the end of
    the delivery month plus each column's grace (the knowledge month stays the delivery month)."""
    graces = {0} | {c.grace_days for c in spec.columns if c.not_future}
    return {latest_parameter(g): latest_date + pd.Timedelta(days=g) for g in sorted(graces)}


def _exp(cls_name: str, meta: dict[str, str], **kwargs: Any) -> Any:
    import great_expectations.expectations as gxe  # after GX_ANALYTICS_ENABLED is set (_get_context)

    return getattr(gxe, cls_name)(meta=meta, **kwargs)


def _column_expectations(col: ColumnSpec, spec: FileSpec) -> list[Any]:
    n, h = col.name, col.header

    def meta(kind: str, detail: str) -> dict[str, str]:
        return {"kind": kind, "column": n, "header": h, "detail": detail}

    out = []
    if col.required:
        out.append(_exp("ExpectColumnValuesToNotBeNull", meta("missing_value", "is empty"), column=n))
    if col.type == "id":
        out.append(
            _exp(
                "ExpectColumnValuesToMatchRegex",
                meta("id_malformed", "is not an ID number (17 digits and a digit or X)"),
                column=n,
                regex=r"^\d{17}[\dX]$",
            )
        )
        out.append(
            _exp(
                "ExpectColumnPairValuesToBeEqual",
                meta("id_bad_check_digit", "has a wrong check character (GB 11643)"),
                column_A=f"{n}__check",
                column_B=f"{n}__expected",
                ignore_row_if="either_value_is_missing",
            )
        )
    if col.type in ("date", "datetime", "month", "money", "int", "float"):
        what = {"money": "an amount", "int": "a whole number", "float": "a number"}.get(
            col.type, f"a date in {' or '.join(spec.date_formats) or 'YYYYMM'}"
        )
        kind = "date_unparseable" if col.type in ("date", "datetime", "month") else ("number_unparseable")
        out.append(_exp("ExpectColumnValuesToBeNull", meta(kind, f"is not {what}"), column=f"{n}__unparsed"))
    if col.type in ("date", "datetime", "month"):
        if col.not_future:
            grace = col.grace_days
            after = "after the delivery month" if not grace else f"over {grace} days after the delivery month"
            out.append(
                _exp(
                    "ExpectColumnValuesToBeBetween",
                    meta("date_future", f"is {after}"),
                    column=n,
                    max_value={"$PARAMETER": latest_parameter(grace)},
                )
            )
        if col.min is not None:
            out.append(
                _exp(
                    "ExpectColumnValuesToBeBetween",
                    meta("date_too_early", f"is before {int(col.min)}"),
                    column=n,
                    min_value=pd.Timestamp(year=int(col.min), month=1, day=1),
                )
            )
    elif col.type in ("money", "int", "float") and (col.min is not None or col.max is not None):
        negative = col.type == "money" and col.min == 0
        detail = "is negative" if negative else f"is outside [{col.min}, {col.max}]"
        out.append(
            _exp(
                "ExpectColumnValuesToBeBetween",
                meta("money_negative" if negative else "out_of_range", detail),
                column=n,
                min_value=col.min,
                max_value=col.max,
            )
        )
    if col.type == "code" and col.pattern:
        out.append(
            _exp(
                "ExpectColumnValuesToMatchRegex",
                meta("code_malformed", f"does not match {col.pattern}"),
                column=n,
                regex=col.pattern,
            )
        )
    if col.type == "category":
        assert col.values is not None
        codes = sorted(set(col.values.values()))
        out.append(
            _exp(
                "ExpectColumnValuesToBeInSet",
                meta("unknown_category", f"is not one of {' '.join(col.values)}"),
                column=n,
                value_set=codes,
            )
        )
    if col.matches_id:
        what = "birth date" if col.type in ("date", "datetime") else "sex"
        out.append(
            _exp(
                "ExpectColumnPairValuesToBeEqual",
                meta(
                    f"id_{'birth' if what == 'birth date' else 'sex'}_mismatch",
                    f"disagrees with the {what} in the ID number",
                ),
                column_A=n,
                column_B=f"{n}__from_id",
                ignore_row_if="either_value_is_missing",
            )
        )
    return out


def build_expectations(spec: FileSpec) -> list[Any]:
    """Every expectation for one file definition, in a stable order."""
    out = [e for col in spec.columns for e in _column_expectations(col, spec)]
    for rule in spec.sum_rules:
        total = spec.column(rule.total).header
        out.append(
            _exp(
                "ExpectColumnValuesToBeBetween",
                {
                    "kind": "sum_mismatch",
                    "column": rule.total,
                    "header": total,
                    "detail": rule.reason or f"does not equal the sum of {', '.join(rule.parts)}",
                },
                column=f"__gap_{rule.name}",
                min_value=-rule.tolerance,
                max_value=rule.tolerance,
            )
        )
    if spec.unique_key:
        meta = {
            "kind": "duplicate_key",
            "column": spec.unique_key[0],
            "header": "+".join(spec.column(k).header for k in spec.unique_key),
            "detail": "repeats a key already delivered",
        }
        if len(spec.unique_key) == 1:
            out.append(_exp("ExpectColumnValuesToBeUnique", meta, column=spec.unique_key[0]))
        else:
            out.append(_exp("ExpectCompoundColumnsToBeUnique", meta, column_list=list(spec.unique_key)))
    return out


def _columns(expectation: Any) -> list[str]:
    """The frame columns an expectation reads."""
    names = [getattr(expectation, a, None) for a in ("column", "column_A", "column_B")]
    return [n for n in names if n] + list(getattr(expectation, "column_list", None) or [])


def suite_groups(spec: FileSpec) -> list[tuple[str, list[Any]]]:
    """The file's expectations grouped by the delivered column (or rule) they check, each
    group validated on a batch of just its columns. Great Expectations' pandas engine
    copies the whole batch frame for every expectation (to drop missing values, to pick
    the failing rows), so a batch as narrow as its expectations keeps that copy small."""
    groups: dict[str, list[Any]] = {}
    for e in build_expectations(spec):
        meta = e.meta or {}
        group = meta["column"] if meta.get("kind") not in ("sum_mismatch", "duplicate_key") else meta["kind"]
        groups.setdefault(group, []).append(e)
    return list(groups.items())


class SuiteRunner:
    """One ephemeral GX context per process; validation definitions per file definition."""

    def __init__(self) -> None:
        self._context: Any = None
        self._definitions: dict[str, list[tuple[Any, list[str]]]] = {}
        self._lock = threading.Lock()

    def _get_context(self) -> Any:
        if self._context is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            # imported only now: GX reads GX_ANALYTICS_ENABLED when it is first imported
            import great_expectations as gx
            from great_expectations.execution_engine import pandas_execution_engine

            # GX labels each in-memory batch with an md5 of the whole frame's row hashes
            # (for frames under this many bytes): half the cost of validating a large file,
            # and nothing here reads the label.
            pandas_execution_engine.HASH_THRESHOLD = 0
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = {"globally": False}  # type: ignore[assignment]  # GX takes the dict form
            self._source = ctx.data_sources.add_pandas("lowinc")
            self._context = ctx
        return self._context

    def definitions(self, spec: FileSpec) -> list[tuple[Any, list[str]]]:
        """(validation definition, batch columns) per expectation group of a file definition."""
        import great_expectations as gx

        digest = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:10]
        key = f"{spec.table}-{digest}"
        if key not in self._definitions:
            ctx = self._get_context()
            made = []
            for group, expectations in suite_groups(spec):
                name = f"{key}-{group}"
                batch = self._source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
                suite = ctx.suites.add(gx.ExpectationSuite(name=name))
                for expectation in expectations:
                    suite.add_expectation(expectation)
                columns = list(dict.fromkeys([ROW_ID, *(c for e in expectations for c in _columns(e))]))
                vd = ctx.validation_definitions.add(
                    gx.ValidationDefinition(name=name, data=batch, suite=suite)
                )
                made.append((vd, columns))
            self._definitions[key] = made
        return self._definitions[key]

    def run(self, spec: FileSpec, frame: pd.DataFrame, latest_date: pd.Timestamp) -> pd.DataFrame:
        """Validate a normalised frame; one row per (failing row, expectation)."""
        parts = []
        limits = latest_dates(spec, latest_date)
        with self._lock:
            from great_expectations.validator.v1_validator import Validator

            for vd, columns in self.definitions(spec):
                # What ValidationDefinition.run does, less storing each result (with every
                # failing row id) in the context's results store: nothing reads it back,
                # and over many files serialising it costs time and keeps memory growing.
                validator = Validator(
                    batch_definition=vd.batch_definition,
                    batch_parameters={"dataframe": gx_frame(frame[columns]).set_index(ROW_ID)},
                    result_format=RESULT_FORMAT,
                )
                result = validator.validate_expectation_suite(vd.suite, limits)
                parts.append(failures_from_result(result))
        return pd.concat(parts, ignore_index=True) if parts else no_failures()


def gx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as GX's pandas engine compares it vectorised: it checks ranges with one
    array comparison only on float/int and nanosecond datetime columns, and calls a Python
    function per value on anything else (microsecond datetimes, nullable Int64). Same
    values, same missing values; a date outside the nanosecond range stays as it is."""
    out = {}
    for name, col in frame.items():
        dtype = col.dtype
        if pd.api.types.is_datetime64_dtype(dtype) and dtype != "datetime64[ns]":
            with contextlib.suppress(OverflowError, ValueError):  # OutOfBoundsDatetime
                col = col.astype("datetime64[ns]")
        elif isinstance(dtype, pd.Int64Dtype) and (col.dropna().abs() < 2**53).all():
            col = col.astype("float64")
        out[name] = col
    return pd.DataFrame(out, index=frame.index)


def failures_from_result(result: Any) -> pd.DataFrame:
    """Flatten a GX validation result into failing rows with their expectation's meta."""
    parts = []
    for r in result.results:
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {r.expectation_config.type} on {r.expectation_config.kwargs} "
                f"could not run: {info.get('exception_message')}"
            )
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        rows = [
            int(v)
            for item in r.result.get("unexpected_index_list") or []
            for v in (item[ROW_ID] if isinstance(item[ROW_ID], list) else [item[ROW_ID]])
        ]
        parts.append(
            pd.DataFrame(
                {
                    "row_id": pd.Series(rows, dtype="int64"),
                    "expectation": r.expectation_config.type,
                    "kind": meta.get("kind", r.expectation_config.type),
                    "column": meta.get("column", ""),
                    "header": meta.get("header", ""),
                    "detail": meta.get("detail", ""),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else no_failures()


def no_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row_id" else "str") for c in FAILURE_COLUMNS})


@dataclass
class _Default:
    runner: SuiteRunner | None = None


_default = _Default()


def default_runner() -> SuiteRunner:
    """The process-wide runner (GX import and context cost paid once)."""
    if _default.runner is None:
        _default.runner = SuiteRunner()
    return _default.runner

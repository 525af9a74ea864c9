"""Department source definitions (configs/sources/*.yaml) as typed, validated data.

A source (hukou, medical, ...) delivers one or more files each month. Each file is
described once here: where it is, how it is encoded, how its Chinese headers map to the
canonical English column names and types, and which rules its rows must satisfy. The
readers, the normaliser and the Great Expectations suites all read these definitions,
so a user adapts ingestion to their own departments by editing YAML, not code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lowinc.errors import NotFound

ColumnType = Literal[
    "id",  # resident ID number (GB 11643), normalised and check-digit verified
    "date",
    "datetime",
    "month",  # YYYYMM (int or string) → first day of the month
    "money",  # yuan; strips 元 and thousands separators
    "int",
    "float",
    "category",  # mapped through `values` to a code
    "code",  # an identifier kept as a string (leading zeros matter)
    "text",
]

# Date formats every department may fall back to; the file's own formats are tried first.
CONTRACT_DATE_FORMATS = (
    "%Y%m%d",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y年%m月%d日",
    "%Y.%m.%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
)
SNAPSHOT_DATES = ("month_start", "month_end")
DATE_TYPES = ("date", "datetime", "month")
# Days after the end of the delivery month a ``not_future`` date may still fall. The contract
# files a delivery under the month it holds (<raw>/<source>/<YYYY-MM>/), but a department
# takes that extract after the month has closed, so what it entered by then (a stay settled
# on the 5th, for a department that extracts by admission month) can carry a date in the
# first days of the next month: such a row is no defect. The contract's "date in the future"
# defect (a mistyped year) lies months or years out. A month (YYYYMM) value has no days to
# spare: a month after the delivery month is always in the future.
CONTRACT_FUTURE_GRACE_DAYS = 10


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Model):
    """One column: its delivered header (and former names), canonical name and type."""

    name: str  # canonical English snake_case
    header: str  # the department's Chinese header
    aliases: tuple[str, ...] = ()  # other headers the same column has been delivered under
    type: ColumnType
    required: bool = False  # the header must be present and every value non-empty
    values: dict[str, str] | None = None  # category: delivered value → code
    pattern: str | None = None  # code/id suffix: a regex every non-empty value must match
    min: float | None = None
    max: float | None = None
    not_future: bool = False  # dates: not after the end of the delivery month (plus the grace)
    # not_future dates: days after the delivery month's end still accepted; None: the
    # contract's default (CONTRACT_FUTURE_GRACE_DAYS; 0 for a YYYYMM month column)
    future_grace_days: int | None = Field(default=None, ge=0, le=366)
    id_suffix_digits: int = 0  # id: digits after the 18-char ID (残疾人证号 = ID + 2 digits)
    key: str | None = None  # pseudonymise: replace by a keyed hash column of this name
    identity_of: str | None = None  # a name: kept only in the identity table, beside this ID
    matches_id: str | None = None  # birth date / sex column to check against this ID column

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        if self.type == "category" and not self.values:
            raise ValueError(f"category column {self.name!r} needs `values`")
        if self.type == "id" and not self.key:
            raise ValueError(f"id column {self.name!r} needs `key` (its pseudonym column)")
        if self.future_grace_days is not None and not (self.not_future and self.type in DATE_TYPES):
            raise ValueError(
                f"column {self.name!r}: `future_grace_days` applies to a date, datetime or month "
                "column with `not_future: true`"
            )
        return self

    @property
    def grace_days(self) -> int:
        """Days after the end of the delivery month this column's dates may still fall."""
        if self.future_grace_days is not None:
            return self.future_grace_days
        return 0 if self.type == "month" else CONTRACT_FUTURE_GRACE_DAYS

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


class SumRule(_Model):
    """Money columns whose parts must add up to a total (within `tolerance` yuan)."""

    name: str
    total: str
    parts: tuple[str, ...]
    tolerance: float = 0.01
    reason: str = ""


class Limits(_Model):
    """How large a delivered file may be before it is parsed at all (None: the format's default).

    Checked on what a file declares or costs nothing to count (its size, a zip's declared
    part sizes, Parquet metadata, a sheet's row numbers), so a hostile file — a zip bomb, a
    sheet reaching row 1,048,576 — is rejected naming the limit before it can fill memory.
    """

    max_uncompressed_bytes: int | None = Field(default=None, gt=0)  # CSV: the file; XLSX: all parts
    max_rows: int | None = Field(default=None, gt=0)  # data rows (Excel: the last row number)
    max_columns: int | None = Field(default=None, gt=0)


LimitName = Literal["max_uncompressed_bytes", "max_rows", "max_columns"]

# Defaults per format: about ten times the largest file of a 1,000,000-household region
# (hukou register 2.6 million rows, 70,000-row Excel workbook), and within what the
# readers can hold in well under 1 GB for Excel (read cell by cell in Python).
DEFAULT_LIMITS = {
    "csv": Limits(max_uncompressed_bytes=4 << 30, max_rows=30_000_000, max_columns=1_000),
    "parquet": Limits(max_uncompressed_bytes=8 << 30, max_rows=30_000_000, max_columns=1_000),
    "xlsx": Limits(max_uncompressed_bytes=256 << 20, max_rows=500_000, max_columns=1_000),
}


class FileSpec(_Model):
    """One file a source delivers every month, and the canonical table it feeds."""

    table: str  # canonical table name
    pattern: str  # glob inside <raw>/<source>/<YYYY-MM>/; resubmissions like X(1).csv match too
    format: Literal["csv", "xlsx", "parquet"]
    encoding: Literal["utf-8", "utf-8-sig", "gb18030"] = "utf-8"
    header_row: int = 1  # 1-based row holding the header (2 when a title row sits above it)
    sheet: str | None = None  # xlsx sheet; the first sheet when None
    delimiter: str = ","
    date_formats: tuple[str, ...] = ()
    first_month_only: bool = False  # a full base delivered only in the source's first month
    # the canonical column giving each row's event date, or the delivery month's first or
    # last day for snapshots (a base register, an end-of-month roster)
    event_date: str
    unique_key: tuple[str, ...] = ()  # a repeated key is a duplicate, kept once
    # the key is unique across deliveries (a settlement id re-sent in a later month is a
    # duplicate), not only within one month (a monthly roster repeats its keys every month)
    unique_across_months: bool = False
    columns: tuple[ColumnSpec, ...]
    sum_rules: tuple[SumRule, ...] = ()
    limits: Limits = Limits()  # unset fields: the source's limits, else the format's default

    @model_validator(mode="after")
    def _check(self) -> FileSpec:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.table}: duplicate column names")
        headers = [h for c in self.columns for h in c.headers]
        if len(set(headers)) != len(headers):
            raise ValueError(f"{self.table}: a header or alias is used twice")
        known = set(names)
        wanted = set(self.unique_key)
        if self.event_date not in SNAPSHOT_DATES:
            wanted.add(self.event_date)
        wanted |= {x for r in self.sum_rules for x in (r.total, *r.parts)}
        wanted |= {c.matches_id for c in self.columns if c.matches_id}
        wanted |= {c.identity_of for c in self.columns if c.identity_of}
        if missing := wanted - known:
            raise ValueError(f"{self.table}: unknown columns {sorted(missing)}")
        return self

    @property
    def first_id_column(self) -> str | None:
        """The first ID number column: rows that repeat each other share its value."""
        return next((c.name for c in self.columns if c.type == "id"), None)

    def canonical_name(self, name: str) -> str:
        """The column's name in the canonical table (its key when it is pseudonymised)."""
        return self.column(name).key or name

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def known_headers(self) -> frozenset[str]:
        """Every header and alias of the definition: the only delivered header text a report
        may quote (in a file without its header row, the "headers" are a person's data)."""
        return frozenset(h for c in self.columns for h in c.headers)

    def limit(self, name: LimitName) -> int:
        """A limit of this file: its own, else the format's default."""
        got = getattr(self.limits, name)
        return int(got if got is not None else getattr(DEFAULT_LIMITS[self.format], name))


class SourceSpec(_Model):
    """A department source: its name (the folder under the raw root) and its files."""

    source: str
    department: str = ""
    limits: Limits = Limits()  # for every file of the source that does not set its own
    files: tuple[FileSpec, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _source_limits(cls, data: object) -> object:
        """A source's ``limits`` apply to each of its files, under the file's own."""
        if not isinstance(data, dict) or not isinstance(data.get("limits"), dict):
            return data
        files = [
            f | {"limits": data["limits"] | (f.get("limits") or {})} if isinstance(f, dict) else f
            for f in data.get("files") or ()
        ]
        return data | {"files": files}


def load_source(path: Path) -> SourceSpec:
    """Read and validate one configs/sources/<source>.yaml."""
    spec = SourceSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if spec.source != path.stem:
        raise ValueError(f"{path}: `source: {spec.source}` does not match the file name")
    return spec


def load_sources(directory: Path) -> dict[str, SourceSpec]:
    """Every source definition in a folder, keyed by source name. A folder without any is
    refused: ingesting nothing silently would look like a month without deliveries."""
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise NotFound(
            f"no department source definitions (*.yaml) in {directory}",
            hint=f"cp -r configs/sources {directory} (then adapt it), or set ingest.sources_dir",
        )
    return {p.stem: load_source(p) for p in files}

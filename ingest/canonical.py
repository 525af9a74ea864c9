"""Canonical rows: typed, pseudonymised, with event date and knowledge month; and the
identity rows that are the only place a plaintext ID or name is kept."""

from __future__ import annotations

import pandas as pd

from ingest.tables import EVENT_DATE, KNOWN_MONTH, missing_columns
from lowinc.errors import BadValue
from lowinc.pseudonym import Pseudonymiser
from lowinc.sources import FileSpec

IDENTITY_COLUMNS = ["person_key", "id_no", "name", "known_month", "table"]
# identity_of columns kept under their own names (a source may deliver them; the hukou's
# address and 组 for a visit list); any other identity_of column is the person's name
IDENTITY_EXTRAS = ("address", "group_name")


def event_dates(spec: FileSpec, frame: pd.DataFrame, known_month: str) -> pd.Series:
    """Each row's event date: its event column (to the day) or the delivery month's edge."""
    start = pd.Timestamp(f"{known_month}-01")
    if spec.event_date == "month_start":
        return pd.Series(start, index=frame.index, dtype="datetime64[us]")
    if spec.event_date == "month_end":
        end = start + pd.offsets.MonthEnd(0)
        return pd.Series(end, index=frame.index, dtype="datetime64[us]")
    dates: pd.Series = frame[spec.event_date].dt.floor("D").astype("datetime64[us]")
    return dates


class UndeliveredColumn(BadValue):
    """A sources YAML no longer delivers a column the canonical table declares (ingest/tables.py)."""


def written_columns(spec: FileSpec) -> list[str]:
    """The columns :func:`canonical_frame` writes for a file, in order: the knowledge month,
    the event date, every column (a keyed one under its key; names only in the identity
    rows), the source file and row number."""
    kept = [c.key or c.name for c in spec.columns if not c.identity_of]
    return [KNOWN_MONTH, EVENT_DATE, *kept, "source_file", "row_number"]


def check_declared(spec: FileSpec) -> None:
    """Raise when a file's definition would not write a column its table's declaration
    promises its readers: a configuration error, found when the sources are loaded."""
    missing = missing_columns(spec.table, written_columns(spec))
    if missing:
        raise UndeliveredColumn(
            f"canonical table {spec.table} lacks declared column(s) {', '.join(missing)}",
            hint=f"deliver them in the sources YAML of {spec.table}, or change ingest/tables.py",
        )


def canonical_frame(
    spec: FileSpec, accepted: pd.DataFrame, pseudonyms: Pseudonymiser, known_month: str, file: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(canonical rows, identity rows) from accepted validation-frame rows.

    ID columns and identifying codes become keyed hashes; names go to the identity rows
    only. Person keys use no namespace, so one person has one key in every table.
    """
    out: dict[str, object] = {
        KNOWN_MONTH: known_month,
        EVENT_DATE: event_dates(spec, accepted, known_month),
    }
    identity = []
    for col in spec.columns:
        if col.identity_of:
            continue
        values = accepted[col.name]
        if col.key:
            hashed = pseudonyms(values, "" if col.type == "id" else col.key.removesuffix("_key"))
            out[col.key] = hashed
            if col.type == "id":
                identity.append(_identity_rows(spec, col.name, hashed, values, accepted))
        else:
            out[col.name] = values
    out["source_file"] = file
    out["row_number"] = accepted["row_id"].astype("int64")
    canonical = pd.DataFrame(out, index=accepted.index).reset_index(drop=True)
    if identity:
        ident = pd.concat(identity, ignore_index=True)
    else:
        ident = pd.DataFrame({c: pd.Series(dtype="str") for c in IDENTITY_COLUMNS[:3]})
    ident["known_month"] = known_month
    ident["table"] = spec.table
    # the number follows from the key: one row per key and name is every distinct row
    extras = [c for c in IDENTITY_EXTRAS if c in ident.columns]
    ident = ident.dropna(subset=["person_key"]).drop_duplicates(
        ["person_key", "name", *extras], ignore_index=True
    )
    return canonical, ident[[*IDENTITY_COLUMNS, *extras]]


def _identity_rows(
    spec: FileSpec, id_column: str, hashed: pd.Series, values: pd.Series, accepted: pd.DataFrame
) -> pd.DataFrame:
    """(person_key, id_no, name[, address, group_name]) for one ID column's rows."""
    beside = [c.name for c in spec.columns if c.identity_of == id_column]
    name_col = next((c for c in beside if c not in IDENTITY_EXTRAS), None)
    rows = {
        "person_key": hashed,
        "id_no": values,
        "name": accepted[name_col] if name_col else pd.Series(pd.NA, index=values.index, dtype="str"),
    }
    rows |= {c: accepted[c] for c in IDENTITY_EXTRAS if c in beside}
    return pd.DataFrame(rows)

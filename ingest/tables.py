"""The canonical tables, each declared once: name, columns and types, dates, grain.

Ingest writes every table under ``<home>/canonical/<name>/known_month=YYYY-MM/``; the
feature reader (pipelines/features/inputs.py), the snapshot builder (features/snapshot.py)
and the feature tests' factory all take the table's name, its columns and their types from
here, so a table has one name everywhere. A declaration lists the columns downstream code
reads: ingest writes more (every column of the table's sources YAML) and checks that it
still delivers these (:func:`missing_columns`).

Every row has a knowledge month (``known_month``: the month its delivery arrived, the
partition) and, but for the membership, an event date (when it happened). The grain says
how a row reaches a household at the as-of date T:

- ``household``: the row names its household (membership and hukou: the spine's tables);
- ``person``: through the person's membership at T (``person_key``);
- ``house``: a house (``house_key``), through its owner's membership (``person_key``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["str", "date", "float", "int"]
Grain = Literal["household", "person", "house"]

KNOWN_MONTH = "known_month"  # 'YYYY-MM': the delivery month, the partition of every table
EVENT_DATE = "event_date"  # datetime64[us]: when the row's event happened
# Tables ingest treats apart from the delivered ones: the hukou register's two sources (read
# to link people to households) and the three tables ingest writes itself. Spelled here once
# for linking, the memo and the outreach heads (who reads the households).
HUKOU_BASE = "hukou_base"  # the register as delivered in full
HUKOU_CHANGES = "hukou_changes"  # the register's monthly changes
HUKOU_TABLES = (HUKOU_BASE, HUKOU_CHANGES)
HOUSEHOLDS_TABLE = "households"  # each person's hukou household at the end of a month
UNLINKED_TABLE = "unlinked"  # rows of people outside the hukou register
EXTRAS_TABLE = "extra_columns"  # undeclared delivered columns, kept under quarantine/
DTYPES: dict[ColumnType, str] = {"str": "str", "date": "datetime64[us]", "float": "float64", "int": "int64"}


@dataclass(frozen=True)
class Column:
    """One column a reader needs, with the type ingest writes it as."""

    name: str
    type: ColumnType = "str"


@dataclass(frozen=True)
class Table:
    """One canonical table."""

    name: str  # the folder under <home>/canonical and the name in every module
    grain: Grain
    columns: tuple[Column, ...]  # read besides the knowledge month and the event date
    event_date: str | None = EVENT_DATE  # None: the rows are a state (the membership)
    known: str = KNOWN_MONTH
    # each delivery is the whole state of its month (a roster, the monthly contributions):
    # the state at T is the latest delivery, so a reader needs no history beyond the windows
    monthly: bool = False
    labels: bool = False  # the deliveries after T are outcomes the labels read

    @property
    def read_columns(self) -> list[str]:
        """The stored columns a reader asks for: the event date (if any), then the columns."""
        dates = [self.event_date] if self.event_date else []
        return [*dates, *(c.name for c in self.columns)]

    @property
    def dtypes(self) -> dict[str, str]:
        """The pandas dtype of every read column."""
        dates = {self.event_date: DTYPES["date"]} if self.event_date else {}
        return dates | {c.name: DTYPES[c.type] for c in self.columns}


def _columns(*spec: str | tuple[str, ColumnType]) -> tuple[Column, ...]:
    """Columns in order: a name (a string column) or (name, type)."""
    return tuple(Column(s) if isinstance(s, str) else Column(*s) for s in spec)


TABLES: tuple[Table, ...] = (
    Table(
        "households",
        "household",
        _columns("person_key", "household_key", "division_code", "relation"),
        event_date=None,
    ),
    Table("hukou_base", "household", _columns("person_key", "household_key", ("birth_date", "date"))),
    Table(
        "hukou_changes",
        "household",
        _columns("person_key", "household_key", ("birth_date", "date"), "change_type"),
    ),
    Table(
        "pension_contributions",
        "person",
        _columns("person_key", "scheme", ("contribution_base", "float"), "payment_status"),
        monthly=True,
    ),
    Table("pension_payments", "person", _columns("person_key", ("amount", "float")), monthly=True),
    Table(
        "employment_registrations",
        "person",
        _columns("person_key", "registration_type", ("unemployment_benefit", "float")),
    ),
    Table(
        "assistance_roster",
        "person",
        _columns(
            "case_key",
            "person_key",
            "category",
            ("monthly_benefit", "float"),
            ("income_per_capita", "float"),
            ("admitted_date", "date"),
            "state",
        ),
        monthly=True,
        labels=True,
    ),
    Table(
        "temporary_assistance",
        "person",
        _columns("person_key", ("amount", "float"), "aid_type"),
        labels=True,
    ),
    Table(
        "medical_settlements",
        "person",
        _columns(
            "person_key",
            "visit_type",
            ("critical_illness_paid", "float"),
            ("assistance_paid", "float"),
            ("copay", "float"),
            ("self_pay", "float"),
        ),
    ),
    Table(
        "disability_certificates",
        "person",
        _columns("person_key", "disability_grade", "change_type", "living_subsidy", "care_subsidy"),
    ),
    Table("house_safety", "house", _columns("house_key", "person_key", "safety_grade", "renovation_status")),
    Table("property_registrations", "person", _columns("person_key", "direction", "reason")),
)

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
SPINE_TABLES = tuple(t.name for t in TABLES if t.grain == "household")
PERSON_TABLES = tuple(t.name for t in TABLES if t.grain != "household")  # reached through a member


def missing_columns(table: str, columns: list[str]) -> list[str]:
    """The declared columns of ``table`` (a declared table; others have none) that ``columns``
    lacks: what a writer must still deliver."""
    declared = BY_NAME.get(table)
    if declared is None:
        return []
    return [c for c in (declared.known, *declared.read_columns) if c not in columns]

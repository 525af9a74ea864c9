"""The township's other lists (/lists) within a user's area, for one as-of month: 核查 (reverify),
渐退 (phase-out), 应救尽救 (likely eligible, not receiving) and 无本地户籍 (living in the area
without local hukou).

The score stage writes them beside the visit list (``scores/as_of=…/``, keys and codes only:
:meth:`lowinc.home.HomeLayout.recipient_checks`, ``entitlements_file``, ``unlinked_list``).
Each read is one filtered dataset scan: the rows of the user's areas only, compared on the
area's own level (``village_code``/``town_code``/``county_code``), the same rule as
:meth:`outreach.jurisdiction.Scope.alert_filter` for the visit list. Only the page's rows are
given names: households through :mod:`outreach.members` (the head, or who stands in), people
without a household through :mod:`outreach.people`. A row whose household has an alert of the
month inside the scope links to it; a 核查/渐退 row carries its current re-verification record
(:mod:`outreach.check_records`). Every call is audited once (``view_lists``: kind, month and
counts, never names), in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, reduce
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds
from sqlalchemy import select
from sqlalchemy.orm import Session

from lowinc.divisions import load_divisions
from lowinc.errors import BadValue, NotFound
from lowinc.home import ENTITLEMENTS_FILE, RECIPIENT_CHECKS_FILE, UNLINKED_LIST_FILE, HomeLayout
from outreach.audit import record_audit
from outreach.check_records import current_checks
from outreach.contacts import household_codes
from outreach.entitlements import PROGRAMME_ZH, Entitlement
from outreach.jurisdiction import Scope
from outreach.members import choose_contacts, household_members
from outreach.people import person_identity
from outreach.schema import Alert
from scoring.reasons import SEPARATOR
from scoring.recipients import PHASE_OUT, REVERIFY

ENTITLEMENT = "entitlement"
UNLINKED = "unlinked"
KINDS = (REVERIFY, PHASE_OUT, ENTITLEMENT, UNLINKED)
FILE_OF_KIND = {
    REVERIFY: RECIPIENT_CHECKS_FILE,
    PHASE_OUT: RECIPIENT_CHECKS_FILE,
    ENTITLEMENT: ENTITLEMENTS_FILE,
    UNLINKED: UNLINKED_LIST_FILE,
}
PAGE_SIZE = 100
MAX_PAGE = 10_000
TOP_REASONS = 3
CHECK_COLUMNS = ["household_key", "county_code", "town_code", "village_code", "assistance_state", "kind"]
CHECK_COLUMNS += ["rank_in_town", "reasons_zh", "reasons_en", "due_date"]
ENTITLEMENT_COLUMNS = ["household_key", "town_code", "village_code", "programme"]
ENTITLEMENT_COLUMNS += ["est_monthly_amount", "est_one_off_amount", "reason_zh"]
UNLINKED_COLUMNS = ["person_key", "town_code", "village_code", "sources", "rank_in_town"]
UNLINKED_COLUMNS += ["reasons_zh", "reasons_en", "due_date"]


@dataclass(frozen=True)
class ListRow:
    """One household (or, on the unlinked list, one person) of a list, named for the worker."""

    town_code: str
    village_code: str
    village_name: str
    household_code: str | None  # None on the unlinked list (no household)
    name: str | None
    id_masked: str | None
    stand_in: bool  # the household's head is gone: the member who stands in is named
    rank_in_town: int | None
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]
    due_date: dt.date | None
    alert_id: int | None  # the household's alert of the month in the user's area, if any
    assistance_state: str | None = None
    sources: tuple[str, ...] = ()
    programmes: tuple[Entitlement, ...] = ()
    household_key: str | None = None  # the pseudonym (None on the unlinked list); never shown
    county_code: str | None = None
    check: tuple[dt.date, str, str | None] | None = None  # 核查/渐退: the current record's date, result, note


@dataclass(frozen=True)
class OtherList:
    """One page of one list of a month; ``present`` is False when the month has no such file."""

    kind: str
    as_of: dt.date | None  # None: no list of any kind yet
    months: tuple[dt.date, ...]  # every month with a list, newest first
    present: bool
    rows: tuple[ListRow, ...] = ()
    total: int = 0
    page: int = 1
    page_size: int = PAGE_SIZE
    town_names: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def validate_kind(kind: str | None) -> str:
    """The kind asked for (reverify when none); BadValue for one not in KINDS."""
    if kind is None or kind == "":
        return REVERIFY
    if kind not in KINDS:
        raise BadValue(f"unknown list: use one of {', '.join(KINDS)}")
    return kind


def list_months(layout: HomeLayout) -> tuple[dt.date, ...]:
    """The as-of dates with any of the lists, newest first."""
    days = {day for name in set(FILE_OF_KIND.values()) for day in layout.dates_with(name)}
    return tuple(sorted(days, reverse=True))


def pick_month(text: str | None, months: tuple[dt.date, ...]) -> dt.date | None:
    """The month asked for (?as_of=YYYY-MM-DD), else the latest; BadValue for text that is not
    a date, NotFound for a date without lists."""
    if text is None or text == "":
        return months[0] if months else None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError as error:
        raise BadValue("as_of must be a date written YYYY-MM-DD") from error
    if day not in months:
        raise NotFound(f"no lists of {day.isoformat()}")
    return day


def _file(layout: HomeLayout, kind: str, as_of: dt.date) -> Path:
    return layout.scores_at(as_of) / FILE_OF_KIND[kind]


def area_expression(scope: Scope) -> pc.Expression | None:
    """The scope as a dataset filter: each area on its own level's code column (None: no area)."""
    by_level: dict[str, list[str]] = {}
    for level, code in scope.areas:
        by_level.setdefault(level, []).append(code)
    clauses = [pc.field(f"{level}_code").isin(codes) for level, codes in sorted(by_level.items())]
    return reduce(lambda a, b: a | b, clauses) if clauses else None


def read_in_scope(path: Path, columns: list[str], scope: Scope, extra: pc.Expression | None) -> pd.DataFrame:
    """The columns of the file's rows inside the scope (and matching ``extra``): one scan."""
    area = area_expression(scope)
    if area is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    data = ds.dataset(str(path), format="parquet")
    wanted = area if extra is None else area & extra
    table = data.to_table(columns=[c for c in columns if c in data.schema.names], filter=wanted)
    return table.to_pandas().reindex(columns=columns)


@cache
def _division_names() -> tuple[dict[str, str], dict[str, str]]:
    frame = load_divisions()
    villages = dict(zip(frame["village_code"], frame["village_name"], strict=True))
    towns = dict(zip(frame["town_code"], frame["town_name"], strict=True))
    return villages, towns


def _ranked(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The list's order: town, then rank (entitlements: the largest yearly amount first)."""
    if kind == ENTITLEMENT:
        return frame.sort_values(["town_code", "total", "household_key"], ascending=[True, False, True])
    key = "person_key" if kind == UNLINKED else "household_key"
    frame = frame.assign(_rank=pd.to_numeric(frame["rank_in_town"], errors="coerce"))
    return frame.sort_values(["town_code", "_rank", key], na_position="last").drop(columns="_rank")


def _entitlement_households(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per household of the likely-eligible-not-receiving rows, with its yearly total."""
    money = rows.assign(
        est_monthly_amount=pd.to_numeric(rows["est_monthly_amount"], errors="coerce").fillna(0.0),
        est_one_off_amount=pd.to_numeric(rows["est_one_off_amount"], errors="coerce").fillna(0.0),
    )
    money["total"] = money["est_monthly_amount"] * 12 + money["est_one_off_amount"]
    return money.groupby("household_key", as_index=False).agg(
        town_code=("town_code", "first"), village_code=("village_code", "first"), total=("total", "sum")
    )


def _read(layout: HomeLayout, scope: Scope, kind: str, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the list's rows inside the scope, one per household or person; the entitlement
    programme rows behind them, empty for the other kinds)."""
    path = _file(layout, kind, as_of)
    if kind in (REVERIFY, PHASE_OUT):
        return read_in_scope(path, CHECK_COLUMNS, scope, pc.field("kind") == kind), pd.DataFrame()
    if kind == UNLINKED:
        return read_in_scope(path, UNLINKED_COLUMNS, scope, None), pd.DataFrame()
    gaps = pc.field("likely_eligible") & ~pc.field("receiving")
    programmes = read_in_scope(path, ENTITLEMENT_COLUMNS, scope, gaps)
    return _entitlement_households(programmes), programmes


def _parts(text: object, separator: str) -> tuple[str, ...]:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ()
    cut = separator.strip()
    return tuple(p.strip() for p in str(text).split(cut) if p.strip())[:TOP_REASONS]


def _sources(value: object) -> tuple[str, ...]:
    """The unlinked list's ``sources``: a list of table names, or one string of them."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ()
    if isinstance(value, str):
        return tuple(s.strip() for s in value.replace("；", ",").replace(";", ",").split(",") if s.strip())
    return tuple(str(s) for s in value) if isinstance(value, Iterable) else (str(value),)


def _day(value: object) -> dt.date | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]


def _programmes(rows: pd.DataFrame) -> dict[str, tuple[Entitlement, ...]]:
    """The page's households -> their programmes, the largest yearly amount first."""
    if rows.empty:
        return {}
    rows = rows.assign(
        monthly=pd.to_numeric(rows["est_monthly_amount"], errors="coerce").fillna(0.0),
        one_off=pd.to_numeric(rows["est_one_off_amount"], errors="coerce").fillna(0.0),
    )
    rows["total"] = rows["monthly"] * 12 + rows["one_off"]
    rows = rows.sort_values(["household_key", "total", "programme"], ascending=[True, False, True])
    out: dict[str, list[Entitlement]] = {}
    for r in rows.to_dict("records"):  # one page: at most PAGE_SIZE households' few programmes
        out.setdefault(str(r["household_key"]), []).append(
            Entitlement(
                programme=str(r["programme"]),
                name_zh=PROGRAMME_ZH.get(str(r["programme"]), str(r["programme"])),
                route="",
                est_monthly_amount=float(r["monthly"]),
                est_one_off_amount=float(r["one_off"]),
                reason_zh=_text(r["reason_zh"]) or "",
            )
        )
    return {key: tuple(items) for key, items in out.items()}


def _names(layout: HomeLayout, page: pd.DataFrame, kind: str, as_of: dt.date) -> pd.DataFrame:
    """The page's names and masked IDs (key, name, id_masked, stand_in), read for its keys only."""
    if page.empty:
        return pd.DataFrame(columns=["key", "name", "id_masked", "stand_in"])
    if kind == UNLINKED:
        people = person_identity(layout, page["person_key"].astype(str).tolist(), as_of)
        return people.rename(columns={"person_key": "key"}).assign(stand_in=False)
    keys = page["household_key"].astype(str).tolist()
    contacts = choose_contacts(household_members(layout, pd.Timestamp(as_of), keys))
    return pd.DataFrame(
        {
            "key": contacts["household_key"].astype(str),
            "name": contacts["head_name"],
            "id_masked": contacts["head_id_masked"],
            "stand_in": contacts["stand_in"].astype(bool),
        }
    )


def _alerts(session: Session, scope: Scope, as_of: dt.date, keys: list[str]) -> dict[str, int]:
    """The page's households -> their alert of the month inside the scope (the newest id)."""
    if not keys:
        return {}
    found = session.execute(
        select(Alert.household_key, Alert.id)
        .where(Alert.as_of == as_of, scope.alert_filter(), Alert.household_key.in_(keys))
        .order_by(Alert.id)
    ).all()
    return {str(key): int(alert_id) for key, alert_id in found}


def _rows(
    page: pd.DataFrame,
    kind: str,
    names: pd.DataFrame,
    alerts: dict[str, int],
    programmes: dict[str, tuple[Entitlement, ...]],
    checks: dict[str, tuple[dt.date, str, str | None]] | None = None,
) -> tuple[ListRow, ...]:
    villages, _ = _division_names()
    key_column = "person_key" if kind == UNLINKED else "household_key"
    ranks = pd.to_numeric(page["rank_in_town"], errors="coerce") if "rank_in_town" in page else None
    page = page.assign(key=page[key_column].astype(str), _rank=ranks)
    named = page.merge(names, on="key", how="left")
    codes = None if kind == UNLINKED else household_codes(named["key"])
    out = []
    for i, r in enumerate(named.to_dict("records")):  # one page of at most PAGE_SIZE rows
        village = str(r["village_code"])
        rank = r.get("_rank")
        out.append(
            ListRow(
                town_code=str(r["town_code"]),
                village_code=village,
                village_name=villages.get(village, village),
                household_code=None if codes is None else str(codes.iloc[i]),
                name=_text(r.get("name")),
                id_masked=_text(r.get("id_masked")),
                stand_in=bool(r.get("stand_in")) and not pd.isna(r.get("stand_in")),
                rank_in_town=None if rank is None or pd.isna(rank) else int(rank),
                reasons_zh=_parts(r.get("reasons_zh"), SEPARATOR["zh"]),
                reasons_en=_parts(r.get("reasons_en"), SEPARATOR["en"]),
                due_date=_day(r.get("due_date")),
                alert_id=None if kind == UNLINKED else alerts.get(r["key"]),
                assistance_state=_text(r.get("assistance_state")),
                sources=_sources(r.get("sources")) if kind == UNLINKED else (),
                programmes=programmes.get(r["key"], ()),
                household_key=None if kind == UNLINKED else str(r["key"]),
                county_code=_text(r.get("county_code")),
                check=(checks or {}).get(r["key"]),
            )
        )
    return tuple(out)


def other_list(
    session: Session,
    layout: HomeLayout,
    scope: Scope,
    *,
    kind: str | None,
    as_of: str | None,
    now: dt.datetime,
    page: int = 1,
) -> OtherList:
    """One page of the user's list of that kind (reverify when None) for the month (the latest
    with lists when None); BadValue for an unknown kind, a malformed date or a page out of range,
    NotFound for a month without lists. Audited as ``view_lists`` (kind, month, rows shown and
    total; no names) in the caller's transaction, whatever was found."""
    chosen = validate_kind(kind)
    if not 1 <= page <= MAX_PAGE:
        raise BadValue(f"page must be between 1 and {MAX_PAGE}")
    months = list_months(layout)
    month = pick_month(as_of, months)
    _, towns = _division_names()
    result = OtherList(kind=chosen, as_of=month, months=months, present=False)
    if month is not None and _file(layout, chosen, month).exists():
        listed, programme_rows = _read(layout, scope, chosen, month)
        ranked = _ranked(listed, chosen)
        shown = ranked.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        names = _names(layout, shown, chosen, month)
        keys = [] if chosen == UNLINKED else shown["household_key"].astype(str).tolist()
        alerts = _alerts(session, scope, month, keys)
        on_page = programme_rows[programme_rows["household_key"].isin(keys)] if len(programme_rows) else None
        programmes = _programmes(on_page) if on_page is not None else {}
        checked = chosen in (REVERIFY, PHASE_OUT)
        checks = current_checks(session, scope, keys, month, chosen) if checked else {}
        result = OtherList(
            kind=chosen,
            as_of=month,
            months=months,
            present=True,
            rows=_rows(shown, chosen, names, alerts, programmes, checks),
            total=len(ranked),
            page=page,
            town_names={code: towns.get(code, code) for code in ranked["town_code"].astype(str).unique()},
        )
    record_audit(
        session,
        actor=scope.name,
        action="view_lists",
        target=f"lists:{chosen}:{month.isoformat() if month else '-'}",
        now=now,
        detail={"kind": chosen, "rows": len(result.rows), "total": result.total, "page": page},
    )
    return result


def listed_household(
    session: Session,
    layout: HomeLayout,
    scope: Scope,
    *,
    kind: str,
    as_of: dt.date,
    code: str,
    named: bool = True,
) -> ListRow:
    """The household of that code on the user's 核查 or 渐退 list of the month, named (the page
    of one row; ``named`` False: codes and keys only, no identity table read, for a record);
    the same NotFound for a code not on the list and one outside the scope, so codes cannot be
    probed. Not audited here: the caller audits what it does with it."""
    if kind not in (REVERIFY, PHASE_OUT):
        raise BadValue("re-verification visits are recorded on the reverify and phase_out lists only")
    path = _file(layout, kind, as_of)
    listed = _read(layout, scope, kind, as_of)[0] if path.exists() else pd.DataFrame(columns=CHECK_COLUMNS)
    found = listed[household_codes(listed["household_key"]) == code] if len(listed) else listed
    if len(found) != 1:
        raise NotFound(f"no household {code[:12]} on the {kind} list of {as_of.isoformat()} in your area")
    if not named:
        return _rows(found, kind, pd.DataFrame(columns=["key", "name", "id_masked", "stand_in"]), {}, {})[0]
    keys = found["household_key"].astype(str).tolist()
    names = _names(layout, found, kind, as_of)
    return _rows(found, kind, names, _alerts(session, scope, as_of, keys), {})[0]


def check_list_rows(
    session: Session, layout: HomeLayout, scope: Scope, *, kind: str, as_of: dt.date
) -> tuple[ListRow, ...]:
    """Every row of the user's 核查 or 渐退 list of the month, in the list's order, named and with
    its current record: the offline workbook (:mod:`outreach.check_sheets`). NotFound for a
    month without that list. Not audited here: the export audits it."""
    if kind not in (REVERIFY, PHASE_OUT):
        raise BadValue("only the reverify and phase_out lists have a re-verification workbook")
    if not _file(layout, kind, as_of).exists():
        raise NotFound(f"no {kind} list of {as_of.isoformat()}")
    listed = _ranked(_read(layout, scope, kind, as_of)[0], kind)
    keys = listed["household_key"].astype(str).tolist()
    checks = current_checks(session, scope, keys, as_of, kind)
    return _rows(listed, kind, _names(layout, listed, kind, as_of), {}, {}, checks)

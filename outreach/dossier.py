"""The household dossier behind an alert (the /alerts/{id} page): members, department signals
month by month, risk and reasons, earlier alerts and visits with needs, routes and referrals.

Authorized through the one layer (:func:`outreach.jurisdiction.authorized_alert`: NotFound for
an alert outside the user's area, as for one that does not exist) and audited as
``view_household`` with no personal data in the entry. Parquet is read with column selection
and filters on the household's own keys (the members' person keys), one table per thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lowinc.home import SCORES_FILE, HomeLayout
from outreach.audit import record_audit
from outreach.db import transaction, utc_naive
from outreach.entitlements import Entitlement, open_entitlements
from outreach.jurisdiction import Scope, audited_refusals, authorized_alert
from outreach.members import membership, with_identity
from outreach.schema import Alert, AlertContact, OutcomeNeed, OutcomeRoute, Referral, VisitOutcome, VisitTask

SIGNAL_MONTHS = 24
CHRONIC_MONTHS = 12
# signal code -> (canonical table, columns read)
SIGNAL_TABLES: dict[str, tuple[str, list[str]]] = {
    "medical": ("medical_settlements", ["person_key", "event_date", "copay", "self_pay", "visit_type"]),
    "contributions": (
        "pension_contributions",
        ["person_key", "event_date", "contribution_base", "payment_status"],
    ),
    "registrations": ("property_registrations", ["person_key", "event_date", "direction"]),
    "roster": ("assistance_roster", ["person_key", "event_date", "case_key", "monthly_benefit", "state"]),
    "temporary": ("temporary_assistance", ["person_key", "event_date", "amount"]),
    "disability": (
        "disability_certificates",
        ["person_key", "event_date", "disability_grade", "change_type"],
    ),
}
# what the page charts, in order: code -> unit
SIGNALS = {"medical_oop": "yuan", "contributions": "yuan", "registrations": "count", "assistance": "yuan"}


@dataclass(frozen=True)
class Member:
    name: str | None
    id_masked: str | None
    age: int | None  # at the alert's as-of date
    sex: str | None  # M | F
    relation: str
    disability_grade: int | None  # 1 (most severe) .. 4; None: no valid certificate
    chronic_illness: bool  # a chronic/special outpatient settlement in 12 months
    contact: bool  # the list's contact (the head, or the member standing in)


@dataclass(frozen=True)
class Signal:
    code: str  # medical_oop | contributions | registrations | assistance
    unit: str  # yuan | count
    months: tuple[str, ...]  # YYYY-MM, oldest first
    values: tuple[float, ...]

    @property
    def total(self) -> float:
        return float(sum(self.values))


@dataclass(frozen=True)
class RiskMonth:
    as_of: dt.date
    risk: float
    tier: str
    reasons_zh: str
    reasons_en: str
    alert_id: int | None  # the alert of that month, if listed


@dataclass(frozen=True)
class ReferralView:
    id: int
    route: str
    department: str
    due_date: dt.date
    status: str


@dataclass(frozen=True)
class Visit:
    id: int
    alert_id: int
    visited_on: dt.date
    result: str
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime
    source: str
    current: bool  # False: superseded by a correction
    needs: tuple[tuple[str, str], ...]  # (category, open|met)
    routes: tuple[str, ...]
    referrals: tuple[ReferralView, ...]


@dataclass(frozen=True)
class AlertSummary:
    id: int
    as_of: dt.date
    tier: str
    risk: float
    status: str
    due_date: dt.date
    reasons_zh: str
    reasons_en: str
    action_zh: str
    hard_triggers: str
    village_code: str
    village_name: str
    town_name: str
    household_code: str | None
    model_version: str
    task_status: str | None


@dataclass(frozen=True)
class Contact:
    head_name: str | None
    head_id_masked: str | None
    address: str | None
    group_name: str | None
    stand_in: bool


@dataclass(frozen=True)
class Dossier:
    alert: AlertSummary
    contact: Contact | None
    members: tuple[Member, ...]
    signals: tuple[Signal, ...]
    risk: tuple[RiskMonth, ...]  # oldest first
    alerts: tuple[AlertSummary, ...]  # the household's other alerts, newest first
    visits: tuple[Visit, ...]  # every record of the household's alerts, newest first
    # what it likely qualifies for and does not receive (应救尽救): what to offer at the visit
    entitlements: tuple[Entitlement, ...] = ()


def household_dossier(
    engine: Engine, layout: HomeLayout, scope: Scope, alert_id: int, now: dt.datetime
) -> Dossier:
    """The dossier of the alert's household for a user whose scope covers it (NotFound else;
    both audited)."""
    target = f"alert:{alert_id}"
    with (
        audited_refusals(engine, actor=scope.name, action="view_household_denied", target=target, now=now),
        transaction(engine) as session,
    ):
        alert = authorized_alert(session, scope, alert_id)
        summaries = _alert_summaries(session, alert.household_key)
        contact_row = session.get(AlertContact, alert_id)
        visits = _visits(session, [s.id for s in summaries])
        key = alert.household_key
        as_of = pd.Timestamp(alert.as_of)
        people = membership(layout, as_of, [key])
        detail = {"as_of": alert.as_of.isoformat(), "members": len(people)}
        record_audit(
            session,
            actor=scope.name,
            action="view_household",
            target=target,
            now=utc_naive(now),
            detail=detail,
        )
    with ThreadPoolExecutor(max_workers=3) as pool:
        identified = pool.submit(with_identity, layout, people, as_of)
        frames = _signal_rows(pool, layout.canonical, people["person_key"].tolist(), as_of)
        members = identified.result()
    contact = None
    if contact_row is not None:
        contact = Contact(
            head_name=contact_row.head_name,
            head_id_masked=contact_row.head_id_masked,
            address=contact_row.address,
            group_name=contact_row.group_name,
            stand_in=bool(contact_row.stand_in),
        )
    current = next(s for s in summaries if s.id == alert_id)
    return Dossier(
        alert=current,
        contact=contact,
        members=_members(members, frames, as_of, contact),
        signals=_signals(frames, as_of),
        risk=_risk(layout, key, summaries, current.as_of),
        alerts=tuple(s for s in summaries if s.id != alert_id),
        visits=visits,
        entitlements=open_entitlements(layout, alert.as_of, key),
    )


def _alert_summaries(session: Session, household_key: str) -> list[AlertSummary]:
    rows = session.execute(
        select(Alert, VisitTask.status)
        .outerjoin(VisitTask, VisitTask.alert_id == Alert.id)
        .where(Alert.household_key == household_key)
        .order_by(Alert.as_of.desc(), Alert.id.desc())
    ).all()
    return [
        AlertSummary(
            id=a.id,
            as_of=a.as_of,
            tier=a.tier,
            risk=float(a.risk),
            status=a.status,
            due_date=a.due_date,
            reasons_zh=a.reasons_zh,
            reasons_en=a.reasons_en,
            action_zh=a.action_zh,
            hard_triggers=a.hard_triggers,
            village_code=a.village_code,
            village_name=a.village_name,
            town_name=a.town_name,
            household_code=a.household_code,
            model_version=a.model_version,
            task_status=task_status,
        )
        for a, task_status in rows
    ]


def _visits(session: Session, alert_ids: Sequence[int]) -> tuple[Visit, ...]:
    if not alert_ids:
        return ()
    outcomes = session.execute(
        select(VisitOutcome, VisitTask.alert_id)
        .join(VisitTask, VisitTask.id == VisitOutcome.task_id)
        .where(VisitTask.alert_id.in_(alert_ids))
        .order_by(VisitOutcome.recorded_at.desc(), VisitOutcome.id.desc())
    ).all()
    ids = [o.id for o, _ in outcomes]
    if not ids:
        return ()
    superseded = {o.supersedes_id for o, _ in outcomes if o.supersedes_id is not None}
    needs: dict[int, list[tuple[str, str]]] = {}
    for n in session.execute(select(OutcomeNeed).where(OutcomeNeed.outcome_id.in_(ids))).scalars():
        needs.setdefault(n.outcome_id, []).append((n.category, n.status))
    routes: dict[int, list[str]] = {}
    for r in session.execute(select(OutcomeRoute).where(OutcomeRoute.outcome_id.in_(ids))).scalars():
        routes.setdefault(r.outcome_id, []).append(r.route)
    referrals: dict[int, list[ReferralView]] = {}
    for f in session.execute(
        select(Referral).where(Referral.outcome_id.in_(ids)).order_by(Referral.id)
    ).scalars():
        referrals.setdefault(f.outcome_id, []).append(
            ReferralView(
                id=f.id, route=f.route, department=f.department, due_date=f.due_date, status=f.status
            )
        )
    return tuple(
        Visit(
            id=o.id,
            alert_id=alert_id,
            visited_on=o.visited_on,
            result=o.result,
            note=o.note,
            recorded_by=o.recorded_by,
            recorded_at=o.recorded_at,
            source=o.source,
            current=o.id not in superseded,
            needs=tuple(needs.get(o.id, ())),
            routes=tuple(routes.get(o.id, ())),
            referrals=tuple(referrals.get(o.id, ())),
        )
        for o, alert_id in outcomes
    )


def signal_months(as_of: pd.Timestamp, months: int = SIGNAL_MONTHS) -> list[str]:
    """The ``months`` months before the as-of month, oldest first (YYYY-MM)."""
    start = as_of.to_period("M")
    return [str(start - i) for i in range(months, 0, -1)]


def _signal_rows(
    pool: ThreadPoolExecutor, canonical: Path, person_keys: list[str], as_of: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    """Each signal table's rows of these people, known before as_of and within the window."""
    first = signal_months(as_of)[0]
    last = f"{as_of:%Y-%m}"

    def read(item: tuple[str, tuple[str, list[str]]]) -> tuple[str, pd.DataFrame]:
        code, (table, columns) = item
        root = canonical / table
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        if not person_keys or not root.exists():
            return code, empty
        data = ds.dataset(root, format="parquet", partitioning="hive")
        wanted = (
            (pc.field("known_month") >= first)
            & (pc.field("known_month") < last)
            & pc.field("person_key").isin(person_keys)
        )
        present = [c for c in columns if c in data.schema.names]
        frame: pd.DataFrame = data.to_table(columns=present, filter=wanted).to_pandas()
        return code, frame.reindex(columns=columns)

    return dict(pool.map(read, SIGNAL_TABLES.items()))


def _by_month(frame: pd.DataFrame, values: pd.Series, months: list[str]) -> tuple[float, ...]:
    if frame.empty:
        return tuple(0.0 for _ in months)
    month = pd.to_datetime(frame["event_date"]).dt.strftime("%Y-%m")
    sums = values.groupby(month.to_numpy()).sum()
    return tuple(float(sums.get(m, 0.0)) for m in months)


def _signals(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> tuple[Signal, ...]:
    months = signal_months(as_of)
    med = frames["medical"]
    oop = med["copay"].astype("float64").fillna(0) + med["self_pay"].astype("float64").fillna(0)
    con = frames["contributions"]
    paid = con[con["payment_status"] == "due"]
    reg = frames["registrations"]
    roster = frames["roster"]
    active = roster[roster["state"] != "ended"].drop_duplicates(["case_key", "event_date"])
    temp = frames["temporary"]
    assistance = [
        a + b
        for a, b in zip(
            _by_month(active, active["monthly_benefit"].astype("float64").fillna(0), months),
            _by_month(temp, temp["amount"].astype("float64").fillna(0), months),
            strict=True,
        )
    ]
    series = {
        "medical_oop": _by_month(med, oop, months),
        "contributions": _by_month(paid, paid["contribution_base"].astype("float64").fillna(0), months),
        "registrations": _by_month(reg, pd.Series(1.0, index=reg.index), months),
        "assistance": tuple(assistance),
    }
    return tuple(Signal(code, SIGNALS[code], tuple(months), series[code]) for code in SIGNALS)


def _members(
    members: pd.DataFrame, frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, contact: Contact | None
) -> tuple[Member, ...]:
    certificates = frames["disability"]
    grade: dict[str, int | None] = {}
    if not certificates.empty:
        latest = certificates.sort_values("event_date").drop_duplicates("person_key", keep="last")
        for key, change, value in zip(
            latest["person_key"], latest["change_type"], latest["disability_grade"], strict=True
        ):
            number = pd.to_numeric(value, errors="coerce")
            grade[key] = None if change == "cancelled" or pd.isna(number) else int(number)
    med = frames["medical"]
    since = as_of - pd.DateOffset(months=CHRONIC_MONTHS)
    chronic_rows = med[
        (med["visit_type"] == "chronic_outpatient") & (pd.to_datetime(med["event_date"]) >= since)
    ]
    chronic = set(chronic_rows["person_key"])
    order = {"head": 0, "spouse": 1}
    ranked = members.assign(_o=members["relation"].map(order).fillna(2)).sort_values(
        ["_o", "birth_date"], kind="stable"
    )
    out = []
    for row in ranked.to_dict("records"):
        name, masked, age, sex = (_present(row[c]) for c in ("name", "id_masked", "age", "sex"))
        is_contact = (
            contact is not None
            and contact.head_id_masked is not None
            and masked == contact.head_id_masked
            and name == contact.head_name
        )
        out.append(
            Member(
                name=None if name is None else str(name),
                id_masked=None if masked is None else str(masked),
                age=None if age is None else int(age),
                sex=None if sex is None else str(sex),
                relation=str(row["relation"]),
                disability_grade=grade.get(str(row["person_key"])),
                chronic_illness=str(row["person_key"]) in chronic,
                contact=is_contact,
            )
        )
    return tuple(out)


def _present(value: Any) -> Any:
    """None for a missing value (NaN, NA, NaT, None), else the value."""
    return None if value is None or (not isinstance(value, str) and bool(pd.isna(value))) else value


def _risk(
    layout: HomeLayout, household_key: str, summaries: list[AlertSummary], as_of: dt.date
) -> tuple[RiskMonth, ...]:
    """Risk and reasons by month over the 24 months up to the alert's: the household's scores
    under scores/as_of=*/ where present (one filtered scan), else its alerts."""
    by_month: dict[dt.date, RiskMonth] = {}
    alert_of = {s.as_of: s.id for s in summaries}
    first = (pd.Timestamp(as_of) - pd.DateOffset(months=SIGNAL_MONTHS)).date()
    paths = [str(layout.scores_file(day)) for day in layout.dates_with(SCORES_FILE) if first <= day <= as_of]
    if paths:
        table = ds.dataset(paths, format="parquet").to_table(
            columns=["as_of", "risk", "tier", "reasons_zh", "reasons_en"],
            filter=pc.field("household_key") == household_key,
        )
        for row in table.to_pylist():
            day = pd.Timestamp(row["as_of"]).date()
            by_month[day] = RiskMonth(
                as_of=day,
                risk=float(row["risk"]),
                tier=str(row["tier"]),
                reasons_zh=str(row["reasons_zh"] or ""),
                reasons_en=str(row["reasons_en"] or ""),
                alert_id=alert_of.get(day),
            )
    for s in summaries:
        by_month.setdefault(s.as_of, RiskMonth(s.as_of, s.risk, s.tier, s.reasons_zh, s.reasons_en, s.id))
    return tuple(by_month[d] for d in sorted(by_month))

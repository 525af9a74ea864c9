"""Who a list row is about, in words a worker can use: the household code and the alert contacts.

The household code is short enough to read out over the phone (8 Crockford base32 characters
as ``XXXX-XXXX``) and follows from the household's keyed pseudonym alone, so it is the same
every month and says nothing about the household without the pseudonym key. It is not
personal data; the contact rows (head's name, masked ID, address, 组) are, and live only in
``alert_contacts``, one row per alert, shown to the user entitled to the alert.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from lowinc.errors import BadValue, NotFound
from outreach.db import transaction
from outreach.jurisdiction import acting_scope, audited_refusals, authorized_alert
from outreach.schema import Alert, AlertContact

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to mishear or misread
CODE_CHARS = 8  # 40 bits: a collision within one worker's area is vanishingly rare
CODE_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
# what a person may type for a code: lower case, no dash, and the letters Crockford reads as digits
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0"})
CONTACT_COLUMNS = ["household_key", "head_name", "head_id_masked", "address", "group_name", "stand_in"]
_CONTACT_FIELDS = CONTACT_COLUMNS[1:]
WIDTHS = {"head_name": 100, "head_id_masked": 24, "group_name": 50, "address": 2000}  # alert_contacts


def household_code(household_key: str) -> str:
    """The household's code, e.g. ``7K3M-Q9TD``: 40 bits of SHA-256 of its pseudonym."""
    digest = int.from_bytes(hashlib.sha256(household_key.encode("utf-8")).digest()[:5], "big")
    chars = [CROCKFORD[(digest >> (5 * (CODE_CHARS - 1 - i))) & 31] for i in range(CODE_CHARS)]
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def household_codes(household_keys: pd.Series) -> pd.Series:
    """:func:`household_code` for a column of keys (one per distinct key)."""
    unique = pd.unique(household_keys.astype(str))
    mapping = {key: household_code(key) for key in unique}
    return household_keys.astype(str).map(mapping)


def normalise_code(typed: str) -> str:
    """A code as typed (``7k3mq9td``, ``7K3M Q9TD``, an O for a zero) in its canonical form;
    BadValue for anything that cannot be a code."""
    compact = re.sub(r"[\s\-]", "", typed.strip().upper()).translate(_TYPED)
    code = f"{compact[:4]}-{compact[4:]}"
    if len(compact) != CODE_CHARS or not CODE_PATTERN.match(code):
        raise BadValue(
            "a household code is 8 letters and digits, written XXXX-XXXX",
            hint="copy the 户编码 from the visit list",
        )
    return code


def contacts_frame(contacts: pd.DataFrame) -> pd.DataFrame:
    """The contacts in the written shape: one row per household, every column present, no plain ID.

    A frame with a ``head_id_no`` column is refused: IDs reach the database masked only.
    """
    if "head_id_no" in contacts.columns or "id_no" in contacts.columns:
        raise BadValue("contacts carry a plain ID column", hint="mask it with outreach.privacy.mask_id")
    missing = [c for c in ("household_key", "head_name", "head_id_masked") if c not in contacts.columns]
    if missing:
        raise BadValue(f"contacts lack column(s) {', '.join(missing)}")
    out = contacts.reindex(columns=CONTACT_COLUMNS).drop_duplicates("household_key", keep="first")
    out["stand_in"] = [bool(v) and not pd.isna(v) for v in out["stand_in"]]
    for column, width in WIDTHS.items():  # department text of any length: cut to the column
        out[column] = [None if pd.isna(v) else str(v)[:width] for v in out[column]]
    return out


def write_contacts(engine: Engine, contacts: pd.DataFrame, as_of: dt.date) -> int:
    """Give the month's alerts their household codes and contact rows; returns the rows inserted.

    Only alerts still lacking them are touched (a re-run inserts nothing), all in one
    transaction, as two bulk statements. A household without a contacts row keeps no
    contact row (the page then shows village and household code).
    """
    frame = contacts_frame(contacts)
    with transaction(engine) as session:
        alerts = _month_alerts(session, as_of)
        if alerts.empty:
            return 0
        uncoded = alerts[alerts["household_code"].isna()]
        if len(uncoded):
            codes = household_codes(uncoded["household_key"])
            rows = [{"b_id": int(i), "b_code": c} for i, c in zip(uncoded["id"], codes, strict=True)]
            alerts_table = cast(Table, Alert.__table__)
            statement = (
                update(alerts_table)
                .where(alerts_table.c.id == bindparam("b_id"))
                .values(household_code=bindparam("b_code"))
            )
            session.connection().execute(statement, rows)  # Core executemany: no ORM bookkeeping
        lacking = alerts[~alerts["has_contact"]].merge(frame, on="household_key", how="inner")
        if lacking.empty:
            return 0
        values = lacking[["id", *_CONTACT_FIELDS]].rename(columns={"id": "alert_id"})
        values = values.astype(object).where(values.notna(), None)
        records = cast(list[dict[str, Any]], values.to_dict("records"))
        for record in records:
            record["alert_id"] = int(record["alert_id"])
            record["stand_in"] = bool(record["stand_in"])
        session.connection().execute(insert(cast(Table, AlertContact.__table__)), records)
        return len(records)


def _month_alerts(session: Session, as_of: dt.date) -> pd.DataFrame:
    query = (
        select(
            Alert.id,
            Alert.household_key,
            Alert.household_code,
            AlertContact.alert_id.is_not(None).label("has_contact"),
        )
        .outerjoin(AlertContact, AlertContact.alert_id == Alert.id)
        .where(Alert.as_of == as_of)
    )
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["id", "household_key", "household_code", "has_contact"]
    )
    frame["has_contact"] = frame["has_contact"].astype(bool)
    return frame


def household_of(
    engine: Engine, *, user_name: str, now: dt.datetime, alert_id: int | None = None, code: str | None = None
) -> tuple[str, dt.date]:
    """(household key, as-of date) of an alert, or of the newest alert with a household code,
    in the area of the user (an active worker or officer who may explain). NotFound alike for
    one that does not exist and one outside the area; every refusal audited as explain_denied."""
    target = f"alert:{alert_id}" if alert_id is not None else f"code:{(code or '')[:20]}"
    with (
        audited_refusals(engine, actor=user_name, action="explain_denied", target=target, now=now),
        Session(engine) as session,
    ):
        scope = acting_scope(session, user_name, "explain")
        if alert_id is not None:
            if not 0 < alert_id < 2**31:
                raise NotFound(f"no alert {alert_id} in the area of {user_name}")
            alert = authorized_alert(session, scope, alert_id)
            return alert.household_key, alert.as_of
        wanted = normalise_code(code or "")
        found = session.execute(
            select(Alert.household_key, Alert.as_of)
            .where(Alert.household_code == wanted, scope.alert_filter())
            .order_by(Alert.as_of.desc(), Alert.id.desc())
        ).all()
        if (
            not found or len({key for key, _ in found}) > 1
        ):  # two households sharing a code: ask for the alert
            raise NotFound(
                f"no single household with code {wanted} in the area of {user_name}",
                hint="lowinc explain --alert N with the alert number of the list",
            )
        return found[0][0], found[0][1]

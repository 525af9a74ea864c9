"""Queue a month's visit list: alerts, visit tasks and outbox messages in one transaction.

Cooldown: a household notified within ``cooldown_days`` is listed again (status cooldown,
linked to its previous alert) but not pushed, unless its tier rises or a new hard trigger
appears. Re-running the same month inserts nothing new: alerts are unique per household
and month, messages per idempotency key.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from lowinc.divisions import unknown_codes
from lowinc.errors import UserError
from outreach.assignment import assign_within_capacity
from outreach.audit import record_audit
from outreach.config import OutreachConfig
from outreach.db import insert_ignoring_duplicates, transaction, utc_naive
from outreach.jurisdiction import extra_areas_frame, users_frame
from outreach.messages import RED_ALERT, TIER_RANK, build_messages
from outreach.schema import Alert, Outbox, VisitTask

log = logging.getLogger(__name__)

VISIT_LIST_COLUMNS = [
    "household_key",
    "as_of",
    "county_code",
    "town_code",
    "village_code",
    "village_name",
    "town_name",
    "tier",
    "risk",
    "rank_in_village",
    "rank_in_town",
    "hard_triggers",
    "reasons_zh",
    "reasons_en",
    "action_zh",
    "due_date",
    "model_version",
    "selection",
    "listing_probability",
]
# lists written before exploration (scoring.exploration) were all listed by rank
LIST_DEFAULTS: dict[str, str | float] = {"selection": "rank", "listing_probability": 1.0}
HISTORY_COLUMNS = ["alert_id", "household_key", "as_of", "tier", "hard_triggers"]
TRIGGER_SEPARATOR = "；"


@dataclass(frozen=True)
class QueueSummary:
    as_of: str
    run_id: str
    listed: int  # rows in the visit list
    already_queued: int  # rows of this month queued by an earlier run (skipped)
    alerts: int  # new alert rows
    notify: int
    cooldown: int
    watch: int
    unassigned: int  # alerts to notify that no user covers
    tasks: int
    messages: int
    red_messages: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_division_codes(frame: pd.DataFrame) -> None:
    """Every row's village is a known division and its town and county codes are the village's
    own: the codes become database rows that access checks and export paths rely on."""
    village = frame["village_code"]
    wrong = (
        unknown_codes(village, "village")
        | (frame["town_code"] != village.str[:9])
        | (frame["county_code"] != village.str[:6])
    )
    if wrong.any():
        raise UserError(
            f"{int(wrong.sum())} visit-list rows have a village code that is not a known division, "
            "or town/county codes that are not the village's own",
            hint="re-run `lowinc score` to rebuild the visit list",
        )


def validate_visit_list(visit_list: pd.DataFrame) -> pd.DataFrame:
    """A copy with the contract's columns and types; one as-of month, one row per household."""
    visit_list = visit_list.assign(**{k: v for k, v in LIST_DEFAULTS.items() if k not in visit_list.columns})
    missing = [c for c in VISIT_LIST_COLUMNS if c not in visit_list.columns]
    if missing:
        raise ValueError(f"visit list lacks columns: {missing}")
    frame = visit_list[VISIT_LIST_COLUMNS].copy()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["due_date"] = pd.to_datetime(frame["due_date"]).dt.date
    for column in [
        "household_key",
        "county_code",
        "town_code",
        "village_code",
        "village_name",
        "town_name",
        "tier",
        "reasons_zh",
        "reasons_en",
        "action_zh",
        "model_version",
    ]:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    frame["hard_triggers"] = frame["hard_triggers"].fillna("").astype(str)
    frame["risk"] = frame["risk"].astype(float)
    frame["selection"] = frame["selection"].astype(str)
    frame["listing_probability"] = frame["listing_probability"].astype(float)
    bad = ~frame["selection"].isin(("rank", "explore")) | ~frame["listing_probability"].between(
        0, 1, inclusive="right"
    )
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} visit-list rows have an unknown selection "
            "or a listing probability outside (0, 1]"
        )
    frame[["rank_in_village", "rank_in_town"]] = frame[["rank_in_village", "rank_in_town"]].astype(int)
    check_division_codes(frame)
    if frame["as_of"].nunique() > 1:
        raise ValueError("a visit list holds one as-of month")
    if frame["household_key"].duplicated().any():
        raise ValueError("a visit list holds one row per household")
    unknown = set(frame["tier"]) - set(TIER_RANK)
    if unknown:
        raise ValueError(f"unknown tiers: {sorted(unknown)}")
    return frame


def _triggers(frame: pd.DataFrame) -> pd.DataFrame:
    """(household_key, trigger) pairs from '；'-joined trigger labels."""
    pairs = frame[["household_key"]].assign(trigger=frame["hard_triggers"].str.split(TRIGGER_SEPARATOR))
    pairs = pairs.explode("trigger")
    pairs["trigger"] = pairs["trigger"].fillna("").str.strip()
    return pairs[pairs["trigger"] != ""].drop_duplicates()


def decide_alerts(
    visit_list: pd.DataFrame, history: pd.DataFrame, *, cooldown_days: int, notify_tiers: list[str]
) -> pd.DataFrame:
    """The visit list with ``status`` (notify | cooldown | watch) and ``previous_alert_id``.

    history: notified alerts of earlier months (alert_id, household_key, as_of, tier, hard_triggers).
    """
    frame = visit_list.copy()
    if frame.empty:
        return frame.assign(previous_alert_id=pd.Series(dtype="Int64"), status=pd.Series(dtype=object))
    as_of = frame["as_of"].iloc[0]
    since = as_of - dt.timedelta(days=cooldown_days)
    window = history[(history["as_of"] < as_of) & (history["as_of"] >= since)] if len(history) else history
    window = window.assign(tier_rank=window["tier"].map(TIER_RANK))
    recent = (
        window.sort_values(["household_key", "as_of"])
        .groupby("household_key", sort=False)
        .agg(previous_alert_id=("alert_id", "last"), previous_rank=("tier_rank", "max"))
    )
    frame = frame.join(recent, on="household_key")
    current = _triggers(frame)
    seen = _triggers(window)
    new = current.merge(seen, on=["household_key", "trigger"], how="left", indicator=True)
    with_new_trigger = set(new.loc[new["_merge"] == "left_only", "household_key"])

    in_window = frame["previous_alert_id"].notna()
    rises = frame["tier"].map(TIER_RANK).astype(float) > frame["previous_rank"].astype(float).fillna(-1)
    new_trigger = frame["household_key"].isin(with_new_trigger)
    status = pd.Series("notify", index=frame.index, dtype=object)
    status[in_window & ~rises & ~new_trigger] = "cooldown"
    status[~frame["tier"].isin(notify_tiers)] = "watch"
    frame["status"] = status
    frame["previous_alert_id"] = frame["previous_alert_id"].astype("Int64")
    return frame.drop(columns=["previous_rank"])


def _read_history(session: Session, as_of: dt.date, cooldown_days: int) -> pd.DataFrame:
    """Alerts notified in the cooldown window before as_of."""
    since = as_of - dt.timedelta(days=cooldown_days)
    rows = session.execute(
        select(Alert.id, Alert.household_key, Alert.as_of, Alert.tier, Alert.hard_triggers).where(
            Alert.status == "notify", Alert.as_of < as_of, Alert.as_of >= since
        )
    ).all()
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _visits_assigned(session: Session, as_of: dt.date) -> pd.Series:
    """Visit tasks of this month already assigned, per user (an earlier run of the same month)."""
    rows = session.execute(
        select(VisitTask.assignee_id, func.count())
        .join(Alert, Alert.id == VisitTask.alert_id)
        .where(Alert.as_of == as_of, VisitTask.assignee_id.is_not(None))
        .group_by(VisitTask.assignee_id)
    ).all()
    return pd.Series({int(u): int(n) for u, n in rows if u is not None}, dtype="float64")


def queue_alerts(
    engine: Engine, visit_list: pd.DataFrame, run_id: str, now: dt.datetime, *, config: OutreachConfig
) -> QueueSummary:
    """Write a month's alerts, visit tasks and outbox messages in ONE transaction."""
    now = utc_naive(now)
    frame = validate_visit_list(visit_list)
    if frame.empty:
        return QueueSummary("", run_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    as_of: dt.date = frame["as_of"].iloc[0]
    with transaction(engine) as session:
        done = {k for (k,) in session.execute(select(Alert.household_key).where(Alert.as_of == as_of))}
        fresh = frame[~frame["household_key"].isin(done)]
        history = _read_history(session, as_of, config.cooldown_days)
        decided = decide_alerts(
            fresh, history, cooldown_days=config.cooldown_days, notify_tiers=config.notify_tiers
        )
        users = users_frame(session)
        decided["assignee_id"] = assign_within_capacity(
            decided,
            users,
            extra_areas=extra_areas_frame(session),
            default_capacity=config.worker_capacity,
            used=_visits_assigned(session, as_of),
            visits=decided["status"] == "notify",
        )

        records = decided.drop(columns=["assignee_id"]).assign(run_id=run_id, created_at=now)
        records = records.astype(object).where(records.notna(), None)
        if len(records):
            session.execute(insert(Alert), cast(list[dict[str, Any]], records.to_dict("records")))
        ids = pd.DataFrame(
            session.execute(
                select(Alert.id, Alert.household_key).where(Alert.as_of == as_of, Alert.run_id == run_id)
            ).all(),
            columns=["alert_id", "household_key"],
        )
        decided = decided.merge(ids, on="household_key", how="inner")

        tasks = decided[(decided["status"] == "notify")]
        task_rows = pd.DataFrame(
            {
                "alert_id": tasks["alert_id"].astype(int),
                "assignee_id": tasks["assignee_id"].astype(object).where(tasks["assignee_id"].notna(), None),
                "due_date": tasks["due_date"],
                "status": "new",
            }
        )
        if len(task_rows):
            session.execute(insert(VisitTask), cast(list[dict[str, Any]], task_rows.to_dict("records")))

        messages = build_messages(decided, users, config, as_of=as_of, run_id=run_id, now=now)
        insert_ignoring_duplicates(session, Outbox.__table__, messages)
        unassigned = int(((decided["status"] == "notify") & decided["assignee_id"].isna()).sum())
        counts = decided["status"].value_counts()
        summary = QueueSummary(
            as_of=as_of.isoformat(),
            run_id=run_id,
            listed=len(frame),
            already_queued=len(frame) - len(fresh),
            alerts=len(decided),
            notify=int(counts.get("notify", 0)),
            cooldown=int(counts.get("cooldown", 0)),
            watch=int(counts.get("watch", 0)),
            unassigned=unassigned,
            tasks=len(task_rows),
            messages=len(messages),
            red_messages=sum(1 for m in messages if m["kind"] == RED_ALERT),
        )
        record_audit(
            session,
            actor="system",
            action="queue_alerts",
            target=f"as_of:{as_of.isoformat()}",
            now=now,
            detail=summary.to_dict(),
        )
    if unassigned:
        log.warning(
            "%d alerts to notify have no responsible user (no village, town or county user)", unassigned
        )
    return summary

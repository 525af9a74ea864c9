"""Message texts and idempotency keys for red alerts and digests (pure: frames in, rows out).

Texts name the village, rank, reasons, action and due date, and link to the web page; they
never carry an ID number or the household key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from outreach.config import ChannelName, OutreachConfig

TIER_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
TIER_RANK = {"blue": 0, "yellow": 1, "orange": 2, "red": 3}
RED_ALERT = "red-alert"
DIGEST = "digest"


def idempotency_key(*parts: str) -> str:
    """A stable key from a message's identity and channel (receivers de-duplicate on it)."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def enabled_addresses(addresses: Mapping[ChannelName, str], config: OutreachConfig) -> list[tuple[str, str]]:
    """(channel, address) pairs of a user on the channels switched on, in a fixed order."""
    channels = config.channels
    order: tuple[ChannelName, ...] = ("dingtalk", "wecom", "email", "webhook")
    return [
        (name, addresses[name]) for name in order if addresses.get(name) and getattr(channels, name).enabled
    ]


def red_alert_text(alert: dict[str, Any], link_base: str, ref: str) -> tuple[str, str]:
    """(title, body) of one red alert, pushed at once to the responsible worker."""
    title = f"【红色预警】{alert['town_name']}{alert['village_name']} 村内第{alert['rank_in_village']}位"
    lines = [title]
    if alert["hard_triggers"]:
        lines.append(f"触发：{alert['hard_triggers']}")
    if alert["reasons_zh"]:
        lines.append(f"原因：{alert['reasons_zh']}")
    lines.append(f"建议：{alert['action_zh']}，请于 {alert['due_date']:%Y-%m-%d} 前入户核查")
    lines.append(f"详情：{link_base}/alerts/{alert['alert_id']}")
    lines.append(f"消息编号：{ref[:16]}")
    return title, "\n".join(lines)


def digest_text(
    user_name: str, alerts: pd.DataFrame, as_of: dt.date, link_base: str, max_items: int, ref: str
) -> tuple[str, str]:
    """(title, body) of one worker's digest of the month's orange and yellow alerts."""
    counts = alerts["tier"].value_counts()
    summary = "，".join(
        f"{TIER_ZH[t]} {int(counts[t])} 户" for t in ("orange", "yellow", "blue") if t in counts
    )
    title = f"【走访名单】{as_of:%Y年%m月} {user_name}：{summary}"
    lines = [title]
    row: Any  # a row of the alerts frame: its columns as attributes
    ordered = alerts.sort_values(["tier_rank", "due_date", "rank_in_village"], ascending=[False, True, True])
    for i, row in enumerate(ordered.head(max_items).itertuples(index=False), start=1):
        reason = str(row.reasons_zh).split("；")[0] if row.reasons_zh else ""
        lines.append(
            f"{i}. {row.village_name} 第{row.rank_in_village}位 {TIER_ZH[row.tier]} "
            f"{row.action_zh} 截止 {row.due_date:%Y-%m-%d}" + (f" — {reason}" if reason else "")
        )
    if len(ordered) > max_items:
        lines.append(f"另有 {len(ordered) - max_items} 户，见名单")
    lines.append(f"名单：{link_base}/lists?as_of={as_of:%Y-%m-%d}")
    lines.append(f"消息编号：{ref[:16]}")
    return title, "\n".join(lines)


def build_messages(
    alerts: pd.DataFrame,
    users: pd.DataFrame,
    config: OutreachConfig,
    *,
    as_of: dt.date,
    run_id: str,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """Outbox rows for alerts to notify (columns of the alerts table plus alert_id, assignee_id):
    one per red alert and channel, one digest per worker and channel for the rest."""
    to_send = alerts[(alerts["status"] == "notify") & alerts["assignee_id"].notna()]
    if to_send.empty:
        return []
    to_send = to_send.assign(tier_rank=to_send["tier"].map(TIER_RANK))
    by_id = users.set_index("user_id")
    link = config.link_base_url.rstrip("/")
    rows: list[dict[str, Any]] = []

    def add(
        kind: str,
        user_id: int,
        channel: str,
        address: str,
        key: str,
        title: str,
        body: str,
        alert_ids: list[int],
    ) -> None:
        rows.append(
            {
                "kind": kind,
                "channel": channel,
                "recipient_id": int(user_id),
                "address": address,
                "idempotency_key": key,
                "run_id": run_id,
                "attempts": 0,
                "next_attempt_at": now,
                "status": "pending",
                "created_at": now,
                "payload": {"title": title, "body": body, "as_of": as_of.isoformat(), "alert_ids": alert_ids},
            }
        )

    user: Any  # a row of the users frame
    red = cast(list[dict[str, Any]], to_send[to_send["tier"] == "red"].to_dict("records"))
    for alert in red:
        user = by_id.loc[int(alert["assignee_id"])]
        for channel, address in enabled_addresses(user["addresses"], config):
            key = idempotency_key(RED_ALERT, alert["household_key"], as_of.isoformat(), user["name"], channel)
            title, body = red_alert_text(alert, link, key)
            add(RED_ALERT, alert["assignee_id"], channel, address, key, title, body, [int(alert["alert_id"])])

    user_id: Any  # the assignee_id of the group
    for user_id, group in to_send[to_send["tier"] != "red"].groupby("assignee_id", sort=True):
        user = by_id.loc[int(user_id)]
        content = idempotency_key(*sorted(group["household_key"]))
        for channel, address in enabled_addresses(user["addresses"], config):
            key = idempotency_key(DIGEST, user["name"], as_of.isoformat(), content, channel)
            title, body = digest_text(user["name"], group, as_of, link, config.digest_max_items, key)
            add(
                DIGEST,
                int(user_id),
                channel,
                address,
                key,
                title,
                body,
                sorted(int(i) for i in group["alert_id"]),
            )
    return rows

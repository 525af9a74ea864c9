"""Message texts and idempotency keys for red alerts, digests and list notices (pure: frames in,
rows out), each within its channel's documented size limit.

A message says where to go and how urgent, never who: village, rank, tier, due date, the
category of the reasons (医疗负担, 收入偏低 …) and a link to the web page, which shows the rest
to the worker entitled to it. No name, ID number, address, household key or household code,
and no reason text with a household's own numbers.

Limits (measured in bytes, on what the channel's API receives):

- WeCom group robot: ``text.content`` at most 2,048 bytes of UTF-8 (markdown 4,096; apprise
  sends text);
- DingTalk custom robot: the request body at most 20,000 bytes (error 460101 "message too long,
  exceed 20000 bytes"); apprise posts ``json.dumps`` of the payload, so a Chinese character
  counts as a six-byte ``\\uXXXX`` escape;
- e-mail and webhook: no small limit, kept short anyway (8 KiB of body).

A digest lists its most urgent households (tier, then due date, then rank in the village),
grouped by village so one trip covers several, as many as fit (at most ``digest_max_items``),
and counts the rest; one link to ``/visits``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from outreach.config import ChannelName, OutreachConfig
from scoring.reasons import GROUP_ZH, OTHER, reason_categories
from scoring.tiers import TRIGGER_ZH

TIER_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
TIER_RANK = {"blue": 0, "yellow": 1, "orange": 2, "red": 3}
RED_ALERT = "red-alert"
DIGEST = "digest"
LIST_READY = "list-ready"

WECOM_TEXT_BYTES = 2048  # WeCom group robot, text.content (UTF-8)
WECOM_MARKDOWN_BYTES = 4096  # WeCom group robot, markdown.content (not used: apprise sends text)
DINGTALK_BODY_BYTES = 20000  # DingTalk custom robot, the whole request body
SHORT_BYTES = 8192  # e-mail and webhook: no small limit, kept short
CHANNEL_LIMITS: dict[str, int] = {
    "wecom": WECOM_TEXT_BYTES,
    "dingtalk": DINGTALK_BODY_BYTES,
    "email": SHORT_BYTES,
    "webhook": SHORT_BYTES,
}
# the category of each hard trigger (scoring.tiers.TRIGGER_ZH), in the words of GROUP_ZH
TRIGGER_CATEGORY = {
    TRIGGER_ZH["earner_died"]: GROUP_ZH["death"],
    TRIGGER_ZH["new_severe_disability"]: GROUP_ZH["disability"],
    TRIGGER_ZH["catastrophic_medical"]: GROUP_ZH["medical"],
    TRIGGER_ZH["house_grade_d"]: GROUP_ZH["housing"],
}


def idempotency_key(*parts: str) -> str:
    """A stable key from a message's identity and channel (receivers de-duplicate on it)."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def message_bytes(channel: str, body: str) -> int:
    """The size the channel's limit is about: DingTalk's whole request body as apprise sends it
    (ASCII-escaped JSON), the UTF-8 text for the others."""
    if channel == "dingtalk":
        payload = {"msgtype": "text", "at": {"atMobiles": [], "isAtAll": False}, "text": {"content": body}}
        return len(json.dumps(payload).encode("ascii"))
    return len(body.encode("utf-8"))


def fits(channel: str, body: str) -> bool:
    return message_bytes(channel, body) <= CHANNEL_LIMITS[channel]


def enabled_addresses(addresses: Mapping[ChannelName, str], config: OutreachConfig) -> list[tuple[str, str]]:
    """(channel, address) pairs of a user on the channels switched on, in a fixed order."""
    channels = config.channels
    order: tuple[ChannelName, ...] = ("dingtalk", "wecom", "email", "webhook")
    return [
        (name, addresses[name]) for name in order if addresses.get(name) and getattr(channels, name).enabled
    ]


def categories(hard_triggers: pd.Series, reasons_zh: pd.Series) -> pd.Series:
    """Per alert, the '、'-joined categories of its hard triggers and reasons (no numbers)."""
    from_reasons = reason_categories(reasons_zh)
    out = []
    for triggers, found in zip(hard_triggers.fillna("").astype(str), from_reasons, strict=True):
        words = [TRIGGER_CATEGORY.get(t.strip(), "") for t in triggers.split("；")]
        words = [w for w in dict.fromkeys([*words, *found]) if w and w != OTHER]
        out.append("、".join(words[:3]))
    return pd.Series(out, index=reasons_zh.index, dtype=object)


def _cut(text: str, channel: str, limit: int | None = None) -> str:
    """The text shortened (with '…') until it fits the channel's limit."""
    limit = limit or CHANNEL_LIMITS[channel]
    while message_bytes(channel, text) > limit and len(text) > 1:
        text = text[: max(1, len(text) - max(1, len(text) // 10))] + "…"
    return text


def red_alert_text(
    alert: dict[str, Any], link_base: str, ref: str, channel: str = "webhook"
) -> tuple[str, str]:
    """(title, body) of one red alert, pushed at once to the responsible worker."""
    title = f"【红色预警】{alert['town_name']}{alert['village_name']} 村内第{alert['rank_in_village']}位"
    lines = [title]
    if alert.get("category"):
        lines.append(f"原因类别：{alert['category']}")
    action = f"（建议：{alert['action_zh']}）" if alert.get("action_zh") else ""
    lines.append(f"请于 {alert['due_date']:%Y-%m-%d} 前入户核查{action}")
    tail = [f"详情：{link_base}/alerts/{alert['alert_id']}", f"消息编号：{ref[:16]}"]
    room = CHANNEL_LIMITS[channel] - message_bytes(channel, "\n".join(["", *tail]))
    head = _cut("\n".join(lines), channel, room)
    return _cut(title, channel, room), "\n".join([head, *tail])


def _item_lines(items: pd.DataFrame) -> list[str]:
    """The listed households grouped by village (villages in order of their most urgent one)."""
    lines: list[str] = []
    row: Any
    order = list(dict.fromkeys(items["village_code"]))
    groups = {code: group for code, group in items.groupby("village_code", sort=False)}
    for code in order:
        group = groups[code]
        lines.append(f"{group['village_name'].iloc[0]}（{len(group)} 户）")
        for row in group.itertuples(index=False):
            line = f"· 第{row.rank_in_village}位 {TIER_ZH[row.tier]} {row.due_date:%m-%d}前"
            lines.append(line + (f" {row.category}" if row.category else ""))
    return lines


def _rest_line(rest: pd.DataFrame) -> list[str]:
    if rest.empty:
        return []
    counts = rest["tier"].value_counts()
    by_tier = "，".join(
        f"{TIER_ZH[t]} {int(counts[t])}" for t in ("red", "orange", "yellow", "blue") if t in counts
    )
    return [f"另有 {len(rest)} 户未列出（{by_tier}）"]


def digest_text(
    user_name: str,
    alerts: pd.DataFrame,
    as_of: dt.date,
    link_base: str,
    max_items: int,
    ref: str,
    channel: str = "webhook",
) -> tuple[str, str]:
    """(title, body) of one worker's digest of the month's alerts (columns of the alerts table
    plus ``category``), the most urgent first, as many as fit the channel and ``max_items``."""
    counts = alerts["tier"].value_counts()
    summary = "，".join(
        f"{TIER_ZH[t]} {int(counts[t])} 户" for t in ("red", "orange", "yellow", "blue") if t in counts
    )
    title = _cut(f"【走访名单】{as_of:%Y年%m月} {user_name}：{summary}", channel, 400)
    ordered = alerts.assign(_rank=alerts["tier"].map(TIER_RANK)).sort_values(
        ["_rank", "due_date", "village_code", "rank_in_village"], ascending=[False, True, True, True]
    )
    tail = [f"全部名单：{link_base}/visits", f"消息编号：{ref[:16]}"]

    def body(k: int) -> str:
        listed, rest = ordered.iloc[:k], ordered.iloc[k:]
        return "\n".join([title, *_item_lines(listed), *_rest_line(rest), *tail])

    # the largest k that fits (the body grows with k): a binary search, ~9 renders for 500
    low, high = 0, min(max_items, len(ordered))
    while low < high:
        mid = (low + high + 1) // 2
        if fits(channel, body(mid)):
            low = mid
        else:
            high = mid - 1
    text = body(low)
    return title, text if fits(channel, text) else _cut(text, channel)


def list_ready_text(
    user_name: str, town_name: str, as_of: dt.date, rows: int, link_base: str, ref: str
) -> tuple[str, str]:
    """(title, body) of a town officer's notice that the month's township list is exported."""
    title = f"【名单已生成】{town_name} {as_of:%Y年%m月} 走访名单"
    lines = [
        title,
        f"{user_name}：本月名单共 {rows} 户，可在线查看或下载 Excel。",
        f"查看：{link_base}/visits",
        f"消息编号：{ref[:16]}",
    ]
    return title, "\n".join(lines)


def outbox_row(
    kind: str,
    user_id: int,
    channel: str,
    address: str,
    key: str,
    run_id: str,
    now: dt.datetime,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """One outbox row, pending and due now."""
    return {
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
        "payload": payload,
    }


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
    one per red alert and channel, one digest per assignee and channel for the rest."""
    to_send = alerts[(alerts["status"] == "notify") & alerts["assignee_id"].notna()]
    if to_send.empty:
        return []
    to_send = to_send.assign(category=categories(to_send["hard_triggers"], to_send["reasons_zh"]))
    by_id = users.set_index("user_id")
    link = config.link_base_url.rstrip("/")
    rows: list[dict[str, Any]] = []

    def payload(title: str, body: str, ids: list[int]) -> dict[str, Any]:
        return {"title": title, "body": body, "as_of": as_of.isoformat(), "alert_ids": ids}

    user: Any  # a row of the users frame
    red = cast(list[dict[str, Any]], to_send[to_send["tier"] == "red"].to_dict("records"))
    for alert in red:
        user = by_id.loc[int(alert["assignee_id"])]
        for channel, address in enabled_addresses(user["addresses"], config):
            key = idempotency_key(RED_ALERT, alert["household_key"], as_of.isoformat(), user["name"], channel)
            title, body = red_alert_text(alert, link, key, channel)
            ids = [int(alert["alert_id"])]
            row = outbox_row(
                RED_ALERT, alert["assignee_id"], channel, address, key, run_id, now, payload(title, body, ids)
            )
            rows.append(row)

    user_id: Any  # the assignee_id of the group
    for user_id, group in to_send[to_send["tier"] != "red"].groupby("assignee_id", sort=True):
        user = by_id.loc[int(user_id)]
        content = idempotency_key(*sorted(group["household_key"]))
        ids = sorted(int(i) for i in group["alert_id"])
        for channel, address in enabled_addresses(user["addresses"], config):
            key = idempotency_key(DIGEST, user["name"], as_of.isoformat(), content, channel)
            title, body = digest_text(user["name"], group, as_of, link, config.digest_max_items, key, channel)
            row = outbox_row(
                DIGEST, int(user_id), channel, address, key, run_id, now, payload(title, body, ids)
            )
            rows.append(row)
    return rows

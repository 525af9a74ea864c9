"""Every message fits its channel's documented limit, measured in bytes on what the channel's API
receives, in the worst case: a worker with 500 households in villages with long names."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

from outreach.messages import (
    CHANNEL_LIMITS,
    DINGTALK_BODY_BYTES,
    WECOM_TEXT_BYTES,
    build_messages,
    message_bytes,
)
from tests.outreach.factory import heads, household_key, make_config

AS_OF = dt.date(2024, 6, 1)
NOW = dt.datetime(2024, 6, 3, 9)
LONG_VILLAGE = "浙江省湖州市吴兴区某某镇某某某某某某某某某某某某某某某某股份经济合作社村民委员会社区"
REASON = (
    "近6个月医疗自付 38,200 元，超过家庭同期可见收入；家中无劳动年龄成员；"
    "家庭无可见收入（无工资、养老金、失业金和救助金记录）"
)
ALL_CHANNELS = {
    "dingtalk": "SECabc@" + "t" * 64,
    "wecom": "k" * 36,
    "email": "cw@example.org",
    "webhook": "https://example.org/hook",
}


def _worst_case(n: int = 500, red: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n alerts of one worker over 25 villages with long names, most of them orange/yellow."""
    tiers = ["red"] * red + ["orange", "yellow"] * n
    rows = []
    for i in range(n):
        village = f"3305020010{i % 25:02d}"
        rows.append(
            {
                "alert_id": 10_000 + i,
                "household_key": household_key(i),
                "village_code": village,
                "village_name": f"{LONG_VILLAGE}{i % 25}号",
                "town_name": "某某某某某某某某某某街道",
                "tier": tiers[i],
                "rank_in_village": 1000 + i,
                "hard_triggers": "有收入成员去世；新增重度残疾" if tiers[i] == "red" else "",
                "reasons_zh": REASON,
                "action_zh": "医疗救助",
                "due_date": dt.date(2024, 6, 10) + dt.timedelta(days=i % 20),
                "status": "notify",
                "assignee_id": 7,
            }
        )
    users = pd.DataFrame(
        [
            {
                "user_id": 7,
                "name": "cw-330502001-" + "x" * 60,
                "role": "village_worker",
                "addresses": ALL_CHANNELS,
            }
        ]
    )
    return pd.DataFrame(rows), users


@pytest.fixture(scope="module")
def messages():
    alerts, users = _worst_case()
    config = make_config(digest_max_items=500)
    return build_messages(alerts, users, config, as_of=AS_OF, run_id="r", now=NOW), alerts


def test_every_digest_and_red_alert_fits_its_channel_in_bytes(messages):
    rows, _ = messages
    kinds = {(r["kind"], r["channel"]) for r in rows}
    assert kinds == {(k, c) for k in ("red-alert", "digest") for c in ALL_CHANNELS}
    for row in rows:
        body = row["payload"]["body"]
        assert message_bytes(row["channel"], body) <= CHANNEL_LIMITS[row["channel"]], (
            row["kind"],
            row["channel"],
        )
    wecom = next(r for r in rows if r["kind"] == "digest" and r["channel"] == "wecom")["payload"]["body"]
    assert len(wecom.encode("utf-8")) <= WECOM_TEXT_BYTES == 2048
    ding = next(r for r in rows if r["kind"] == "digest" and r["channel"] == "dingtalk")["payload"]["body"]
    request = {"msgtype": "text", "at": {"atMobiles": [], "isAtAll": False}, "text": {"content": ding}}
    assert len(json.dumps(request).encode()) <= DINGTALK_BODY_BYTES == 20000  # as apprise posts it


def test_a_digest_lists_the_most_urgent_counts_the_rest_and_links_the_visits_page(messages):
    rows, alerts = messages
    for row in (r for r in rows if r["kind"] == "digest"):
        body = row["payload"]["body"]
        listed = len(re.findall(r"^· 第\d+位", body, flags=re.M))
        rest = re.search(r"另有 (\d+) 户未列出", body)
        assert listed > 5 and listed + int(rest.group(1) if rest else 0) == len(alerts) - 3
        assert body.count("http://") == 1 and "/visits" in body
        first = re.search(r"^· 第\d+位 (\S+)", body, flags=re.M)
        assert first and first.group(1) == "橙色"  # top items by tier
    sizes = {
        r["channel"]: message_bytes(r["channel"], r["payload"]["body"]) for r in rows if r["kind"] == "digest"
    }
    print("digest bytes per channel (500 households):", sizes)


def test_messages_carry_no_personal_data_nor_reason_numbers(messages):
    rows, alerts = messages
    people = heads(list(range(500)))
    for row in rows:
        text = row["payload"]["title"] + row["payload"]["body"]
        assert not any(k in text for k in alerts["household_key"])
        assert not any(name in text for name in people["head_name"]) and not re.search(r"\d{15,18}", text)
        assert "38,200" not in text and "元" not in text  # categories, not the reasons' amounts
    red = next(r for r in rows if r["kind"] == "red-alert")["payload"]["body"]
    assert "/alerts/10000" in red and "家庭成员去世" in red and "医疗负担" in red

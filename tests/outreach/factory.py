"""A small synthetic region, its users and visit lists, made in the test (never fetched)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from outreach.config import Channels, EmailChannel, OutreachConfig, RetryPolicy, RobotChannel, UserConfig

COUNTY = "330502"
TOWN_A, TOWN_B = "330502001", "330502002"
VILLAGE_A1, VILLAGE_A2, VILLAGE_B1 = "330502001005", "330502001006", "330502002009"  # real codes
NAMES = {VILLAGE_A1: "东村", VILLAGE_A2: "西村", VILLAGE_B1: "南社区"}
TOWNS = {TOWN_A: "甲镇", TOWN_B: "乙街道"}
REASONS = "近6个月医疗自付 38,200 元，占家庭可见收入 64%；户主 2024年3月 失业登记；新办 二级 肢体残疾证"


def make_config(
    webhook_url: str = "http://127.0.0.1:9/hook", smtp_port: int = 9, **overrides: object
) -> OutreachConfig:
    """Users: a worker for village A1 (webhook + e-mail), an officer for town A, one for the county
    (who answers for town B), and a data-team member without access to personal data."""
    users = [
        UserConfig(
            name="王芳",
            role="village_worker",
            level="village",
            code=VILLAGE_A1,
            addresses={"webhook": webhook_url, "email": "wangfang@example.org"},
        ),
        UserConfig(
            name="李强",
            role="town_officer",
            level="town",
            code=TOWN_A,
            addresses={"webhook": webhook_url, "email": "liqiang@example.org"},
        ),
        UserConfig(
            name="赵敏",
            role="county_officer",
            level="county",
            code=COUNTY,
            addresses={"email": "zhaomin@example.org"},
        ),
        UserConfig(name="数据组", role="data_team"),
    ]
    values: dict[str, object] = {
        "cooldown_days": 90,
        "retry": RetryPolicy(
            max_attempts=3,
            backoff_base_seconds=60,
            backoff_cap_seconds=600,
            connect_timeout_seconds=1,
            read_timeout_seconds=3,
        ),
        "channels": Channels(
            email=EmailChannel(
                smtp_host="127.0.0.1", smtp_port=smtp_port, mode="insecure", from_addr="lowinc@example.org"
            ),
            dingtalk=RobotChannel(verify_tls=False),
            wecom=RobotChannel(verify_tls=False),
        ),
        "users": users,
    }
    values.update(overrides)
    return OutreachConfig(**values)  # type: ignore[arg-type]


def household_key(n: int) -> str:
    return hashlib.sha256(f"household-{n}".encode()).hexdigest()


def visit_list(
    tiers: dict[int, str], as_of: str = "2024-06-01", triggers: dict[int, str] | None = None
) -> pd.DataFrame:
    """One row per household number: households 0-9 in village A1, 10-19 in A2, 20+ in B1."""
    triggers = triggers or {}
    rows = []
    for n, tier in tiers.items():
        village = VILLAGE_A1 if n < 10 else VILLAGE_A2 if n < 20 else VILLAGE_B1
        rows.append(
            {
                "household_key": household_key(n),
                "as_of": pd.Timestamp(as_of),
                "county_code": COUNTY,
                "town_code": village[:9],
                "village_code": village,
                "village_name": NAMES[village],
                "town_name": TOWNS[village[:9]],
                "tier": tier,
                "risk": 0.9 - n / 100,
                "rank_in_village": n % 10 + 1,
                "rank_in_town": n + 1,
                "hard_triggers": triggers.get(n, ""),
                "reasons_zh": REASONS,
                "reasons_en": "out-of-pocket medical cost; head unemployed; new disability certificate",
                "action_zh": "医疗救助" if tier == "red" else "核查低保",
                "due_date": pd.Timestamp(as_of) + pd.Timedelta(days={"red": 6, "orange": 13}.get(tier, 30)),
                "model_version": "lowinc-risk/3",
            }
        )
    frame = pd.DataFrame(rows)
    frame["as_of"] = frame["as_of"].astype("datetime64[ns]")
    frame["due_date"] = frame["due_date"].astype("datetime64[ns]")
    return frame


def heads(numbers: list[int]) -> pd.DataFrame:
    """The protected identity rows for printing: a valid-looking ID and a name per household."""
    return pd.DataFrame(
        {
            "household_key": [household_key(n) for n in numbers],
            "head_id_no": [f"33050219{60 + n % 40:02d}0101{n:03d}{n % 10}" for n in numbers],
            "head_name": [f"张{n}" for n in numbers],
        }
    )


def as_of_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)

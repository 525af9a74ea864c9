"""Unit tests of the pure parts: masking, cooldown decisions, assignment, messages, URLs, backoff."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from outreach.assignment import assign_within_capacity as assign_responsible
from outreach.channels import InvalidAddress, apprise_url
from outreach.config import OutreachConfig, RetryPolicy
from outreach.deliver import backoff_seconds
from outreach.jurisdiction import covers
from outreach.messages import build_messages, idempotency_key
from outreach.privacy import mask_id, mask_ids
from outreach.queue import HISTORY_COLUMNS, decide_alerts, validate_visit_list
from tests.outreach.factory import household_key, make_config, visit_list

NOW = dt.datetime(2024, 6, 3, 9, 0)


def test_an_id_number_is_masked_to_its_first_six_and_last_four_characters():
    assert mask_id("33050219900101123X") == "330502********123X"
    assert mask_id(None) == "" and mask_id("12345") == "*****"
    assert mask_ids(pd.Series(["330502199001011234", None])).tolist() == ["330502********1234", ""]


def test_a_user_covers_the_villages_under_their_code_only():
    assert covers("town", "330502001", "330502001006")
    assert not covers("village", "330502001005", "330502001006")
    assert not covers("village", "330502001005", "330502001")  # a village worker never covers a town
    assert not covers(None, None, "330502001005")


def _history(rows: list[tuple[int, int, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["alert_id", "n", "as_of", "tier", "hard_triggers"])
    frame["household_key"] = frame.pop("n").map(household_key)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame[HISTORY_COLUMNS]


def test_cooldown_holds_a_repeat_but_not_a_rise_a_new_trigger_or_an_old_alert():
    june = validate_visit_list(
        visit_list(
            {0: "orange", 1: "red", 2: "red", 3: "orange", 4: "blue"}, triggers={2: "户主死亡；房屋D级"}
        )
    )
    history = _history(
        [
            (7, 0, "2024-05-01", "orange", ""),
            (8, 1, "2024-05-01", "orange", ""),
            (9, 2, "2024-04-01", "red", "户主死亡"),
            (10, 3, "2024-01-01", "orange", ""),  # 152 days before: outside the cooldown
        ]
    )
    decided = decide_alerts(june, history, cooldown_days=90, notify_tiers=["red", "orange", "yellow"])
    assert decided["status"].tolist() == ["cooldown", "notify", "notify", "notify", "watch"]
    assert decided["previous_alert_id"].tolist()[:4] == [7, 8, 9, pd.NA]


def test_the_village_worker_answers_first_then_the_town_then_the_county():
    users = pd.DataFrame(
        {
            "user_id": [1, 2, 3],
            "level": ["village", "town", "county"],
            "code": ["330502001005", "330502001", "330502"],
        }
    )
    frame = validate_visit_list(visit_list({0: "red", 10: "red", 20: "red"}))
    assert assign_responsible(frame, users).tolist() == [1, 2, 3]
    assert assign_responsible(frame, users[users["level"] == "village"]).isna().tolist() == [
        False,
        True,
        True,
    ]


def _decided(config: OutreachConfig, tiers: dict[int, str]) -> pd.DataFrame:
    frame = decide_alerts(
        validate_visit_list(visit_list(tiers)),
        _history([]),
        cooldown_days=90,
        notify_tiers=config.notify_tiers,
    )
    return frame.assign(alert_id=range(1, len(frame) + 1), assignee_id=1)


def test_messages_carry_no_household_key_and_a_stable_key_per_channel():
    config = make_config(webhook_url="http://127.0.0.1:1/hook")
    users = pd.DataFrame({"user_id": [1], "name": ["王芳"], "addresses": [config.users[0].addresses]})
    decided = _decided(config, {0: "red", 1: "orange", 2: "yellow", 3: "blue"})
    rows = build_messages(decided, users, config, as_of=dt.date(2024, 6, 1), run_id="r", now=NOW)
    assert sorted((r["kind"], r["channel"]) for r in rows) == [
        ("digest", "email"),
        ("digest", "webhook"),
        ("red-alert", "email"),
        ("red-alert", "webhook"),
    ]
    again = build_messages(decided, users, config, as_of=dt.date(2024, 6, 1), run_id="other", now=NOW)
    assert [r["idempotency_key"] for r in rows] == [r["idempotency_key"] for r in again]
    assert len({r["idempotency_key"] for r in rows}) == 4
    for row in rows:
        text = row["payload"]["title"] + row["payload"]["body"]
        assert not any(key in text for key in decided["household_key"])
    digest = next(r for r in rows if r["kind"] == "digest")["payload"]["body"]
    assert "东村（2 户）\n· 第2位 橙色 06-14前 医疗负担" in digest and "蓝色" not in digest


def test_a_long_digest_lists_the_first_households_and_counts_the_rest():
    config = make_config(webhook_url="http://127.0.0.1:1/hook", digest_max_items=3)
    users = pd.DataFrame(
        {"user_id": [1], "name": ["王芳"], "addresses": [{"webhook": "http://127.0.0.1:1/h"}]}
    )
    decided = _decided(config, {n: "yellow" for n in range(8)})
    (row,) = build_messages(decided, users, config, as_of=dt.date(2024, 6, 1), run_id="r", now=NOW)
    body = row["payload"]["body"]
    assert "另有 5 户未列出（黄色 5）" in body and body.count("\n· 第") == 3


def test_the_webhook_url_carries_the_key_as_header_and_body_field():
    config = make_config()
    url = apprise_url("webhook", "https://hooks.example.org/lowinc?x=1", "abc", config)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.scheme == "jsons" and parts.netloc == "hooks.example.org"
    assert query["+X-Idempotency-Key"] == ["abc"] and query[":idempotency_key"] == ["abc"]
    assert query["-x"] == ["1"]  # the address's own query parameters are kept
    mail = parse_qs(urlsplit(apprise_url("email", "a@example.org", "abc", config)).query)
    assert mail["to"] == ["a@example.org"] and mail["mode"] == ["insecure"]
    with pytest.raises(InvalidAddress):
        apprise_url("webhook", "ftp://x", "abc", config)
    assert idempotency_key("a", "b") != idempotency_key("a|b")  # parts are separated


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(backoff_base_seconds=60, backoff_cap_seconds=300)
    assert [backoff_seconds(n, policy) for n in range(1, 6)] == [60, 120, 240, 300, 300]


def test_a_visit_list_with_two_months_or_a_repeated_household_is_refused():
    frame = visit_list({0: "red", 1: "red"})
    with pytest.raises(ValueError, match="one row per household"):
        validate_visit_list(pd.concat([frame, frame]))
    frame.loc[1, "as_of"] = pd.Timestamp("2024-07-01")
    with pytest.raises(ValueError, match="one as-of month"):
        validate_visit_list(frame)
    with pytest.raises(ValueError, match="lacks columns"):
        validate_visit_list(frame.drop(columns=["tier"]))


def test_the_default_database_is_a_sqlite_file_under_the_home(tmp_path):
    assert OutreachConfig().url_for(tmp_path) == f"sqlite:///{tmp_path}/outreach/outreach.db"
    assert OutreachConfig(database_url="postgresql+psycopg://h/db").url_for(tmp_path).startswith("postgresql")


def test_the_outreach_section_reads_the_file_then_the_environment(tmp_path, monkeypatch):
    from pipelines.outreach.dispatch import load_outreach

    (tmp_path / "outreach.yaml").write_text("outreach:\n  cooldown_days: 30\n", encoding="utf-8")
    monkeypatch.setenv("LOWINC_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("LOWINC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LOWINC_OUTREACH__DATABASE_URL", "postgresql+psycopg://db.internal/outreach")
    monkeypatch.setenv("LOWINC_OUTREACH__RETRY__MAX_ATTEMPTS", "2")
    config, home = load_outreach()
    assert (config.cooldown_days, config.retry.max_attempts) == (30, 2)
    assert config.url_for(home) == "postgresql+psycopg://db.internal/outreach"
    assert home == tmp_path / "home"

"""Delivery against real receivers on 127.0.0.1, on SQLite and PostgreSQL: at least once,
never twice, retries with backoff, dead letters."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.deliver import backoff_seconds, deliver_pending
from outreach.queue import queue_alerts
from outreach.schema import Delivery, Outbox
from outreach.status import outbox_status, requeue_dead
from tests.outreach.conftest import NOW
from tests.outreach.factory import make_config, visit_list

pytestmark = pytest.mark.integration
TIERS = {
    0: "red",
    1: "red",
    2: "red",
    3: "orange",
    4: "yellow",
    10: "red",
    11: "orange",
    20: "red",
    21: "yellow",
}


def _outbox(engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.execute(select(Outbox).order_by(Outbox.id)).scalars())


def test_every_message_arrives_once_although_the_receivers_go_down_mid_run(engine, config, webhook, smtp):
    queued = queue_alerts(engine, visit_list(TIERS), "run-1", NOW, config=config)
    keys = {m.idempotency_key: m.channel for m in _outbox(engine)}
    assert queued.messages == len(keys) > 10

    webhook.down_after = 2  # the webhook dies after its second message, in the middle of the run
    smtp.stop()  # and the mail relay is down from the start
    first = deliver_pending(engine, config, NOW)
    assert first.sent == 2 and first.failed == len(keys) - 2 and first.dead == 0
    assert not webhook.up

    assert deliver_pending(engine, config, NOW + dt.timedelta(seconds=30)).due == 0  # backing off
    webhook.start()
    smtp.start()
    second = deliver_pending(engine, config, NOW + dt.timedelta(seconds=61))
    assert second.sent == len(keys) - 2 and second.failed == 0

    arrived = webhook.keys() + smtp.keys()
    assert Counter(arrived) == Counter(list(keys))  # every message, none twice
    assert Counter(webhook.keys()) == Counter(k for k, c in keys.items() if c == "webhook")
    assert {m.status for m in _outbox(engine)} == {"sent"}
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Delivery)).scalar_one() == len(keys) * 2 - 2
    assert deliver_pending(engine, config, NOW + dt.timedelta(days=1)).due == 0  # nothing left


def test_a_lost_response_is_sent_again_and_the_key_lets_the_receiver_drop_it(engine, config, webhook, smtp):
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    webhook.drop_response_at = {1}  # taken, but the sender never hears back
    assert deliver_pending(engine, config, NOW).failed == 1
    assert deliver_pending(engine, config, NOW + dt.timedelta(minutes=2)).sent == 1
    assert len(webhook.received) == 2
    assert len(set(webhook.keys())) == 1  # one message by its idempotency key


def test_webhook_carries_the_key_as_header_and_in_the_body_and_no_household_key(
    engine, config, webhook, smtp
):
    frame = visit_list({0: "red", 3: "orange", 4: "yellow"})
    queue_alerts(engine, frame, "run-1", NOW, config=config)
    deliver_pending(engine, config, NOW)
    red = next(r for r in webhook.received if "红色预警" in r.body["title"])
    assert red.headers["X-Idempotency-Key"] == red.body["idempotency_key"] == red.key
    assert "医疗救助" in red.body["message"] and "/alerts/" in red.body["message"]
    digest = next(r for r in webhook.received if "走访名单" in r.body["title"])
    assert "橙色 1 户，黄色 1 户" in digest.body["title"]
    mail = [r for r in smtp.received if r.target == "wangfang@example.org"]
    assert len(mail) == 2 and all(r.key for r in mail)
    for text in [r.body["message"] for r in webhook.received] + [r.body["text"] for r in smtp.received]:
        assert not any(key in text for key in frame["household_key"])


def test_a_message_that_keeps_failing_becomes_a_dead_letter_the_data_team_sees(db_url):
    from outreach.db import transaction, upgrade
    from outreach.jurisdiction import sync_users

    config = make_config()  # webhook and relay on a port where nothing listens
    engine = upgrade(db_url)
    with transaction(engine) as session:
        sync_users(session, config.users)
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    moment, waits = NOW, []
    for _ in range(config.retry.max_attempts):
        summary = deliver_pending(engine, config, moment)
        assert summary.due == 2
        waits.append(backoff_seconds(len(waits) + 1, config.retry))
        moment += dt.timedelta(seconds=waits[-1])
    assert summary.dead == 2 and waits[:2] == [60, 120]
    status = outbox_status(engine)
    assert status["by_status"]["dead"] == 2
    assert {d["channel"] for d in status["dead_letters"]} == {"webhook", "email"}
    assert all(d["attempts"] == 3 and d["last_error"] for d in status["dead_letters"])
    assert deliver_pending(engine, config, moment + dt.timedelta(days=1)).due == 0
    assert requeue_dead(engine, None, moment, actor="数据组") == 2
    assert outbox_status(engine)["by_status"]["pending"] == 2
    engine.dispose()


def test_an_invalid_address_is_dead_at_once(db_url):
    from outreach.config import UserConfig
    from outreach.db import transaction, upgrade
    from outreach.jurisdiction import sync_users

    config = make_config()
    worker = UserConfig(
        name="王芳",
        role="village_worker",
        level="village",
        code="330502001005",
        addresses={"webhook": "ftp://nowhere"},
    )
    config = config.model_copy(update={"users": [worker]})
    engine = upgrade(db_url)
    with transaction(engine) as session:
        sync_users(session, config.users)
    queue_alerts(engine, visit_list({0: "red"}), "run-1", NOW, config=config)
    assert deliver_pending(engine, config, NOW).dead == 1
    engine.dispose()


def test_two_senders_at_once_never_send_a_message_twice(engine, config, webhook, smtp):
    import threading

    tiers = {n: "red" for n in range(8)}
    queued = queue_alerts(engine, visit_list(tiers), "run-1", NOW, config=config)
    results = []

    def send() -> None:
        results.append(deliver_pending(engine, config, NOW))

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert sum(r.sent for r in results) == queued.messages
    assert sum(r.skipped for r in results) == sum(r.due for r in results) - queued.messages
    arrived = webhook.keys() + smtp.keys()
    assert len(arrived) == len(set(arrived)) == queued.messages

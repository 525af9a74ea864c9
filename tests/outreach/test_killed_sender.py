"""A sender killed between sending a message and recording it sent: the real ``lowinc alerts
send`` in a subprocess, SIGKILLed while the webhook receiver holds the request it has already
taken. The message stays leased (no other sender takes it) until the lease ends; the next
sender sends it again with the same idempotency key. So a receiver sees a key at most twice,
and the outbox records the message once, as sent."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.config import RetryPolicy
from outreach.queue import queue_alerts
from outreach.schema import Delivery, Outbox
from outreach.startup import open_outreach_db
from pipelines.outreach.dispatch import utcnow
from tests.outreach.factory import make_config, visit_list

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 10  # longer than a sender subprocess takes to start and find nothing due
TIERS = {0: "red", 1: "orange", 10: "yellow", 20: "red"}


SEND = [sys.executable, "-m", "pipelines.cli", "alerts", "send", "--json"]


def _sender(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        SEND,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _outbox(engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.execute(select(Outbox).order_by(Outbox.id)).scalars())


def test_a_sender_killed_after_sending_before_recording_sends_a_key_at_most_twice(tmp_path, webhook, smtp):
    retry = RetryPolicy(lease_seconds=LEASE_SECONDS, connect_timeout_seconds=1, read_timeout_seconds=30)
    config = make_config(webhook_url=f"{webhook.url}/hook", smtp_port=smtp.port, retry=retry)
    configs, home = tmp_path / "configs", tmp_path / "home"
    configs.mkdir()
    (configs / "outreach.yaml").write_text(
        yaml.safe_dump({"outreach": config.model_dump(mode="json")}, allow_unicode=True), encoding="utf-8"
    )
    engine = open_outreach_db(config, home)
    queue_alerts(engine, visit_list(TIERS), "run-1", utcnow(), config=config)
    keys = [m.idempotency_key for m in _outbox(engine)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOWINC_", "PREFECT_"))}
    env |= {"LOWINC_HOME": str(home), "LOWINC_CONFIG_DIR": str(configs), "PREFECT_HOME": str(tmp_path)}

    webhook.hold_at = {1}  # the first webhook request is taken, then held unanswered
    sender = _sender(env)
    assert webhook.held.wait(120), "the sender never reached the webhook"
    os.killpg(sender.pid, signal.SIGKILL)  # between send and record
    sender.wait(30)
    webhook.release.set()
    killed_key = webhook.keys()[0]
    [killed] = [m for m in _outbox(engine) if m.idempotency_key == killed_key]
    assert killed.status == "pending" and killed.attempts == 1 and killed.sent_at is None

    # while the lease lasts no sender takes the message again
    again = subprocess.run(SEND, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert webhook.keys().count(killed_key) == 1

    lease_end = killed.next_attempt_at + dt.timedelta(seconds=0.5)
    time.sleep(max(0.0, (lease_end - utcnow()).total_seconds()))
    last = subprocess.run(SEND, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert last.returncode == 0, last.stderr

    arrived = Counter(webhook.keys() + smtp.keys())
    assert arrived[killed_key] == 2  # the receiver dedupes this one by its idempotency key
    assert all(arrived[k] == 1 for k in keys if k != killed_key)
    assert set(arrived) == set(keys)
    outbox = _outbox(engine)
    assert [m.idempotency_key for m in outbox].count(killed_key) == 1
    assert {m.status for m in outbox} == {"sent"}
    with Session(engine) as session:
        tries = session.execute(select(Delivery).where(Delivery.outbox_id == killed.id)).scalars().all()
    assert [(d.attempt, d.ok) for d in tries] == [(2, True)]  # the killed attempt left no record
    engine.dispose()

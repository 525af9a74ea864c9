"""Helpers of the field-loop tests: alerts with their list identity, a second township officer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select, update

from outreach.config import OutreachConfig, UserConfig
from outreach.db import transaction
from outreach.jurisdiction import sync_users
from outreach.queue import queue_alerts
from outreach.schema import Alert, AlertContact
from tests.outreach.factory import TOWN_B, household_key, visit_list

NOW = dt.datetime(2024, 6, 20, 2, 0, 0)  # 10:00 in Zhejiang
TIERS = {0: "red", 1: "orange", 2: "yellow", 3: "blue", 10: "red", 20: "red", 21: "orange"}
TOWN_B_OFFICER = UserConfig(name="孙丽", role="town_officer", level="town", code=TOWN_B)


def listed(engine: Engine, config: OutreachConfig, tiers: dict[int, str] | None = None) -> dict[int, int]:
    """Queue June's list, give each alert a household code and a contact row (what
    outreach.contacts.write_contacts does after queueing), add a town B officer; the alert id
    per household number."""
    tiers = tiers or TIERS
    queue_alerts(engine, visit_list(tiers), "run-1", dt.datetime(2024, 6, 3, 1), config=config)
    with transaction(engine) as session:
        sync_users(session, [*config.users, TOWN_B_OFFICER])
        ids = dict(session.execute(select(Alert.household_key, Alert.id)).all())
        out = {n: ids[household_key(n)] for n in tiers}
        for n, alert_id in out.items():
            session.execute(update(Alert).where(Alert.id == alert_id).values(household_code=f"HH{n:04d}"))
            session.add(
                AlertContact(
                    alert_id=alert_id,
                    head_name=f"张{n}",
                    head_id_masked=f"330502********{n:04d}",
                    address=f"幸福路{n}号",
                    group_name=f"{n % 3 + 1}组",
                    stand_in=n == 1,
                )
            )
    return out

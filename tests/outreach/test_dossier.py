"""The household dossier: members, signals by month, risk, earlier alerts and visits; audited,
authorized through the Scope layer, and without a plain ID anywhere."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lowinc.errors import NotFound
from lowinc.home import HomeLayout
from outreach.audit import read_audit
from outreach.dossier import household_dossier, signal_months
from outreach.jurisdiction import Scope, acting_scope
from outreach.outcomes import record_outcome
from outreach.queue import queue_alerts
from outreach.schema import Alert
from pipelines.outreach.dispatch import write_list_contacts
from tests.outreach.factory import household_key, make_config, visit_list
from tests.outreach.hukou_home import people, write_home

NOW = dt.datetime(2024, 6, 3, 8, 0)
TIERS = {0: "red", 1: "orange", 10: "red", 20: "red"}


@pytest.fixture
def listed(engine: Engine, tmp_path: Path) -> dict[int, int]:
    """Households 0, 1, 10, 20 queued for 2024-06 (and household 0 in 2024-05 too), contacts written."""
    config = make_config()
    queue_alerts(engine, visit_list({0: "orange"}, as_of="2024-05-01"), "run-5", NOW, config=config)
    queue_alerts(engine, visit_list(TIERS), "run-6", NOW, config=config)
    write_home(tmp_path)
    write_list_contacts(engine, tmp_path, visit_list(TIERS))
    keys = {household_key(n): n for n in TIERS}
    with Session(engine) as session:
        rows = session.execute(select(Alert.id, Alert.household_key, Alert.as_of)).all()
    return {keys[k]: i for i, k, d in rows if d == dt.date(2024, 6, 1)}


def _scope(engine: Engine, name: str) -> Scope:
    with Session(engine) as session:
        return acting_scope(session, name, "view_household")


def test_the_dossier_lists_members_signals_risk_and_history(
    engine: Engine, tmp_path: Path, listed: dict[int, int]
) -> None:
    scope = _scope(engine, "王芳")
    alert = listed[0]
    record_outcome(
        engine,
        alert_id=alert,
        user_name="王芳",
        visited_on=dt.date(2024, 6, 2),
        result="confirmed",
        needs=["medical"],
        routes=["medical_aid"],
        now=NOW,
        source="web",
    )
    started = time.perf_counter()
    d = household_dossier(engine, HomeLayout(tmp_path), scope, alert, NOW)
    elapsed = time.perf_counter() - started
    assert d.alert.id == alert and d.alert.household_code
    assert d.contact is not None and d.contact.stand_in and d.contact.head_name == "李桂英"
    by_name = {m.name: m for m in d.members}
    assert set(by_name) == {"李桂英", "王建国"}  # the head who died is not a member
    spouse, son = by_name["李桂英"], by_name["王建国"]
    assert (spouse.age, spouse.sex, spouse.relation, spouse.disability_grade) == (72, "F", "spouse", 2)
    assert spouse.contact and not son.contact
    assert son.chronic_illness and not spouse.chronic_illness
    signals = {s.code: s for s in d.signals}
    assert signals["medical_oop"].months == tuple(signal_months(pd.Timestamp("2024-06-01")))
    assert len(signals["medical_oop"].months) == 24 and signals["medical_oop"].months[-1] == "2024-05"
    medical = dict(zip(signals["medical_oop"].months, signals["medical_oop"].values, strict=True))
    assert medical["2024-03"] == 1500 and medical["2024-04"] == 5500
    assert signals["contributions"].total == 4000 * 11
    assert signals["assistance"].values[-1] == 800  # one case, not once per member
    assert signals["assistance"].total == 800  # the temporary aid known in June is not shown
    assert [r.as_of for r in d.risk] == [dt.date(2024, 5, 1), dt.date(2024, 6, 1)]
    assert d.risk[0].risk == pytest.approx(0.41)  # from the scores of May
    assert [a.as_of for a in d.alerts] == [dt.date(2024, 5, 1)]
    (visit,) = d.visits
    assert visit.result == "confirmed" and visit.needs == (("medical", "open"),)
    assert [r.department for r in visit.referrals] == ["医保局"]
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    text = repr(dataclasses.asdict(d))
    assert not any(p.id_no in text for p in people())  # no plain ID anywhere in the dossier


def test_a_view_is_audited_without_personal_data(
    engine: Engine, tmp_path: Path, listed: dict[int, int]
) -> None:
    household_dossier(engine, HomeLayout(tmp_path), _scope(engine, "李强"), listed[1], NOW)
    audit = read_audit(engine)
    entry = audit[audit["action"] == "view_household"].iloc[-1]
    assert (entry["actor"], entry["target"]) == ("李强", f"alert:{listed[1]}")
    assert not any(p.name in str(entry["detail"]) or p.id_no in str(entry["detail"]) for p in people())


def test_outside_the_area_and_absent_are_the_same_404_and_audited(
    engine: Engine, tmp_path: Path, listed: dict[int, int]
) -> None:
    scope = _scope(engine, "王芳")  # village A1: not A2 (household 10), not town B (household 20)
    for alert in (listed[10], listed[20], 10_000_000):
        with pytest.raises(NotFound) as caught:
            household_dossier(engine, HomeLayout(tmp_path), scope, alert, NOW)
        assert "no alert" in caught.value.message and "吴七" not in caught.value.message
    audit = read_audit(engine)
    assert (audit["action"] == "view_household_denied").sum() == 3
    assert not (audit["action"] == "view_household").any()

"""outreach.checks and outreach.check_records: recording re-verification visits of the 核查 and
渐退 lists — who may, which rows, which results, corrections as history, the list's current
results within a scope, and the audit of records and refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from lowinc.errors import AccessDenied, BadValue, NotFound, UserError
from lowinc.home import HomeLayout
from outreach.audit import read_audit
from outreach.check_records import check_history, current_checks
from outreach.checks import record_check
from outreach.contacts import household_code
from outreach.db import transaction
from outreach.field import FieldConfig
from outreach.jurisdiction import Scope
from outreach.schema import User
from tests.outreach.factory import COUNTY, VILLAGE_A1, VILLAGE_B1, household_key
from tests.outreach.hukou_home import write_home
from tests.outreach.lists_home import write_lists

NOW = dt.datetime(2024, 6, 3, 9, 0, 0)
MONTH = dt.date(2024, 6, 1)
VISITED = dt.date(2024, 6, 2)


@pytest.fixture
def layout(tmp_path: Path) -> HomeLayout:
    home = write_home(tmp_path / "home")
    write_lists(home)
    return home


def _record(engine: Engine, layout: HomeLayout, n: int, **kw: object) -> int:
    values: dict[str, object] = {
        "kind": "reverify",
        "as_of": MONTH,
        "household_code": household_code(household_key(n)),
        "user_name": "王芳",
        "checked_on": VISITED,
        "result": "still_qualifies",
        "now": NOW,
    }
    return record_check(engine, layout, **{**values, **kw}).id  # type: ignore[arg-type]


def _history(engine: Engine, n: int, kind: str = "reverify") -> list[tuple[str, bool]]:
    with transaction(engine) as session:
        return [(r.result, r.current) for r in check_history(session, household_key(n), MONTH, kind)]


def test_a_record_and_its_correction_are_history(engine: Engine, layout: HomeLayout) -> None:
    first = _record(engine, layout, 0, result="review", note="  新购车辆  ")
    with pytest.raises(UserError, match="already has a recorded reverify visit"):
        _record(engine, layout, 0, result="still_qualifies")
    second = _record(engine, layout, 0, result="still_qualifies", correction=True)
    assert second > first
    assert _history(engine, 0) == [("review", False), ("still_qualifies", True)]
    with transaction(engine) as session:
        [record] = [r for r in check_history(session, household_key(0), MONTH, "reverify") if not r.current]
    assert record.note == "新购车辆" and record.recorded_by == "王芳"
    audit = read_audit(engine)
    assert audit["action"].tolist().count("record_check") == 1
    assert audit["action"].tolist().count("correct_check") == 1
    assert audit["action"].tolist().count("record_check_denied") == 1


def test_a_correction_of_nothing_and_a_phase_out_result_on_reverify_are_refused(
    engine: Engine, layout: HomeLayout
) -> None:
    with pytest.raises(UserError, match="no recorded visit to correct"):
        _record(engine, layout, 0, correction=True)
    with pytest.raises(UserError, match="unknown result 'at_risk' of a reverify visit"):
        _record(engine, layout, 0, result="at_risk")
    _record(engine, layout, 2, kind="phase_out", result="at_risk")  # household 2 is in phase-out
    assert _history(engine, 2, "phase_out") == [("at_risk", True)]
    with pytest.raises(BadValue, match="unknown re-verification list"):
        _record(engine, layout, 0, kind="entitlement")
    with pytest.raises(UserError, match="unknown source"):
        _record(engine, layout, 0, source="robot")
    assert _history(engine, 0) == []


def test_dates_and_notes_are_checked(engine: Engine, layout: HomeLayout) -> None:
    with pytest.raises(UserError, match="outside 2024-06-01"):
        _record(engine, layout, 0, checked_on=dt.date(2024, 5, 31))
    with pytest.raises(UserError, match="outside"):
        _record(engine, layout, 0, checked_on=dt.date(2024, 6, 4))  # tomorrow in Zhejiang
    late_evening = dt.datetime(2024, 6, 3, 17, 0)  # 01:00 on 4 June in Zhejiang
    _record(engine, layout, 1, checked_on=dt.date(2024, 6, 4), now=late_evening)
    with pytest.raises(UserError, match="over the limit"):
        _record(engine, layout, 0, note="x" * 50, field=FieldConfig(note_max_chars=10))
    with pytest.raises(UserError, match="control characters"):
        _record(engine, layout, 0, note="a\x00b")
    assert _history(engine, 0) == [] and _history(engine, 1) == [("still_qualifies", True)]


def test_only_an_active_user_of_the_area_records(engine: Engine, layout: HomeLayout) -> None:
    with pytest.raises(NotFound):
        _record(engine, layout, 20)  # town B's household: 王芳 works in A1
    with pytest.raises(NotFound):
        _record(engine, layout, 3)  # in A1 but not on the list
    with pytest.raises(AccessDenied):
        _record(engine, layout, 0, user_name="数据组")
    with pytest.raises(AccessDenied):
        _record(engine, layout, 0, user_name="nobody")
    _record(engine, layout, 20, user_name="赵敏")  # the county officer's
    with transaction(engine) as session:
        session.execute(update(User).where(User.name == "王芳").values(active=False))
    with pytest.raises(AccessDenied):
        _record(engine, layout, 0)
    denied = read_audit(engine)
    denied = denied[denied["action"] == "record_check_denied"]
    assert len(denied) == 5 and denied["actor"].tolist()[3] == "nobody"


def test_the_list_reads_current_results_inside_the_scope_only(engine: Engine, layout: HomeLayout) -> None:
    _record(engine, layout, 0, result="review", note="新购车辆")
    _record(engine, layout, 20, user_name="赵敏", result="still_qualifies")
    keys = [household_key(n) for n in (0, 1, 20)]
    worker = Scope(user_id=1, name="王芳", role="village_worker", areas=(("village", VILLAGE_A1),))
    other = Scope(user_id=3, name="刘洋", role="village_worker", areas=(("village", VILLAGE_B1),))
    county = Scope(user_id=5, name="赵敏", role="county_officer", areas=(("county", COUNTY),))
    with transaction(engine) as session:
        mine = current_checks(session, worker, keys, MONTH, "reverify")
        theirs = current_checks(session, other, keys, MONTH, "reverify")
        everyone = current_checks(session, county, keys, MONTH, "reverify")
        nothing = current_checks(session, county, keys, MONTH, "phase_out")
        no_area = current_checks(session, Scope(9, "数据组", "data_team", ()), keys, MONTH, "reverify")
    assert mine == {household_key(0): (VISITED, "review", "新购车辆")}
    assert theirs == {household_key(20): (VISITED, "still_qualifies", None)}
    assert set(everyone) == {household_key(0), household_key(20)} and nothing == {} and no_area == {}

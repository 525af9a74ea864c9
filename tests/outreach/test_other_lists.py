"""outreach.other_lists and outreach.people: the other lists of a month within a scope, named,
linked to the month's alerts and audited; the person reader of the identity tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from ingest import store
from lowinc.errors import BadValue, NotFound
from lowinc.home import HomeLayout
from outreach.audit import read_audit
from outreach.config import OutreachConfig
from outreach.contacts import household_code
from outreach.db import transaction, upgrade
from outreach.jurisdiction import Scope
from outreach.other_lists import OtherList, other_list
from outreach.people import person_identity
from outreach.queue import queue_alerts
from outreach.schema import Alert
from tests.outreach.factory import (
    COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_B1,
    household_key,
    make_config,
    visit_list,
)
from tests.outreach.hukou_home import write_home
from tests.outreach.lists_home import (
    UNLINKED_A,
    UNLINKED_B,
    UNLINKED_ID_A,
    UNLINKED_ID_B,
    write_lists,
    write_unlinked,
)

NOW = dt.datetime(2024, 6, 3, 9, 0, 0)
WORKER_A1 = Scope(user_id=1, name="王芳", role="village_worker", areas=(("village", VILLAGE_A1),))
WORKER_B1 = Scope(user_id=3, name="刘洋", role="village_worker", areas=(("village", VILLAGE_B1),))
TOWN_OFFICER = Scope(user_id=4, name="李强", role="town_officer", areas=(("town", TOWN_A),))
COUNTY_OFFICER = Scope(user_id=5, name="赵敏", role="county_officer", areas=(("county", COUNTY),))
NOBODY = Scope(user_id=6, name="数据组", role="data_team", areas=())


@pytest.fixture
def layout(tmp_path: Path) -> HomeLayout:
    home = write_home(tmp_path / "home")
    write_lists(home)
    return home


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """The outreach database with the factory's alerts of 2024-06-01 (households 0, 1 and 20)."""
    made = upgrade(f"sqlite:///{tmp_path / 'outreach.db'}")
    config: OutreachConfig = make_config()
    queue_alerts(made, visit_list({0: "red", 1: "orange", 20: "red"}), "run-1", NOW, config=config)
    yield made
    made.dispose()


def _list(engine: Engine, layout: HomeLayout, scope: Scope, **kw: object) -> OtherList:
    with transaction(engine) as session:
        return other_list(session, layout, scope, now=NOW, **kw)  # type: ignore[arg-type]


def _codes(listed: OtherList) -> list[str | None]:
    return [r.household_code for r in listed.rows]


def test_a_worker_gets_their_villages_rows_ranked_named_and_linked(
    engine: Engine, layout: HomeLayout
) -> None:
    listed = _list(engine, layout, WORKER_A1, kind="reverify", as_of=None)
    assert listed.as_of == dt.date(2024, 6, 1) and listed.present
    assert _codes(listed) == [household_code(household_key(0)), household_code(household_key(1))]  # by rank
    first, second = listed.rows
    assert first.name == "李桂英" and first.stand_in  # household 0's head died: the spouse
    assert first.id_masked is not None and "********" in first.id_masked
    assert second.name == "赵一" and not second.stand_in
    assert first.reasons_zh == ("新登记车辆 1 辆", "工商登记 1 户")
    assert first.due_date == dt.date(2024, 6, 14)
    with transaction(engine) as session:
        alerts = dict(session.execute(select(Alert.household_key, Alert.id)).all())
    assert first.alert_id == alerts[household_key(0)] and second.alert_id == alerts[household_key(1)]


def test_scopes_never_leak_another_area(engine: Engine, layout: HomeLayout) -> None:
    b = _list(engine, layout, WORKER_B1, kind="reverify", as_of=None)
    assert _codes(b) == [household_code(household_key(20))]
    assert b.rows[0].name is None  # no hukou rows for household 20 in the home
    town = _list(engine, layout, TOWN_OFFICER, kind="reverify", as_of=None)
    assert set(_codes(town)) == {household_code(household_key(n)) for n in (0, 1, 10)}
    county = _list(engine, layout, COUNTY_OFFICER, kind="reverify", as_of=None)
    # town A first (ranks 1, 2, 3), then town B
    assert _codes(county) == [household_code(household_key(n)) for n in (0, 1, 10, 20)]
    assert [r.town_code for r in county.rows] == [TOWN_A, TOWN_A, TOWN_A, TOWN_B]
    assert _list(engine, layout, NOBODY, kind="reverify", as_of=None).rows == ()
    phase = _list(engine, layout, COUNTY_OFFICER, kind="phase_out", as_of="2024-06-01")
    assert _codes(phase) == [household_code(household_key(2))]


def test_the_entitlement_list_holds_eligible_households_not_receiving(
    engine: Engine, layout: HomeLayout
) -> None:
    listed = _list(engine, layout, COUNTY_OFFICER, kind="entitlement", as_of=None)
    assert _codes(listed) == [household_code(household_key(0)), household_code(household_key(20))]
    zero = listed.rows[0]
    assert [e.programme for e in zero.programmes] == ["medical_assistance", "temporary_aid"]  # largest first
    assert zero.programmes[0].est_one_off_amount == 12400.0 and zero.programmes[0].name_zh == "医疗救助"
    assert listed.rows[1].programmes[0].est_monthly_amount == 700.0
    worker = _list(engine, layout, WORKER_A1, kind="entitlement", as_of=None)
    assert _codes(worker) == [household_code(household_key(0))]


def test_the_unlinked_list_names_people_from_the_identity_table(engine: Engine, layout: HomeLayout) -> None:
    absent = _list(engine, layout, COUNTY_OFFICER, kind="unlinked", as_of=None)
    assert not absent.present and absent.rows == ()
    write_unlinked(layout)
    listed = _list(engine, layout, WORKER_A1, kind="unlinked", as_of=None)
    assert len(listed.rows) == 1
    row = listed.rows[0]
    assert row.name == "外来甲"  # the latest name known before the as-of month
    assert row.id_masked == UNLINKED_ID_A[:6] + "********" + UNLINKED_ID_A[-4:]
    assert row.household_code is None and row.alert_id is None
    assert row.sources == ("employment_registrations", "disability_certificates")
    assert len(_list(engine, layout, COUNTY_OFFICER, kind="unlinked", as_of=None).rows) == 2


def test_person_identity_masks_and_takes_the_latest_name(layout: HomeLayout) -> None:
    write_unlinked(layout)
    found = person_identity(layout, [UNLINKED_A, UNLINKED_B, "nobody"], dt.date(2024, 6, 1))
    assert sorted(found["person_key"]) == sorted([UNLINKED_A, UNLINKED_B])
    assert list(found.columns) == ["person_key", "name", "id_masked"]
    assert UNLINKED_ID_A not in found.to_string()
    earlier = person_identity(layout, [UNLINKED_A], dt.date(2024, 5, 1))
    assert earlier["name"].tolist() == ["外来甲旧名"]
    assert person_identity(layout, [], dt.date(2024, 6, 1)).empty


def test_a_newer_row_without_a_name_keeps_the_older_name_and_only_an_id_masks_it(layout: HomeLayout) -> None:
    write_unlinked(layout)
    # a table delivering the ID without a name, in a later month than every named row
    unnamed = pd.DataFrame({"person_key": [UNLINKED_A, "id-only"], "id_no": [UNLINKED_ID_A, UNLINKED_ID_B]})
    store.write_partition(unnamed.assign(name=None), layout.identity, "pension_contributions", "2024-04")
    found = person_identity(layout, [UNLINKED_A, "id-only"], dt.date(2024, 5, 1)).set_index("person_key")
    assert found.loc[UNLINKED_A, "name"] == "外来甲旧名"  # the 2024-03 named row, not the unnamed 2024-04 one
    assert pd.isna(found.loc["id-only", "name"])
    assert found.loc["id-only", "id_masked"] == UNLINKED_ID_B[:6] + "********" + UNLINKED_ID_B[-4:]


def test_every_call_is_audited_once_without_names(engine: Engine, layout: HomeLayout) -> None:
    _list(engine, layout, WORKER_A1, kind="reverify", as_of=None)
    _list(engine, layout, WORKER_A1, kind="unlinked", as_of=None)
    views = read_audit(engine)
    views = views[views["action"] == "view_lists"]
    assert views["target"].tolist() == ["lists:reverify:2024-06-01", "lists:unlinked:2024-06-01"]
    assert views["detail"].iloc[0]["rows"] == 2 and views["detail"].iloc[0]["kind"] == "reverify"
    assert "李桂英" not in views.to_string() and "赵一" not in views.to_string()


@pytest.mark.parametrize(
    ("kind", "as_of", "error"),
    [("bogus", None, BadValue), ("reverify", "2024-13-01", BadValue), ("reverify", "2024-05-01", NotFound)],
)
def test_bad_kinds_and_months_are_refused(
    engine: Engine, layout: HomeLayout, kind: str, as_of: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        _list(engine, layout, WORKER_A1, kind=kind, as_of=as_of)


@pytest.mark.parametrize("kind", ["reverify", "phase_out", "entitlement", "unlinked"])
def test_a_user_without_rows_gets_an_empty_page_of_every_kind(
    engine: Engine, layout: HomeLayout, kind: str
) -> None:
    write_unlinked(layout)
    for scope in (
        NOBODY,
        Scope(user_id=7, name="x", role="village_worker", areas=(("village", "330502001007"),)),
    ):
        listed = _list(engine, layout, scope, kind=kind, as_of=None)
        assert listed.present and listed.rows == () and listed.total == 0
    past_the_end = _list(engine, layout, COUNTY_OFFICER, kind=kind, as_of=None, page=5)
    assert past_the_end.rows == () and past_the_end.total > 0


def test_a_worker_of_two_villages_sees_both(engine: Engine, layout: HomeLayout) -> None:
    two = Scope(
        user_id=8,
        name="王芳",
        role="village_worker",
        areas=(("village", VILLAGE_A1), ("village", "330502001006")),
    )
    listed = _list(engine, layout, two, kind="reverify", as_of=None)
    assert _codes(listed) == [household_code(household_key(n)) for n in (0, 1, 10)]
    assert listed.rows[2].name == "吴七" and listed.rows[2].alert_id is None  # no alert for household 10

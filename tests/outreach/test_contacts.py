"""Household codes, the contacts of list rows (the stand-in when the head is gone) and their
idempotent write to the outreach database."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from ingest import store
from ingest.link import households_as_of
from lowinc.errors import BadValue, NotFound
from lowinc.home import HomeLayout
from outreach.audit import read_audit
from outreach.contacts import (
    CODE_PATTERN,
    household_code,
    household_codes,
    household_of,
    normalise_code,
    write_contacts,
)
from outreach.members import choose_contacts, household_members
from outreach.queue import queue_alerts
from outreach.schema import Alert, AlertContact
from pipelines.outreach.dispatch import write_list_contacts
from pipelines.outreach.heads import household_contacts, household_heads
from tests.outreach.factory import household_key, make_config, visit_list
from tests.outreach.hukou_home import people, write_home

AS_OF = pd.Timestamp("2024-06-01")
NOW = dt.datetime(2024, 6, 2, 8, 0)


def test_a_household_code_is_eight_crockford_characters_stable_and_distinct() -> None:
    codes = [household_code(household_key(n)) for n in range(2000)]
    assert all(CODE_PATTERN.match(c) for c in codes)
    assert not any(set(c) & set("ILOU") for c in codes)
    assert len(set(codes)) == len(codes)
    assert household_code(household_key(7)) == household_code(household_key(7))
    assert list(household_codes(pd.Series([household_key(1), household_key(1)]))) == [codes[1]] * 2


def test_a_typed_code_is_read_back_and_nonsense_is_refused_in_one_line() -> None:
    code = household_code(household_key(3))
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code(code.replace("0", "O").replace("1", "I")) == code
    for bad in ["", "ABC", "ABCD-EFGH-J", "ÄBCD-EFGH", "ABCU-0000"]:
        with pytest.raises(BadValue):
            normalise_code(bad)


def test_the_spouse_stands_in_for_a_head_who_died_then_the_oldest_adult(tmp_path: Path) -> None:
    layout = write_home(tmp_path)
    contacts = choose_contacts(household_members(layout, AS_OF)).set_index("household_key")
    named = {p.name: p for p in people()}
    h0, h1, h2, h3 = (contacts.loc[household_key(n)] for n in (0, 1, 2, 3))
    assert (h0["head_name"], bool(h0["stand_in"])) == ("李桂英", True)  # the head died: the spouse
    assert (h1["head_name"], bool(h1["stand_in"])) == ("赵一", False)  # the head is there
    assert (h2["head_name"], bool(h2["stand_in"])) == ("孙三", True)  # the adult, not the child
    assert h3["head_name"] == "周五"  # only children left: the oldest
    assert h0["head_id_masked"] == named["李桂英"].id_no[:6] + "*" * 8 + named["李桂英"].id_no[-4:]
    assert h0["address"] is None and h0["group_name"] is None  # not delivered


def test_no_plain_id_leaves_the_contacts_and_heads_frames(tmp_path: Path) -> None:
    write_home(tmp_path)
    plain = {p.id_no for p in people()}
    for frame in (household_contacts(tmp_path, AS_OF), household_heads(tmp_path, AS_OF)):
        text = frame.astype(str).to_string()
        assert not any(i in text for i in plain)
    assert len(household_heads(tmp_path, AS_OF)) == 5


def test_an_address_and_group_a_source_delivers_reach_the_contact(tmp_path: Path) -> None:
    layout = write_home(tmp_path, extra_identity={"address": "东村12号", "group_name": "三组"})
    contacts = choose_contacts(household_members(layout, AS_OF, [household_key(0)]))
    assert contacts[["address", "group_name"]].values.tolist() == [["东村12号", "三组"]]


def _queue(engine: Engine, numbers: range | list[int]) -> None:
    tiers = {n: "red" for n in numbers}
    queue_alerts(engine, visit_list(tiers), "run-1", NOW, config=make_config())


def test_write_contacts_sets_codes_and_rows_once(engine: Engine, tmp_path: Path) -> None:
    write_home(tmp_path)
    _queue(engine, [0, 1, 2, 3, 10, 11])
    listed = visit_list({n: "red" for n in [0, 1, 2, 3, 10, 11]})
    assert write_list_contacts(engine, tmp_path, listed) == 5  # household 11 has no members
    assert write_list_contacts(engine, tmp_path, listed) == 0  # a re-run inserts nothing
    with engine.connect() as connection:
        codes = dict(connection.execute(select(Alert.household_key, Alert.household_code)).all())
        rows = connection.execute(select(AlertContact.head_name, AlertContact.stand_in)).all()
    assert codes[household_key(11)] == household_code(household_key(11))  # a code even without contact
    assert sorted(rows) == sorted(
        [("李桂英", True), ("赵一", False), ("孙三", True), ("周五", True), ("吴七", False)]
    )


def test_write_contacts_refuses_a_plain_id_column(engine: Engine) -> None:
    frame = pd.DataFrame({"household_key": ["k"], "head_id_no": ["330502195001011234"], "head_name": ["x"]})
    with pytest.raises(BadValue):
        write_contacts(engine, frame, AS_OF.date())


def test_ten_thousand_contacts_are_written_in_about_a_second(engine: Engine) -> None:
    numbers = range(10_000)
    frame = visit_list({n: "yellow" for n in numbers})
    queue_alerts(engine, frame, "run-big", NOW, config=make_config())
    contacts = pd.DataFrame(
        {
            "household_key": frame["household_key"],
            "head_name": [f"户主{n}" for n in numbers],
            "head_id_masked": "330502********1234",
            "stand_in": False,
        }
    )
    started = time.perf_counter()
    assert write_contacts(engine, contacts, AS_OF.date()) == 10_000
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        coded = connection.execute(select(func.count()).where(Alert.household_code.is_not(None))).scalar()
    assert coded == 10_000
    print(f"write_contacts of 10,000 alerts: {elapsed:.2f} s")
    assert elapsed < 5, f"{elapsed:.2f} s"  # ~1 s on 2 cores; the bound leaves room for a busy machine
    assert re.match(r"^户主\d+$", contacts["head_name"].iloc[0])


def test_a_head_who_left_the_hukou_is_replaced_by_the_spouse_through_ingests_register(tmp_path: Path) -> None:
    """The membership made by ingest's own register from a base and a move-out change."""
    head, spouse = ("h".ljust(32, "0"), "s".ljust(32, "1"))
    hh = household_key(0)
    base = pd.DataFrame(
        {
            "person_key": [head, spouse],
            "household_key": [hh, hh],
            "division_code": "330502001005",
            "relation": ["head", "spouse"],
            "status": "normal",
            "event_date": pd.Timestamp("2022-01-01"),
        }
    )
    moved = base.iloc[[0]].assign(
        status="moved_out", change_type="move_out", event_date=pd.Timestamp("2024-03-10")
    )
    layout = HomeLayout(tmp_path)
    membership = households_as_of(base, moved, pd.Timestamp("2024-05-31"))
    store.write_partition(membership, layout.canonical, "households", "2024-05")
    identity = pd.DataFrame(
        {
            "person_key": [head, spouse],
            "id_no": ["330502195001011235", "330502195202022226"],
            "name": ["甲", "乙"],
        }
    )
    store.write_partition(identity, layout.identity, "hukou_base", "2022-01")
    before = membership[membership["relation"] == "head"]
    assert before.empty  # what left 7.6-10.9% of the demo's rows without a name
    (row,) = household_contacts(tmp_path, AS_OF).to_dict("records")
    assert (row["head_name"], row["head_id_masked"], row["stand_in"]) == ("乙", "330502********2226", True)


def test_explain_finds_the_household_by_alert_number_or_code_within_the_area_only(engine: Engine) -> None:
    _queue(engine, [0, 20])
    write_contacts(
        engine, pd.DataFrame(columns=["household_key", "head_name", "head_id_masked"]), AS_OF.date()
    )
    with engine.connect() as connection:
        ids = dict(connection.execute(select(Alert.household_key, Alert.id)).all())
    mine, other = ids[household_key(0)], ids[household_key(20)]
    code = household_code(household_key(0))
    assert household_of(engine, user_name="王芳", now=NOW, alert_id=mine) == (household_key(0), AS_OF.date())
    assert household_of(engine, user_name="王芳", now=NOW, code=code.lower())[0] == household_key(0)
    refusals = [
        {"alert_id": other},
        {"alert_id": 0},
        {"code": household_code(household_key(20))},
        {"code": "ZZZZ-ZZZZ"},
    ]
    for refusal in refusals:
        with pytest.raises(NotFound):
            household_of(engine, user_name="王芳", now=NOW, **refusal)  # type: ignore[arg-type]
    audit = read_audit(engine)
    assert (audit["action"] == "explain_denied").sum() == len(refusals)


def test_overlong_department_text_is_cut_to_the_columns(engine: Engine) -> None:
    _queue(engine, [0])
    frame = pd.DataFrame(
        {
            "household_key": [household_key(0)],
            "head_name": ["名" * 500],
            "head_id_masked": ["3" * 40],
            "group_name": ["组" * 80],
            "address": ["路" * 5000],
        }
    )
    assert write_contacts(engine, frame, AS_OF.date()) == 1
    with engine.connect() as connection:
        row = connection.execute(select(AlertContact)).one()
    assert (len(row.head_name), len(row.head_id_masked), len(row.group_name)) == (100, 24, 50)

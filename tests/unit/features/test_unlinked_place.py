"""Placing people without local hukou in a village (features/unlinked_place.py) at T = 2023-06-01."""

from __future__ import annotations

import pandas as pd

from features.unlinked import unlinked_people
from features.unlinked_place import PLACE_COLUMNS, own_rows, place_people, unplaced_counts

T = pd.Timestamp("2023-06-01")
DIVISIONS = pd.DataFrame(
    {
        "village_code": ["330502001005", "330502002009", "330503001001"],
        "village_name": ["浮星桥社区居委会", "车站社区居委会", "某村村民委员会"],
        "town_code": ["330502001", "330502002", "330503001"],
        "county_code": ["330502", "330502", "330503"],
    }
)


def row(person: str, known: str, code: str | None, event: str | None = None, head: str | None = None) -> dict:
    return {
        "person_key": person,
        "head_person_key": head,
        "known_month": known,
        "event_date": pd.Timestamp(event or f"{known}-01"),
        "division_code": code,
    }


def roster(*rows: dict) -> pd.DataFrame:
    return own_rows(pd.DataFrame(list(rows)), ["person_key", "head_person_key"], "assistance_roster")


def places(people: list[str], rows: pd.DataFrame, as_of: pd.Timestamp = T) -> pd.DataFrame:
    return place_people(pd.Index(people, dtype=object), rows, as_of, DIVISIONS).set_index("person_key")


def test_the_latest_row_known_before_t_places_a_person():
    rows = roster(
        row("a", "2023-01", "330502001005"),
        row("a", "2023-04", "330502002009"),  # moved: the later delivery wins
        row("a", "2023-06", "330503001001"),  # delivered in T's month: not known at T
        row("b", "2023-03", "330502001005", event="2023-03-20"),
        row("b", "2023-03", "330503001001", event="2023-03-02"),  # same delivery, earlier event
    )
    out = places(["a", "b"], rows)
    assert out.loc["a", "village_code"] == "330502002009"
    assert (out.loc["a", "town_code"], out.loc["a", "county_code"]) == ("330502002", "330502")
    assert out.loc["b", "village_code"] == "330502001005"
    # a month later the June delivery is known and moves a
    later = places(["a"], rows, pd.Timestamp("2023-07-01"))
    assert later.loc["a", "village_code"] == "330503001001" and later.loc["a", "county_code"] == "330503"


def test_a_head_named_on_a_roster_row_is_placed_by_it():
    out = places(["h"], roster(row("m", "2023-02", "330502002009", head="h")))
    assert out.loc["h", "placed"] and out.loc["h", "village_code"] == "330502002009"


def test_people_without_a_placeable_row_are_kept_and_counted():
    rows = roster(
        row("c", "2023-02", "330503999999"),  # a village the reference does not know, in a known county
        row("d", "2023-02", None),  # no code at all
        row("e", "2023-06", "330502001005"),  # only delivered at T
        row("f", "2023-01", "330502001005"),
        row("f", "2023-03", "330599999999"),  # a later unknown code does not unplace f
    )
    out = places(["c", "d", "e", "f", "g"], rows)  # g: only medical rows, nothing here
    assert tuple(out.reset_index().columns) == PLACE_COLUMNS
    assert out["placed"].tolist() == [False, False, False, True, False]
    assert out.loc["c", "county_code"] == "330503" and pd.isna(out.loc["c", "town_code"])
    assert out.loc["f", "village_code"] == "330502001005"
    assert unplaced_counts(out.reset_index()) == {"330503": 1, "unplaced": 3}


def test_someone_who_joined_the_hukou_is_not_among_the_people_to_place():
    listed = pd.DataFrame(
        [
            {"known_month": "2023-03", "person_key": "a", "table": "assistance_roster"},
            {"known_month": "2023-03", "person_key": "j", "table": "assistance_roster"},
        ]
    )
    people = unlinked_people(listed, T, 12, members=pd.Series(["j"]))
    out = place_people(
        people, roster(row("a", "2023-03", "330502001005"), row("j", "2023-03", "330502001005")), T, DIVISIONS
    )
    assert out["person_key"].tolist() == ["a"]


def test_no_rows_places_no_one():
    out = places(["a"], own_rows(pd.DataFrame(), ["person_key"], "x"))
    assert out["placed"].tolist() == [False] and unplaced_counts(out.reset_index()) == {"unplaced": 1}

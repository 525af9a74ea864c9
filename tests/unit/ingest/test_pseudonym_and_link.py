import stat

import pandas as pd

from ingest.link import Register, households_as_of, hukou_events, unlinked
from lowinc.pseudonym import KEY_ENV, Pseudonymiser, load_key, pseudonym, pseudonymise


def test_the_key_comes_from_the_environment_or_a_private_generated_file(tmp_path):
    assert load_key(tmp_path / "secure", {KEY_ENV: "from-env"}) == b"from-env"
    key = load_key(tmp_path / "secure", {})
    assert len(key) == 64 and load_key(tmp_path / "secure", {}) == key  # made once, then reused
    mode = stat.S_IMODE((tmp_path / "secure" / "pseudonym.key").stat().st_mode)
    assert mode == 0o600


def test_pseudonyms_are_keyed_and_namespaced():
    ids = pd.Series(["330502198001010116", None, "330502198001010116"], dtype="str")
    out = pseudonymise(ids, b"k1")
    assert out.iloc[0] == out.iloc[2] == pseudonym("330502198001010116", b"k1")
    assert pd.isna(out.iloc[1])
    assert pseudonym("1", b"k1") != pseudonym("1", b"k2")
    assert pseudonym("1", b"k1", "household") != pseudonym("1", b"k1")


def test_the_pseudonymiser_gives_the_same_keys_as_hashing_each_number():
    ids = pd.Series(["330502198001010116", "33050219800101011X", None, "33050219800101011X"], dtype="str")
    p = Pseudonymiser(b"k1")
    first, again = p(ids), p(ids.iloc[::-1])
    expected = pseudonymise(ids, b"k1")
    assert first.equals(expected)
    assert again.equals(expected.iloc[::-1])  # remembered numbers come back the same
    assert p(pd.Series(["CASE-1"], dtype="str"), "case").iloc[0] == pseudonym("CASE-1", b"k1", "case")


def _events(rows, with_change):
    cols = ["person_key", "household_key", "division_code", "relation", "status", "event_date"]
    if with_change:
        cols.append("change_type")
    frame = pd.DataFrame(rows, columns=cols)
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame


def test_households_follow_births_splits_and_deaths_up_to_the_as_of_date():
    base = _events(
        [
            ("a", "H1", "d", "head", "normal", "2023-01-01"),
            ("b", "H1", "d", "son", "normal", "2023-01-01"),
            ("c", "H1", "d", "parent", "normal", "2023-01-01"),
        ],
        False,
    )
    changes = _events(
        [
            ("b", "H2", "d", "head", "normal", "2023-02-10", "split"),
            ("c", "H1", "d", "parent", "dead", "2023-03-05", "death"),
            ("e", "H1", "d", "grandchild", "normal", "2023-04-01", "birth"),
        ],
        True,
    )
    at = households_as_of(base, changes, pd.Timestamp("2023-03-31"))
    assert dict(zip(at["person_key"], at["household_key"], strict=True)) == {"a": "H1", "b": "H2"}
    later = households_as_of(base, changes, pd.Timestamp("2023-04-30"))
    assert set(later["person_key"]) == {"a", "b", "e"}


def test_a_register_advanced_month_by_month_equals_one_built_at_once():
    base = _events(
        [
            ("a", "H1", "d", "head", "normal", "2023-01-01"),
            ("b", "H1", "d", "son", "normal", "2023-01-01"),
            ("c", "H1", "d", "parent", "normal", "2023-01-01"),
        ],
        False,
    )
    feb = _events([("b", "H2", "d", "head", "normal", "2023-02-10", "split")], True)
    # known in March: a death dated in February (late) and a birth dated in April (not due yet)
    mar = _events(
        [
            ("c", "H1", "d", "parent", "dead", "2023-02-20", "death"),
            ("e", "H1", "d", "grandchild", "normal", "2023-04-01", "birth"),
        ],
        True,
    )
    register = Register()
    for month_end, events in (
        ("2023-01-31", hukou_events(base, feb.iloc[:0])),
        ("2023-02-28", hukou_events(base.iloc[:0], feb)),
        ("2023-03-31", hukou_events(base.iloc[:0], mar)),
    ):
        register.advance(events, pd.Timestamp(month_end))
    at_once = households_as_of(base, pd.concat([feb, mar]), pd.Timestamp("2023-03-31"))
    assert register.households().equals(at_once)
    assert set(at_once["person_key"]) == {"a", "b"}
    register.advance(hukou_events(base.iloc[:0], mar.iloc[:0]), pd.Timestamp("2023-04-30"))
    assert set(register.households()["person_key"]) == {"a", "b", "e"}  # the birth, once due


def test_rows_of_people_outside_the_register_are_marked_unlinked():
    register = Register()
    register.advance(
        hukou_events(_events([("a", "H1", "d", "head", "normal", "2023-01-01")], False), pd.DataFrame()),
        pd.Timestamp("2023-01-31"),
    )
    frame = pd.DataFrame(
        {"person_key": ["a", "x", None], "head_person_key": ["a", "a", "y"], "source_file": "f.csv"}
    )
    mask, counted = unlinked(frame, ["person_key", "head_person_key"], register)
    assert mask.tolist() == [False, True, True]
    assert set(zip(counted["key_column"], counted["person_key"], counted["rows"], strict=True)) == {
        ("person_key", "x", 1),
        ("head_person_key", "y", 1),
    }

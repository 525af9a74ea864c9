"""The labels-only spine of a written snapshot (relabelling): its households in the
snapshot's order, and None whenever the membership no longer gives exactly them."""

from __future__ import annotations

import pandas as pd

from features.spine import Spine, build_spine, label_spine
from tests.unit.features.factory import DIVISIONS, PEOPLE, hukou_base, membership

T = pd.Timestamp("2023-07-01")


def test_it_keeps_the_snapshot_order_and_finds_the_same_households_as_the_full_spine():
    households = membership()
    keys = pd.Series(["h2", "h1"])  # not the full spine's (sorted) order
    spine = label_spine(households, keys, T)
    assert spine is not None
    assert spine.household_index.tolist() == ["h2", "h1"]
    full = build_spine(households, hukou_base(), DIVISIONS, T)
    people = pd.Series(["p1", "p2", "p3", "p4", "stranger"])

    def households_of(s: Spine) -> list[str | None]:
        pos = s.household_of(people)
        return [s.household_index[p] if p >= 0 else None for p in pos]

    assert households_of(spine) == households_of(full) == ["h1", "h1", "h1", "h2", None]
    assert spine.household_of(pd.Series(["stranger"])).tolist() == [-1]


def test_it_refuses_a_membership_that_differs_from_the_snapshot():
    households = membership()
    assert label_spine(households, pd.Series(["h1"]), T) is None  # h2 is new since
    assert label_spine(households, pd.Series(["h1", "h2", "h3"]), T) is None  # h3 is gone
    assert label_spine(households, pd.Series(["h1", "h2", "h1"]), T) is None  # a key repeats
    only_h1 = membership([p for p in PEOPLE if p[1] == "h1"])
    assert label_spine(only_h1, pd.Series(["h1", "h2"]), T) is None

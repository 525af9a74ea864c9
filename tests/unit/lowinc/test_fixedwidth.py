import numpy as np
import pandas as pd
import pytest

from lowinc import fixedwidth
from lowinc.fixedwidth import GrowingKeyIndex, KeyIndex, as_fixed, from_fixed


def _keys(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([f"{x:032x}" for x in rng.integers(0, 2**62, n)], dtype="S32")


def test_fixed_width_strings_round_trip_through_arrow_buffers():
    s = pd.Series(["330502198001010116", "33050219800101011X"], dtype="str")
    fixed = as_fixed(s.iloc[1:], 18)  # a slice: the buffer starts past the first value
    assert fixed.tolist() == [b"33050219800101011X"]
    assert from_fixed(as_fixed(s, 18)).equals(s)
    back = from_fixed(np.array([b"ab", b"cd"]), np.array([True, False]))
    assert back.iloc[0] == "ab" and pd.isna(back.iloc[1])
    with pytest.raises(ValueError, match="18 bytes"):
        as_fixed(pd.Series(["330502198001010116", "short"], dtype="str"), 18)
    with pytest.raises(ValueError):
        as_fixed(pd.Series(["330502198001010116", None], dtype="str"), 18)


def test_key_index_finds_what_a_hash_table_on_the_strings_finds():
    known = _keys(5000)
    queries = np.concatenate([known[::7], _keys(300, seed=1)])
    expected = pd.Index(known.astype(str)).get_indexer(queries.astype(str))
    assert (KeyIndex(known).find(queries) == expected).all()
    assert (expected == -1).sum() == 300


def test_key_index_stays_exact_when_digests_collide(monkeypatch):
    monkeypatch.setattr(fixedwidth, "digest64", lambda keys: np.zeros(len(keys), dtype=np.uint64))
    known = _keys(50)
    index = KeyIndex(known)
    assert (index.find(known) == np.arange(50)).all()
    assert (index.find(_keys(5, seed=2)) == -1).all()


def test_a_growing_index_keeps_the_positions_of_keys_added_in_batches():
    keys = _keys(3000)
    index = GrowingKeyIndex(32)
    for batch in np.array_split(keys, [10, 20, 1000, 1010, 2500]):
        index.add(batch)
    assert len(index) == 3000
    shuffled = np.random.default_rng(3).permutation(3000)
    assert (index.find(keys[shuffled]) == shuffled).all()
    assert (index.find(_keys(4, seed=9)) == -1).all()

import numpy as np
import pytest

from lowinc import idno


def test_check_char_matches_the_published_example():
    assert idno.check_char("11010519491231002") == "X"
    assert idno.is_valid("11010519491231002X")
    assert not idno.is_valid("110105194912310021")
    assert not idno.is_valid("11010519491231002x")  # lower-case x is a defect to repair first


def test_fifteen_digit_numbers_upgrade_with_the_19_century_and_a_check_char():
    assert idno.upgrade_15("110105491231002") == "11010519491231002X"
    with pytest.raises(ValueError):
        idno.upgrade_15("11010549123100")


def test_vectorised_check_agrees_with_the_scalar_one():
    rng = np.random.default_rng(0)
    first17 = np.array(["".join(map(str, rng.integers(0, 10, 17))) for _ in range(500)], dtype="S17")
    full = idno.complete_vec(first17)
    assert [idno.check_char(f.decode()) for f in first17] == [x.decode()[-1] for x in full]
    last = np.array([x[-1:] for x in full])
    wrong = np.where(last == b"0", b"1", b"0")
    spoiled = full.copy()
    spoiled[::7] = np.char.add(first17[::7], wrong[::7])
    expected = np.ones(len(full), bool)
    expected[::7] = False
    assert (idno.valid_vec(spoiled) == expected).all()


def test_make_first17_encodes_area_birth_date_and_sequence():
    got = idno.make_first17(
        np.array([b"330502"]), np.array(["1985-03-07"], dtype="datetime64[D]"), np.array([11])
    )
    assert got[0] == b"33050219850307011"

"""The one strict check of division codes (issue 12, point 9)."""

from __future__ import annotations

import pytest

from lowinc.divisions import contains, level_of, load_divisions, validate_code
from lowinc.errors import UserError


def test_known_codes_of_each_level_pass_and_name_their_level():
    assert [level_of(c) for c in ["330502", "330502001", "330502001005"]] == ["county", "town", "village"]
    assert validate_code("330502001", "town") == "330502001"
    assert len(load_divisions()) > 25_000


@pytest.mark.parametrize(
    "code",
    [
        "330502001/../../../../../x",
        "../330502001",
        "33050200",  # 8 digits
        "3305020010",  # 10 digits
        "３３０５０２００１",  # full-width digits are digits to str.isdigit, not here
        "٣٣٠٥٠٢٠٠١",  # Arabic-Indic digits
        "330502001\n",
        " 330502001",
        "33050200１",
        "330502999",  # the right shape, no such town
        "",
        None,
        330502001,
    ],
)
def test_anything_but_a_known_code_is_refused_without_echoing_it(code):
    with pytest.raises(UserError) as refused:
        validate_code(code)
    if isinstance(code, str) and not code.isascii():
        assert code not in refused.value.line()


def test_a_code_of_the_wrong_level_is_refused():
    with pytest.raises(UserError, match="town code"):
        validate_code("330502001005", "town")


def test_containment_is_structural():
    assert contains("330502", "330502001005") and contains("330502001", "330502001005")
    assert contains("330502001", "330502001")
    assert not contains("330502001005", "330502001")  # a village does not contain its town
    assert not contains("330502001", "330502002009")
    with pytest.raises(UserError):
        contains("330502", "330502001/../../330503")

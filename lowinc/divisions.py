"""The division codes of Zhejiang (统计用区划代码) and the one strict check every code passes.

A code names a county (6 digits), a town (9) or a village/community (12); a longer code starts
with the codes of the areas it lies in. Codes arrive from the command line, configuration and
department files, so before one is compared with another or becomes part of a path it must be
ASCII digits of a level's length *and* a division the reference knows: anything else (a path
traversal, a code cut short, full-width digits) is refused here, once, for every caller.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

import pandas as pd

from lowinc.errors import UserError

HINT = "use a code from lowinc/data/zhejiang_divisions.csv.gz (e.g. town 330502001)"

Level = Literal["county", "town", "village"]
LEVEL_DIGITS: dict[Level, int] = {"county": 6, "town": 9, "village": 12}
LEVEL_OF_LENGTH: dict[int, Level] = {n: level for level, n in LEVEL_DIGITS.items()}
# \d would also match full-width and other Unicode digits; only ASCII 0-9 are codes
ASCII_DIGITS = re.compile(r"[0-9]+")
REFERENCE = "data/zhejiang_divisions.csv.gz"


def load_divisions() -> pd.DataFrame:
    """Every village/community of Zhejiang with its town, county and city codes and names (all str)."""
    with resources.files("lowinc").joinpath(REFERENCE).open("rb") as f:
        return pd.read_csv(f, compression="gzip", dtype=str)


@cache
def known_codes() -> dict[Level, frozenset[str]]:
    """The reference's codes per level (read once per process)."""
    divisions = load_divisions()
    return {level: frozenset(divisions[f"{level}_code"]) for level in LEVEL_DIGITS}


def validate_code(code: object, level: Level | None = None) -> str:
    """The code itself when it is a known division (of the given level, if one is given); a
    UserError otherwise. The message repeats the input only once it is known to be digits."""
    expected = f"a {level} code ({LEVEL_DIGITS[level]} digits)" if level else "a 6, 9 or 12-digit code"
    if not isinstance(code, str) or ASCII_DIGITS.fullmatch(code) is None:
        raise UserError(f"not a division code: {expected} has ASCII digits only", hint=HINT)
    found = LEVEL_OF_LENGTH.get(len(code))
    if found is None or (level is not None and found != level):
        raise UserError(f"not a division code: {expected} is needed, got {len(code)} digits", hint=HINT)
    if code not in known_codes()[found]:
        raise UserError(
            f"unknown division code: {code} is not in the Zhejiang divisions reference", hint=HINT
        )
    return code


def unknown_codes(codes: pd.Series, level: Level) -> pd.Series:
    """Per row, whether the code is not a known division of the level (vectorised: a whole
    column of a department file or visit list at once; the set lookup implies digits and length)."""
    return ~codes.astype("string").isin(list(known_codes()[level])).fillna(False).astype(bool)


def level_of(code: str) -> Level:
    """The level of a validated code."""
    return LEVEL_OF_LENGTH[len(validate_code(code))]


def contains(outer: str, inner: str) -> bool:
    """Whether the division ``outer`` contains (or is) ``inner``; both are validated first.

    Structural, not a string prefix of raw input: ``inner``'s ancestor at ``outer``'s level must
    be ``outer`` itself, and ``inner`` cannot be above ``outer``.
    """
    outer_level, inner_level = level_of(outer), level_of(inner)
    digits = LEVEL_DIGITS[outer_level]
    return LEVEL_DIGITS[inner_level] >= digits and inner[:digits] == outer

"""Resident ID numbers (GB 11643-1999): check characters, validation, 15→18 upgrade.

Vectorised forms work on numpy byte-string arrays (dtype ``S17``/``S18``) so millions of
numbers are made or checked without a Python loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"
_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode(), dtype="S1")


def check_char(first17: str) -> str:
    """The check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(d) * int(w) for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def is_valid(id_no: str) -> bool:
    """True for an 18-character ID whose check character matches (upper-case X only)."""
    return len(id_no) == 18 and id_no[:17].isdigit() and id_no[17] == check_char(id_no[:17])


def upgrade_15(id15: str) -> str:
    """Turn an old 15-digit number (2-digit year, no check) into its 18-character form."""
    if len(id15) != 15 or not id15.isdigit():
        raise ValueError(f"need 15 digits, got {id15!r}")
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_char(first17)


def digits_matrix(ids: np.ndarray, width: int = 17) -> np.ndarray:
    """The first ``width`` characters of byte-string IDs as an (n, width) uint8 digit matrix."""
    raw = np.asarray(ids, dtype=f"S{max(width, 18)}")
    mat = raw.view(np.uint8).reshape(len(raw), -1)[:, :width]
    return mat.astype(np.int64) - ord("0")


def check_chars_vec(first17: np.ndarray) -> np.ndarray:
    """Check characters (dtype S1) for an array of 17-digit byte strings."""
    if len(first17) == 0:
        return np.array([], dtype="S1")
    total = digits_matrix(first17) @ WEIGHTS
    return _CHECK_BYTES[total % 11]


def complete_vec(first17: np.ndarray) -> np.ndarray:
    """18-character IDs (dtype S18) from 17-digit byte strings."""
    first17 = np.asarray(first17, dtype="S17")
    return np.char.add(first17, check_chars_vec(first17))


def make_first17(area: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """17-digit prefixes from 6-digit area codes, birth dates (datetime64[D]) and sequence."""
    ymd = np.datetime_as_string(np.asarray(birth, dtype="datetime64[D]")).astype("S10")
    ymd = np.char.replace(ymd, b"-", b"")
    seq_s = np.char.zfill(np.asarray(seq, dtype=np.int64).astype("S3"), 3)
    return np.char.add(np.char.add(np.asarray(area, dtype="S6"), ymd), seq_s)


def valid_vec(ids: np.ndarray) -> np.ndarray:
    """Boolean mask of well-formed 18-character IDs with a matching check character."""
    arr = np.asarray(ids, dtype="S20")
    ok = np.char.str_len(arr) == 18
    mat = arr.view(np.uint8).reshape(len(arr), -1)
    digits = (mat[:, :17] >= ord("0")) & (mat[:, :17] <= ord("9"))
    ok &= digits.all(axis=1)
    out = np.zeros(len(arr), dtype=bool)
    if ok.any():
        good = arr[ok].astype("S18")
        out[ok] = check_chars_vec(good.astype("S17")) == good.view("S1").reshape(-1, 18)[:, 17]
    return out


# --- normalisation of delivered ID numbers (vectorised over pandas string Series) ---------

_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x", "\u3000": " "}
)
_ID_SHAPE = r"\d{17}[\dX]"
# Python's Unicode ``\s`` spelt out as the characters themselves: pandas hands a pattern
# with ``\s`` (or a ``\u`` escape) to Python's ``re`` value by value, this one to Arrow's RE2.
WHITESPACE_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
WHITESPACE = f"[{WHITESPACE_CHARS}]"


def normalise_ids(values: pd.Series, suffix_digits: int = 0) -> pd.DataFrame:
    """Normalise delivered ID numbers and compute what checking them needs.

    Returns a frame aligned with ``values``: ``id`` (full-width → ASCII, spaces removed,
    upper-case X, 15 digits upgraded to 18; empty → missing; anything else kept as cleaned
    so a format check can report it), ``check`` (its last character) and ``expected`` (the
    check character its first 17 digits call for; missing when it is not 17 digits + 1),
    ``suffix`` (the trailing digits of e.g. a disability certificate number), and boolean
    ``full_width``, ``spaces``, ``lower_x``, ``upgraded_15`` marking what was repaired.
    """
    s = values.astype("str") if values.dtype != "str" else values
    s = s.fillna("")
    non_ascii = s.str.contains(r"[^\x00-\x7f]", regex=True)
    full_width = non_ascii & s.str.contains("[\uff10-\uff19\uff38\uff58\u3000]", regex=True)
    if non_ascii.any():  # rare: translate only those rows
        s = s.where(~non_ascii, s[non_ascii].str.translate(_FULL_WIDTH))
    spaces = s.str.contains(WHITESPACE, regex=True)
    s = s.str.replace(f"{WHITESPACE}+", "", regex=True)
    lower_x = s.str.contains("x", regex=False)
    s = s.str.upper()
    suffix = pd.Series(pd.NA, index=s.index, dtype="str")
    if suffix_digits:
        whole = s.str.fullmatch(rf"{_ID_SHAPE}\d{{{suffix_digits}}}")
        suffix = suffix.where(~whole, s.str[18:])
        s = s.where(~whole, s.str[:18])
    is15 = s.str.fullmatch(r"\d{15}")
    if is15.any():
        old = s[is15]
        first17 = (old.str[:6] + "19" + old.str[6:]).to_numpy(dtype="S17")
        s = s.where(~is15, pd.Series(complete_vec(first17).astype(str), index=old.index))
    shaped = s.str.fullmatch(_ID_SHAPE)
    expected = pd.Series(pd.NA, index=s.index, dtype="str")
    if shaped.any():
        first17 = s[shaped].str[:17].to_numpy(dtype="S17")
        expected[shaped] = check_chars_vec(first17).astype(str)
    s = s.where(s != "", pd.NA)
    return pd.DataFrame(
        {
            "id": s,
            "check": s.str[17].where(shaped, pd.NA),
            "expected": expected,
            "suffix": suffix,
            "full_width": full_width.to_numpy(),
            "spaces": spaces.to_numpy(),
            "lower_x": lower_x.to_numpy(),
            "upgraded_15": is15.to_numpy(),
        },
        index=values.index,
    )


def birth_dates(ids: pd.Series) -> pd.Series:
    """Birth dates encoded in 18-character IDs (characters 7-14); NaT where not a date."""
    return pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")


def sexes(ids: pd.Series) -> pd.Series:
    """Sex encoded in 18-character IDs: character 17 odd → 'M', even → 'F'."""
    digit = pd.to_numeric(ids.str[16], errors="coerce")
    return pd.Series(np.where(digit % 2 == 1, "M", "F"), index=ids.index, dtype="str").where(
        digit.notna(), pd.NA
    )

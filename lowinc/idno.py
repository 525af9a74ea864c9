"""Resident ID numbers (GB 11643-1999): check characters, validation, 15→18 upgrade.

Vectorised forms work on numpy byte-string arrays (dtype ``S17``/``S18``) so millions of
numbers are made or checked without a Python loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lowinc.fixedwidth import arrow_strings, as_fixed, from_fixed

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

    Numbers already in shape (nearly all) are checked on Arrow's bytes as one
    (n, width) digit matrix; only the rest go through the string clean-up.
    """
    arr = arrow_strings(values)
    width = 18 + suffix_digits
    shape = rf"^[0-9]{{17}}[0-9X][0-9]{{{suffix_digits}}}$"
    clean = pc.fill_null(pc.match_substring_regex(arr, shape), False).to_numpy(zero_copy_only=False)
    n = len(arr)
    check = np.zeros(n, dtype="S1")
    expected = np.zeros(n, dtype="S1")
    has_check = clean.copy()
    mat = as_fixed(arr.filter(pa.array(clean)), width).view(np.uint8).reshape(-1, width)
    check[clean] = mat[:, 17].copy().view("S1")
    expected[clean] = _weighted_check(mat)
    ids = pc.utf8_slice_codeunits(arr, 0, 18) if suffix_digits else arr
    suffix = pa.nulls(n, pa.string())
    if suffix_digits:
        suffix = pc.if_else(pa.array(clean), pc.utf8_slice_codeunits(arr, 18, width), suffix)
    flags = {k: np.zeros(n, dtype=bool) for k in ("full_width", "spaces", "lower_x", "upgraded_15")}
    if not clean.all():
        rest = ~clean
        slow = _normalise_messy(pd.Series(pd.array(arr.filter(pa.array(rest)), dtype="str")), suffix_digits)
        mask = pa.array(rest)
        ids = pc.replace_with_mask(ids, mask, arrow_strings(slow["id"]))
        suffix = pc.replace_with_mask(suffix, mask, arrow_strings(slow["suffix"]))
        for col, out in (("check", check), ("expected", expected)):
            got = slow[col].fillna("").to_numpy(dtype="S1")
            out[rest] = got
        has_check[rest] = slow["expected"].notna().to_numpy()
        for k, v in flags.items():
            v[rest] = slow[k].to_numpy()
    return pd.DataFrame(
        {
            "id": pd.array(ids, dtype="str"),
            "check": from_fixed(check, has_check).array,
            "expected": from_fixed(expected, has_check).array,
            "suffix": pd.array(suffix, dtype="str"),
            **flags,
        },
        index=values.index,
    )


def _weighted_check(digits: np.ndarray) -> np.ndarray:
    """Check characters (S1) for a (n, >=17) matrix of ASCII digit bytes."""
    total = np.zeros(len(digits), dtype=np.int32)
    for i, w in enumerate(WEIGHTS):
        total += (digits[:, i].astype(np.int32) - ord("0")) * int(w)
    return _CHECK_BYTES[total % 11]


def _normalise_messy(values: pd.Series, suffix_digits: int) -> pd.DataFrame:
    """The string clean-up for numbers not already in shape (a few per thousand)."""
    s = values.fillna("")
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
            # pandas-stubs: where's `other` may be pd.NA; the stubs do not list NAType
            "check": s.str[17].where(shaped, pd.NA),  # type: ignore[call-overload]
            "expected": expected,
            "suffix": suffix,
            "full_width": full_width.to_numpy(),
            "spaces": spaces.to_numpy(),
            "lower_x": lower_x.to_numpy(),
            "upgraded_15": is15.to_numpy(),
        },
        index=values.index,
    )


def _id_digits(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(mask of 18-character numbers with 17 leading digits, their (k, 18) byte matrix)."""
    arr = arrow_strings(ids)
    ok = pc.fill_null(pc.match_substring_regex(arr, r"^[0-9]{17}[0-9X]$"), False)
    mat = as_fixed(arr.filter(ok), 18).view(np.uint8).reshape(-1, 18)
    return ok.to_numpy(zero_copy_only=False), mat


def _number(mat: np.ndarray, first: int, last: int) -> np.ndarray:
    """The decimal number in characters ``first``..``last`` (inclusive) of a digit matrix."""
    out = np.zeros(len(mat), dtype=np.int32)
    for i in range(first, last + 1):
        out = out * 10 + (mat[:, i].astype(np.int32) - ord("0"))
    return out


def birth_dates(ids: pd.Series) -> pd.Series:
    """Birth dates encoded in 18-character IDs (characters 7-14); NaT where not a date."""
    ok, d = _id_digits(ids)
    year, month, day = _number(d, 6, 9), _number(d, 10, 11), _number(d, 12, 13)
    good = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    first = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    date = first.astype("datetime64[D]") + (day - 1)
    good &= date.astype("datetime64[M]") == first  # 31 February rolls into March: not a date
    out = np.full(len(ok), np.datetime64("NaT"), dtype="datetime64[us]")
    out[ok] = np.where(good, date, np.datetime64("NaT")).astype("datetime64[us]")
    return pd.Series(out, index=ids.index)


def sexes(ids: pd.Series) -> pd.Series:
    """Sex encoded in 18-character IDs: character 17 odd → 'M', even → 'F'."""
    ok, d = _id_digits(ids)
    sex = np.full(len(ok), None, dtype=object)
    sex[ok] = np.where(_number(d, 16, 16) % 2 == 1, "M", "F")
    return pd.Series(sex, index=ids.index, dtype="str")

"""Fixed-width strings (ID numbers, keyed hashes) as numpy byte arrays, and exact lookup.

Arrow keeps a string column as one data buffer plus offsets; when every value has the
same width the buffer *is* a numpy ``S<width>`` array, so millions of ID numbers or
pseudonyms can be checked, hashed and looked up with array operations instead of one
Python string per value. :class:`KeyIndex` finds such keys in a set of known ones with a
sorted 64-bit digest and an exact comparison of the bytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

_MIX = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio: spreads bits when multiplied


def arrow_strings(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.StringArray:
    """One contiguous Arrow string array (32-bit offsets) of a column."""
    if isinstance(values, pd.Series):
        values = pa.array(values.array) if values.dtype == "str" else pa.array(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


def is_width(values: pa.StringArray, width: int) -> bool:
    """True when no value is missing and every value is exactly ``width`` bytes."""
    if values.null_count:
        return False
    offsets = np.frombuffer(values.buffers()[1], np.int32, len(values) + 1, values.offset * 4)
    return bool((np.diff(offsets) == width).all())


def as_fixed(values: pd.Series | pa.Array | pa.ChunkedArray, width: int) -> np.ndarray:
    """The values as a numpy ``S<width>`` array (a view of Arrow's buffer when it can be).

    Raises ValueError when a value is missing or not exactly ``width`` bytes long."""
    arr = arrow_strings(values)
    if not is_width(arr, width):
        raise ValueError(f"not every value is {width} bytes")
    if not len(arr):
        return np.array([], dtype=f"S{width}")
    start = int(np.frombuffer(arr.buffers()[1], np.int32, 1, arr.offset * 4)[0])
    data = np.frombuffer(arr.buffers()[2], np.uint8, len(arr) * width, start)
    return data.view(f"S{width}")


def from_fixed(fixed: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """A pandas string column from a numpy ``S<width>`` array (ASCII), without a Python
    loop; missing where ``valid`` is False."""
    width = fixed.dtype.itemsize
    offsets = np.arange(0, width * len(fixed) + 1, width, dtype=np.int32)
    nulls = None if valid is None or valid.all() else pa.array(valid).buffers()[1]
    arr = pa.StringArray.from_buffers(
        len(fixed),
        pa.py_buffer(offsets),
        pa.py_buffer(np.ascontiguousarray(fixed).tobytes()),
        nulls,
        null_count=-1 if nulls is not None else 0,
    )
    return pd.Series(pd.array(arr, dtype="str"))


def _words(fixed: np.ndarray) -> np.ndarray:
    """(n, k) uint64 words of the bytes, zero-padded to a multiple of 8."""
    width = fixed.dtype.itemsize
    raw = np.ascontiguousarray(fixed).view(np.uint8).reshape(len(fixed), width)
    pad = -width % 8
    if pad:
        raw = np.concatenate([raw, np.zeros((len(fixed), pad), np.uint8)], axis=1)
    return raw.view(np.uint64)


def digest64(fixed: np.ndarray) -> np.ndarray:
    """A 64-bit mixing digest per value (not cryptographic: a lookup key)."""
    words = _words(fixed)
    out = np.zeros(len(fixed), np.uint64)
    for j in range(words.shape[1]):
        out = (out ^ words[:, j]) * _MIX  # uint64 arithmetic wraps, as intended
    return out ^ (out >> np.uint64(29))


class KeyIndex:
    """Exact positions of fixed-width keys in a set of distinct known keys.

    Keys are looked up by a 64-bit digest in a hash table (pandas keeps it on the Index)
    and confirmed by comparing their bytes; in the rare set where two known keys share a
    digest (~n²/2^65), by a hash table on the bytes themselves.
    """

    def __init__(self, known: np.ndarray) -> None:
        self.known = known
        self._digests = pd.Index(digest64(known))
        self._exact = None if self._digests.is_unique else pd.Index(known)

    def __len__(self) -> int:
        return len(self.known)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Position in ``known`` of each key, -1 where it is not known."""
        if self._exact is not None:
            return np.asarray(self._exact.get_indexer(keys))
        pos = self._digests.get_indexer(digest64(keys))
        found = pos >= 0
        found[found] = self.known[pos[found]] == keys[found]
        return np.where(found, pos, -1)


class GrowingKeyIndex:
    """A :class:`KeyIndex` that takes new keys often: they go to a small second index,
    folded into the large one once it has grown by a tenth, so adding a few keys does not
    rebuild the hash table of millions."""

    def __init__(self, width: int) -> None:
        self.width = width
        self._main = KeyIndex(np.array([], dtype=f"S{width}"))
        self._recent = KeyIndex(np.array([], dtype=f"S{width}"))

    def __len__(self) -> int:
        return len(self._main) + len(self._recent)

    def add(self, new: np.ndarray) -> None:
        """Append distinct keys not yet held; they get the next positions."""
        recent = np.concatenate([self._recent.known, new])
        if len(recent) * 10 > len(self._main):
            self._main, recent = KeyIndex(np.concatenate([self._main.known, recent])), recent[:0]
        self._recent = KeyIndex(recent)

    def find(self, keys: np.ndarray) -> np.ndarray:
        pos = self._main.find(keys)
        missing = pos < 0
        if missing.any() and len(self._recent):
            got = self._recent.find(keys[missing])
            pos[missing] = np.where(got >= 0, got + len(self._main), -1)
        return pos

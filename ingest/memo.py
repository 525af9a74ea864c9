"""What one process remembers between the files and months it ingests.

Ingesting a month needs the keys accepted in earlier months (a settlement id delivered
again is a duplicate) and the hukou register as at the end of the month before; ingesting
every month in one process would re-read both for each month. A memo keeps them, checks
every remembered partition against the file on disk (its modification time and size) and
reads again whatever changed, so a month re-ingested by another process is never served
stale. It also holds the pseudonymiser, so an ID number is hashed once per process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ingest import link, store
from ingest.tables import HUKOU_BASE, HUKOU_CHANGES
from lowinc.pseudonym import Pseudonymiser
from lowinc.sources import FileSpec

Signature = tuple[int, int] | None


def signature(path: Path) -> Signature:
    """(modification time, size) of a file, None when absent."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def partition_file(base: Path, table: str, month: str) -> Path:
    return store.partition_dir(base, table, month) / store.PART


def key_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One hash per row of the key columns (the same for a frame in memory and read back)."""
    hashes: np.ndarray = pd.util.hash_pandas_object(frame[columns].astype("str"), index=False).to_numpy()
    return hashes


@dataclass
class _RegisterAt:
    months: dict[str, tuple[Signature, Signature]]  # the hukou partitions it was built from
    register: link.Register


@dataclass
class IngestMemo:
    pseudonyms: Pseudonymiser
    _keys: dict[tuple[str, str], tuple[Signature, np.ndarray]] = field(default_factory=dict)
    _merged: dict[str, tuple[list[tuple[str, Signature]], np.ndarray]] = field(default_factory=dict)
    _register: _RegisterAt | None = None

    # --- unique keys of earlier deliveries ----------------------------------------------

    def remember_keys(self, canonical: Path, spec: FileSpec, month: str, frame: pd.DataFrame) -> None:
        """Keys of a partition just written (saves reading it back next month)."""
        if spec.unique_key and spec.unique_across_months:
            columns = [spec.canonical_name(c) for c in spec.unique_key]
            sig = signature(partition_file(canonical, spec.table, month))
            self._keys[(spec.table, month)] = (sig, np.sort(key_hashes(frame, columns)))

    def earlier_keys(self, canonical: Path, spec: FileSpec, month: str) -> np.ndarray:
        """Hashes of the unique keys accepted in delivery months before ``month`` (sorted,
        merged once and then extended month by month)."""
        if not (spec.unique_key and spec.unique_across_months):
            return np.array([], dtype=np.uint64)
        columns = [spec.canonical_name(c) for c in spec.unique_key]
        wanted = []
        for m in store.months_of(canonical, spec.table):
            if m >= month:
                continue
            sig = signature(partition_file(canonical, spec.table, m))
            cached = self._keys.get((spec.table, m))
            if cached is None or cached[0] != sig:
                frame = store.read_partitions(canonical, spec.table, [m], columns)
                self._keys[(spec.table, m)] = (sig, np.sort(key_hashes(frame, columns)))
            wanted.append((m, sig))
        have, merged = self._merged.get(spec.table, ([], np.array([], dtype=np.uint64)))
        if have != wanted[: len(have)]:
            have, merged = [], np.array([], dtype=np.uint64)
        if len(have) < len(wanted):
            more = [self._keys[(spec.table, m)][1] for m, _ in wanted[len(have) :]]
            merged = np.sort(np.concatenate([merged, *more]), kind="stable")  # sorted runs: a merge
            self._merged[spec.table] = (wanted, merged)
        return merged

    # --- the hukou register ---------------------------------------------------------------

    def register_through(self, canonical: Path, month: str) -> link.Register:
        """The register as at the end of ``month`` from the hukou partitions known by then:
        the remembered one advanced by the months since, or built again when a partition
        it was built from changed."""
        months = sorted(
            {m for t in (HUKOU_BASE, HUKOU_CHANGES) for m in store.months_of(canonical, t) if m <= month}
        )
        sigs = {
            m: (
                signature(partition_file(canonical, HUKOU_BASE, m)),
                signature(partition_file(canonical, HUKOU_CHANGES, m)),
            )
            for m in months
        }
        at = self._register
        if (
            at is None
            or any(sigs.get(m) != s for m, s in at.months.items())
            or max(at.months, default="") > month
        ):
            at = _RegisterAt({}, link.Register())
        self._register = None  # until advanced without error
        for m in months:
            if m in at.months:
                continue
            base = store.read_partitions(canonical, HUKOU_BASE, [m])
            changes = store.read_partitions(canonical, HUKOU_CHANGES, [m])
            end = pd.Timestamp(f"{m}-01") + pd.offsets.MonthEnd(0)
            at.register.advance(link.hukou_events(base, changes), end)
            at.months[m] = sigs[m]
        self._register = at
        return at.register


_memos: dict[tuple[str, str], IngestMemo] = {}


def memo_for(home: Path, key: bytes) -> IngestMemo:
    """The process's memo for one project home and pseudonym key."""
    ident = (str(Path(home).resolve()), hashlib.sha256(key).hexdigest())
    if ident not in _memos:
        _memos[ident] = IngestMemo(Pseudonymiser(key))
    return _memos[ident]

"""Configuration of ingest (``ingest:`` in configs/ingest.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from lowinc.section import Section


class IngestConfig(Section):
    """Reading department deliveries (the source definitions live in <config dir>/sources/)."""

    # None: ``sources`` in the configuration folder; a relative path is taken from that folder
    sources_dir: Path | None = None
    # parse a date written in another of the contract's formats (counted as repaired)
    # rather than quarantining it
    fallback_dates: bool = True
    # processes reading sources side by side (each source always in the same one);
    # 0: one per core
    workers: int = Field(default=0, ge=0)
    # after an ingest, the data team is told of every source and month whose quarantined
    # rows are more than this share of the rows delivered (besides rejected and missing files)
    notice_quarantine_share: float = Field(default=0.02, ge=0, le=1)

"""What the data team must hear after an ingest: rejected and missing files, folders that are
not months, and sources whose quarantine share is above the configured threshold.

Pure (month reports in, text out). A run whose files were all read hears nothing: only what
someone has to fix is sent. The text holds file names, counts and reasons only, never a
delivered value: a rejection reason is cut short, and anything shaped like an ID number
(15 to 18 digits) is blanked, whatever a reader put in it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.report import MonthReport

MAX_LINES = 20  # per section; the month reports hold the rest
MAX_REASON = 120
_ID_LIKE = re.compile(r"\d{15,17}[\dXx]?")


@dataclass(frozen=True)
class IngestNotice:
    """The notice's title and lines, and the months it speaks of."""

    title: str
    lines: tuple[str, ...]
    months: tuple[str, ...]


def safe_reason(text: str, limit: int = MAX_REASON) -> str:
    """A reason safe to send: one line, at most ``limit`` characters, nothing shaped like an
    ID number (also used by monitoring.quality for the data-quality notice)."""
    one = " ".join(text.split())
    one = _ID_LIKE.sub("…", one)
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _section(heading: str, items: list[str]) -> list[str]:
    if not items:
        return []
    shown = [f"- {item}" for item in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        shown.append(f"- … and {len(items) - MAX_LINES} more (see the month reports)")
    return [f"{heading} ({len(items)}):", *shown]


def _quarantine_shares(report: MonthReport, threshold: float) -> list[str]:
    """Sources of one month whose quarantined rows exceed ``threshold`` of the rows read,
    with their most frequent reasons."""
    rows: Counter[str] = Counter()
    quarantined: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    for f in report.files:
        rows[f.source] += f.rows_in
        quarantined[f.source] += f.quarantined
        kinds.setdefault(f.source, Counter()).update(f.quarantined_by_reason)
    out = []
    for source in sorted(rows):
        if rows[source] and quarantined[source] / rows[source] > threshold:
            top = sorted(kinds[source].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            out.append(
                f"{report.month} {source}: {quarantined[source] / rows[source]:.1%} quarantined "
                f"({quarantined[source]:,} of {rows[source]:,} rows; failures: "
                + ", ".join(f"{k} {n:,}" for k, n in top)
                + ")"
            )
    return out


def ingest_notice(reports: list[MonthReport], quarantine_share: float) -> IngestNotice | None:
    """The data team's notice for the months one ingest wrote, or None when all is well."""
    if not reports:
        return None
    files = [(r.month, f) for r in reports for f in r.files]
    rejected = [
        f"{month} {f.source}/{f.file}: {safe_reason(f.message)}"
        for month, f in files
        if f.status == "rejected"
    ]
    missing = [f"{month} {f.source}/{f.file}" for month, f in files if f.status == "missing"]
    folders = sorted({(g.source, g.folder, g.reason) for r in reports for g in r.ignored_folders})
    ignored = [f"raw/{source}/{folder}: {reason}" for source, folder, reason in folders]
    shares = [line for r in reports for line in _quarantine_shares(r, quarantine_share)]
    if not (rejected or missing or ignored or shares):
        return None
    months = tuple(sorted(r.month for r in reports))
    span = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
    counts = [
        (len(rejected), "rejected files"),
        (len(missing), "missing files"),
        (len(ignored), "ignored folders"),
        (len(shares), f"sources over {quarantine_share:.0%} quarantined"),
    ]
    title = f"lowinc: ingest {span}: " + ", ".join(f"{n} {what}" for n, what in counts if n)
    lines = [
        f"Ingest of {span} ({len(months)} month{'s' if len(months) > 1 else ''}) finished; "
        "the data team has something to fix.",
        *_section("Rejected files", rejected),
        *_section("Missing files", missing),
        *_section("Ignored folders (not months, not read)", ignored),
        *_section(f"Quarantine share above {quarantine_share:.0%}", shares),
        "Month reports: <home>/reports/ingest/<month>.md",
    ]
    return IngestNotice(title, tuple(lines), months)

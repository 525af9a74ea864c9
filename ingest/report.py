"""The ingest report: per delivered file, rows in and where every one of them went."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FileReport:
    """One delivered (or missing, or rejected) file of one month."""

    source: str
    table: str
    file: str
    status: str  # ingested | rejected | missing
    message: str = ""
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)  # failures per kind
    duplicates: int = 0
    repaired: dict[str, int] = field(default_factory=dict)
    unlinked: int = 0  # accepted rows whose person is not in the area's hukou
    extra_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Nothing lost silently: every row in is accepted, quarantined or a duplicate."""
        total = self.accepted + self.quarantined + self.duplicates
        if self.rows_in != total:
            raise AssertionError(
                f"{self.source}/{self.file}: rows_in {self.rows_in} != accepted {self.accepted}"
                f" + quarantined {self.quarantined} + duplicates {self.duplicates}"
            )


@dataclass(frozen=True)
class IgnoredFolder:
    """A folder under ``raw/<source>/`` that is not a delivery month, so nothing in it is read
    (``2022-13``, ``2022-8``, ``backup``): listed so that a misnamed delivery is seen."""

    source: str
    folder: str
    reason: str


@dataclass
class MonthReport:
    month: str
    files: list[FileReport]
    # folders under the raw root's sources that no run reads, as found when the report was written
    ignored_folders: list[IgnoredFolder] = field(default_factory=list)

    def check(self) -> None:
        for f in self.files:
            f.check()

    def totals(self) -> dict[str, int]:
        keys = ("rows_in", "accepted", "quarantined", "duplicates", "unlinked")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys} | {
            "rejected_files": sum(f.status == "rejected" for f in self.files),
            "missing_files": sum(f.status == "missing" for f in self.files),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "totals": self.totals(),
            "files": [asdict(f) for f in self.files],
            "ignored_folders": [asdict(f) for f in self.ignored_folders],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=False)

    def to_markdown(self) -> str:
        t = self.totals()
        lines = [
            f"# Ingest {self.month}",
            "",
            f"rows in {t['rows_in']:,} = accepted {t['accepted']:,} + quarantined "
            f"{t['quarantined']:,} + duplicates {t['duplicates']:,}; unlinked {t['unlinked']:,}; "
            f"rejected files {t['rejected_files']}; missing files {t['missing_files']}",
            "",
            "| source | file | status | rows in | accepted | quarantined | duplicates | unlinked | reasons |",
            "|---|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for f in self.files:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(f.quarantined_by_reason.items()))
            if f.message:
                reasons = (reasons + "; " if reasons else "") + f.message
            lines.append(
                f"| {f.source} | {f.file} | {f.status} | {f.rows_in} | {f.accepted} | "
                f"{f.quarantined} | {f.duplicates} | {f.unlinked} | {reasons} |"
            )
        if self.ignored_folders:
            lines += ["", "Ignored folders (not read):", ""]
            lines += [f"- {f.source}/{f.folder}: {f.reason}" for f in self.ignored_folders]
        return "\n".join(lines) + "\n"


def month_report_from_dict(data: dict[str, Any]) -> MonthReport:
    """A report read back from its JSON; reports written before ``ignored_folders`` existed
    read as having none."""
    return MonthReport(
        data["month"],
        [FileReport(**f) for f in data["files"]],
        [IgnoredFolder(**f) for f in data.get("ignored_folders", [])],
    )

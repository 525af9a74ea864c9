"""The project home's layout: the one place that names its folders and fixed files.

Every stage reads and writes under one home (``settings.home``, ``LOWINC_HOME``)::

    raw/                      department extracts as delivered (the simulator writes them)
    truth/                    the simulator's ground truth (never read by production)
    canonical/                ingest's typed, pseudonymised tables
    quarantine/               rows ingest refused, whole
    secure/                   the pseudonym key; secure/identity/ the identity tables and
                              people_latest.parquet, each person's latest identity row
    reports/ingest/           one report per source and month
    reports/monitoring/       the monthly drift reports; state/: each delivery month as first assessed
    features/snapshots/       point-in-time feature snapshots
    features/truth/           the snapshots' evaluation-only truth labels
    scores/as_of=YYYY-MM-DD/  scores and the visit list of an as-of date
    mlflow/                   the embedded tracking store (mlflow.db, artifacts/)
    outreach/                 outreach.db, the local inbox/ and the exports/ (Excel visit lists)
    prefect/                  PREFECT_HOME of the embedded default

A module that needs a folder asks a :class:`HomeLayout` (``settings.layout``) for it, so
a folder is renamed or moved here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

SCORES_FILE = "scores.parquet"
VISIT_LIST_FILE = "visit_list.parquet"
ENTITLEMENTS_FILE = "entitlements.parquet"
RECIPIENT_CHECKS_FILE = "recipient_checks.parquet"
UNLINKED_LIST_FILE = "unlinked_list.parquet"


@dataclass(frozen=True)
class HomeLayout:
    """The folders and fixed files of one home (paths only: nothing is created here)."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def canonical(self) -> Path:
        return self.root / "canonical"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def secure(self) -> Path:
        return self.root / "secure"

    @property
    def identity(self) -> Path:
        return self.secure / "identity"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def ingest_reports(self) -> Path:
        return self.reports / "ingest"

    @property
    def monitoring_reports(self) -> Path:
        return self.reports / "monitoring"

    @property
    def monitoring_state(self) -> Path:
        return self.monitoring_reports / "state"

    @property
    def features(self) -> Path:
        return self.root / "features"

    @property
    def snapshots(self) -> Path:
        return self.features / "snapshots"

    @property
    def feature_truth(self) -> Path:
        return self.features / "truth"

    @property
    def scores(self) -> Path:
        return self.root / "scores"

    def scores_at(self, as_of: dt.date | str) -> Path:
        """The folder of one as-of date's scores and visit list (``as_of=YYYY-MM-DD``); a
        string is taken as already written YYYY-MM-DD (a flow parameter)."""
        day = as_of if isinstance(as_of, str) else f"{as_of:%Y-%m-%d}"
        return self.scores / f"as_of={day}"

    def scores_file(self, as_of: dt.date | str) -> Path:
        """The scores the scoring step writes for an as-of date."""
        return self.scores_at(as_of) / SCORES_FILE

    def visit_list(self, as_of: dt.date | str) -> Path:
        """The visit list the scoring step writes for an as-of date."""
        return self.scores_at(as_of) / VISIT_LIST_FILE

    def recipient_checks(self, as_of: dt.date | str) -> Path:
        """The re-verification lists (核查, 渐退) of an as-of date."""
        return self.scores_at(as_of) / RECIPIENT_CHECKS_FILE

    def dates_with(self, file_name: str) -> list[dt.date]:
        """The as-of dates whose scores folder holds ``file_name`` (SCORES_FILE, ...), oldest
        first; a folder whose name is not ``as_of=YYYY-MM-DD`` (a write in progress) is not one."""
        if not self.scores.exists():
            return []
        days = []
        for path in self.scores.glob(f"as_of=*/{file_name}"):
            try:
                days.append(dt.date.fromisoformat(path.parent.name.removeprefix("as_of=")))
            except ValueError:
                continue
        return sorted(days)

    def visit_lists_before(self, as_of: dt.date) -> list[Path]:
        """The visit lists of every as-of date before ``as_of``, oldest first."""
        limit = dt.date(as_of.year, as_of.month, as_of.day)  # a date, a datetime or a pd.Timestamp
        return [self.visit_list(day) for day in self.dates_with(VISIT_LIST_FILE) if day < limit]

    def entitlements_file(self, as_of: dt.date | str) -> Path:
        """The entitlement check (应救尽救) of an as-of date: keys and codes, no names."""
        return self.scores_at(as_of) / ENTITLEMENTS_FILE

    def unlinked_list(self, as_of: dt.date | str) -> Path:
        """The list of people living in the area without local hukou (keys and codes only)."""
        return self.scores_at(as_of) / UNLINKED_LIST_FILE

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def mlflow_db(self) -> Path:
        return self.mlflow / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.mlflow / "artifacts"

    @property
    def outreach(self) -> Path:
        return self.root / "outreach"

    @property
    def outreach_db(self) -> Path:
        return self.outreach / "outreach.db"

    @property
    def inbox(self) -> Path:
        return self.outreach / "inbox"

    @property
    def exports(self) -> Path:
        return self.outreach / "exports"

    @property
    def prefect(self) -> Path:
        return self.root / "prefect"

    @property
    def personal_data(self) -> tuple[Path, ...]:
        """The top folders that hold personal data (pseudonymised data is still personal
        data): owner-only whatever the umask (:mod:`lowinc.private`)."""
        return (
            self.raw,
            self.truth,
            self.canonical,
            self.quarantine,
            self.secure,
            self.outreach,
            self.reports,
            self.features,
            self.scores,
        )

    @property
    def outputs(self) -> tuple[Path, ...]:
        """The folders whose every file is an output of the default region, the same for the
        same code and seed: department extracts and truth, ingest's tables, identity map and
        reports, feature snapshots and their truth, scores and visit lists. Not ``mlflow/``
        (run ids, timestamps, model files) nor ``outreach/`` (database ids, clock times)."""
        return (
            self.raw,
            self.truth,
            self.canonical,
            self.quarantine,
            self.identity,
            self.ingest_reports,
            self.snapshots,
            self.feature_truth,
            self.scores,
        )

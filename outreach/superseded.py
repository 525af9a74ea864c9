"""Records that are corrected by a new row (``supersedes_id``), never overwritten: the one join
that keeps a record's current version (the row no other row supersedes).

    newer = Newer(VisitOutcome)
    select(VisitOutcome).outerjoin(*newer.join).where(newer.current)
"""

from __future__ import annotations

from typing import Any


class Newer:
    """The correction of a record, if any: outer-joined, a row without one is current."""

    def __init__(self, model: Any) -> None:
        from sqlalchemy.orm import aliased

        self.alias = aliased(model)
        self.join = (self.alias, self.alias.supersedes_id == model.id)
        self.current = self.alias.id.is_(None)

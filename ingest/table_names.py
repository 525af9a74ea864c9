"""Names of the tables that ingest treats apart from the delivered ones: the hukou register's
two sources (read to link people to households) and the three tables ingest writes itself.

Here, not in a stage, so that linking, the memo and the outreach heads (who reads the
households) all spell them once.
"""

from __future__ import annotations

HUKOU_BASE = "hukou_base"  # the register as delivered in full
HUKOU_CHANGES = "hukou_changes"  # the register's monthly changes
HUKOU_TABLES = (HUKOU_BASE, HUKOU_CHANGES)
HOUSEHOLDS_TABLE = "households"  # each person's hukou household at the end of a month
UNLINKED_TABLE = "unlinked"  # rows of people outside the hukou register
EXTRAS_TABLE = "extra_columns"  # undeclared delivered columns, kept under quarantine/

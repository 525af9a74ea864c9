"""Contacts of households for a visit list: who to ask for at the door (the head, or the member
who stands in when the head left the hukou, died or was never delivered).

Built on :mod:`outreach.members`, the one place a list meets the protected identity table: the
frames here carry masked IDs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lowinc.home import HomeLayout
from outreach.members import choose_contacts, household_members

HEADS_COLUMNS = ["household_key", "head_id_no", "head_name"]


def household_contacts(
    home: Path, as_of: pd.Timestamp, household_keys: Sequence[str] | None = None
) -> pd.DataFrame:
    """(household_key, head_name, head_id_masked, address, group_name, stand_in) for every
    household registered before ``as_of`` (or only the given ones)."""
    return choose_contacts(household_members(HomeLayout(home), as_of, household_keys))


def household_heads(home: Path, as_of: pd.Timestamp) -> pd.DataFrame:
    """The contacts in the export's heads shape (household_key, head_id_no, head_name); the ID
    column holds the masked ID (masking is idempotent, so the export's own masking keeps it)."""
    return heads_frame(household_contacts(home, as_of))


def heads_frame(contacts: pd.DataFrame) -> pd.DataFrame:
    return contacts.rename(columns={"head_id_masked": "head_id_no"})[HEADS_COLUMNS]

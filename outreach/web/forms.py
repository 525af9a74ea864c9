"""What the two record forms (a visit's outcome, a re-verification) share: reading the posted
fields within their limits, the visit date, and recording with the one-line refusal.

A refusal the user can mend (a :class:`lowinc.errors.UserError`) goes back onto the form; a
household outside the user's area (NotFound) or a denied action (AccessDenied) propagates, so
the app answers it as every page does (404, 403) and nothing of the household is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from lowinc.errors import AccessDenied, NotFound, UserError

MAX_CODES = 50  # needs or routes ticked on one form
CODE_CHARS = 30


@dataclass(frozen=True)
class Posted:
    """A posted form read defensively: a missing or non-text field is empty, each cut to a limit."""

    data: FormData

    def text(self, name: str, limit: int) -> str:
        value = self.data.get(name)
        return value[:limit] if isinstance(value, str) else ""

    def codes(self, name: str) -> list[str]:
        """The non-empty values of a multi-valued field (checkboxes), each and their number limited."""
        values = self.data.getlist(name)
        return [v[:CODE_CHARS] for v in values if isinstance(v, str) and v.strip()][:MAX_CODES]

    def flag(self, name: str) -> bool:
        return self.text(name, 5) == "1"


def posted_date(text: str) -> dt.date | None:
    """The form's date (YYYY-MM-DD), or None when it is not one."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


class RefusableForm(Protocol):
    error: str | None  # a message key of the page's locale, or a refusal's own line
    error_key: bool


def record_or_refuse(record: Callable[[], object], form: RefusableForm, done: str) -> RedirectResponse | None:
    """Run ``record``; on success the redirect (303) to ``done``, on a user's error None with the
    refusal's line on ``form`` (the caller re-renders the page with it)."""
    try:
        record()
    except (NotFound, AccessDenied):
        raise
    except UserError as error:
        form.error, form.error_key = error.message, False
        return None
    return RedirectResponse(done, status_code=303)

"""Errors a user can cause, and how the command line reports them.

Raise :class:`UserError` (or a subclass) for anything the person running a command can fix:
a bad argument, a missing prerequisite, an unknown key, an area they do not answer for. The
``lowinc`` entry point prints it as one line (what is wrong, and what to run) and exits 2; a
traceback appears only with ``--debug``. The message must never quote personal data.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; ``hint`` says what to run."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        """The one line the command line prints."""
        return f"{self.message} (run: {self.hint})" if self.hint else self.message


class AccessDenied(UserError, PermissionError):
    """The acting user may not do this, or may not see this area (always audited)."""


class NotFound(UserError, LookupError):
    """The thing asked for does not exist, or is outside the user's area (the same answer)."""


class BadValue(UserError, ValueError):
    """A value the user gave (an option, a configuration entry) that is not valid."""

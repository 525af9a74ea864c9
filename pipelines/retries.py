"""When a failed Prefect task is worth retrying: a file share that hiccups or a channel that is
down may work on the next attempt; a user's mistake (a bad month, a misconfigured user, a
missing prerequisite: :class:`~lowinc.errors.UserError`) fails the same way every time, so it
fails at once and says so, instead of after minutes of retry delays."""

from __future__ import annotations

from typing import Any

from lowinc.errors import UserError


def unless_user_error(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's ``retry_condition_fn``: retry unless the task failed with a UserError."""
    return not isinstance(getattr(state, "data", None), UserError)

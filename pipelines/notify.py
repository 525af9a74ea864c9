"""Flow failures reach the data team through the same channels as alerts (the users with role
``data_team`` in configs/outreach.yaml), besides showing as the run's state in Prefect."""

from __future__ import annotations

from typing import Any

from lowinc.settings import load_settings

MAX_DETAIL = 300  # the state's message, cut: enough to find the run, no room for row dumps


def notify_data_team(flow: Any, flow_run: Any, state: Any) -> None:
    """A Prefect on_failure / on_crashed hook: one message per data-team address."""
    from outreach.channels import send_message

    config = load_settings().outreach
    title = f"lowinc: flow {flow.name} {state.name}"
    detail = (state.message or "")[:MAX_DETAIL]
    body = f"Flow run {flow_run.name} ({flow_run.id}) ended {state.name}. {detail}"
    for user in config.users:
        if user.role != "data_team":
            continue
        for channel, address in user.addresses.items():
            send_message(channel, address, f"flow-{flow_run.id}-{state.name}", title, body, config)


FAILURE_HOOKS: dict[str, list[Any]] = {"on_failure": [notify_data_team], "on_crashed": [notify_data_team]}

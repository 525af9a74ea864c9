"""score_flow: score → explain → tier → lists (visits, recipients' checks, the unlinked list,
entitlements) → queue alerts → deliver. Plain functions first (the CLI calls them); the
Prefect flow wraps them, delivery as the deliver subflow."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pipelines.outreach.dispatch import deliver_due, queue_visit_list
from pipelines.outreach.flow import deliver_flow
from pipelines.score.entitlements import write_entitlements
from pipelines.score.recipients import check_recipients
from pipelines.score.scores import score_as_of
from pipelines.score.unlinked import list_unlinked
from pipelines.settings import Settings, load_settings


def run_id(as_of: str, model_version: str) -> str:
    """The outreach run id of a scoring run (alerts and messages are keyed apart from it)."""
    return f"score-{as_of}-v{model_version}"


def score_and_deliver(settings: Settings, as_of: str | None) -> dict[str, Any]:
    """Score, queue the visit list's alerts in the outreach database, deliver what is due."""
    run, scored = score_as_of(settings, as_of)
    return {
        "score": asdict(run),
        "recipients": asdict(check_recipients(settings, run.as_of)),
        "unlinked": asdict(list_unlinked(settings, run.as_of)),
        "entitlements": entitlement_summary(settings, run.as_of),
        "queue": queue_visit_list(scored.visit_list, run_id(run.as_of, run.model_version)),
        "deliver": deliver_due(),
    }


@task(name="score", task_run_name="score-{as_of}", cache_policy=NO_CACHE, timeout_seconds=3600)
def score_task(as_of: str | None) -> dict[str, Any]:
    run = asdict(score_as_of(load_settings(), as_of)[0])
    rows = "\n".join(f"| {t} | {n:,} |" for t, n in run["tiers"].items())
    create_markdown_artifact(
        key="score-summary",
        markdown=f"# Scores {run['as_of']} (model v{run['model_version']})\n\n| tier | households |\n"
        f"|---|---|\n{rows}\n\n{run['listed']:,} households on visit lists.",
        description="Households scored by tier (counts only)",
    )
    return run


@task(name="recipients", task_run_name="recipients-{as_of}", cache_policy=NO_CACHE, timeout_seconds=3600)
def recipients_task(as_of: str) -> dict[str, Any]:
    """The re-verification lists (核查, 渐退) of the scored month."""
    return asdict(check_recipients(load_settings(), as_of))


@task(name="unlinked", task_run_name="unlinked-{as_of}", cache_policy=NO_CACHE, timeout_seconds=3600)
def unlinked_task(as_of: str) -> dict[str, Any]:
    """The second list, of people living in the area without local hukou, of the scored month."""
    return asdict(list_unlinked(load_settings(), as_of))


def entitlement_summary(settings: Settings, as_of: str) -> dict[str, Any]:
    """The entitlement check (应救尽救) of the scored month, as counts."""
    return asdict(write_entitlements(settings, as_of))


@task(name="entitlements", task_run_name="entitlements-{as_of}", cache_policy=NO_CACHE, timeout_seconds=3600)
def entitlements_task(as_of: str) -> dict[str, Any]:
    return entitlement_summary(load_settings(), as_of)


@flow(name="score")
def score_flow(as_of: str | None = None) -> dict[str, Any]:
    """Score the snapshot of ``as_of`` (default: the latest), list recipients to re-verify and
    the people without local hukou, check entitlements, then queue and deliver."""
    run = score_task(as_of)
    recipients = recipients_task(run["as_of"])
    unlinked = unlinked_task(run["as_of"])
    entitlements = entitlements_task(run["as_of"])
    delivered = deliver_flow(as_of=run["as_of"], run_id=run_id(run["as_of"], run["model_version"]))
    return {
        "score": run,
        "recipients": recipients,
        "unlinked": unlinked,
        "entitlements": entitlements,
        **delivered,
    }

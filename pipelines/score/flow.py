"""score_flow: score → explain → tier → lists (→ queue alerts → deliver, once the outreach
database is configured). Plain functions first; the Prefect flow wraps them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from lowinc.settings import Settings, load_settings
from pipelines.score.run import score_as_of


def score_and_deliver(settings: Settings, as_of: str | None) -> dict[str, Any]:
    """Score, then hand the visit list to the outreach stage."""
    run, _ = score_as_of(settings, as_of)
    return {"score": asdict(run)}


@task(name="score", task_run_name="score-{as_of}")
def score_task(as_of: str | None) -> dict[str, Any]:
    summary = score_and_deliver(load_settings(), as_of)
    run = summary["score"]
    rows = "\n".join(f"| {t} | {n:,} |" for t, n in run["tiers"].items())
    create_markdown_artifact(
        key="score-summary",
        markdown=f"# Scores {run['as_of']} (model v{run['model_version']})\n\n| tier | households |\n"
        f"|---|---|\n{rows}\n\n{run['listed']:,} households on visit lists.",
        description="Households scored by tier (counts only)",
    )
    return summary


@flow(name="score")
def score_flow(as_of: str | None = None) -> dict[str, Any]:
    """Score the snapshot of ``as_of`` (default: the latest)."""
    return score_task(as_of)
